"""The course video-on-demand workload driven by the engine (streaming.vod).

One learner on a fixed access link is attached directly to the MEC site, so each
segment fetch crosses only that link: the request (500 B) goes up, the segment comes
down, and the expected times follow from size / rate + delay per direction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.run.builder import Run
from sim.run.workload import Table
from sim.scenario.loader import ScenarioError, load_scenario

MBPS = 1e6
DELAY = 0.001  # one-way access delay (s)
REQUEST = 500.0  # bytes
SEG = 2.0  # segment duration (s)
LADDER = (1 * MBPS, 2.5 * MBPS, 5 * MBPS, 8 * MBPS, 12 * MBPS)

SCENARIO = """\
name: vod
seed: {seed}
duration: {duration} s
nodes:
  - {{name: mec1, kind: mec}}
  - name: learners
    kind: users
    count: {count}
    attach: mec1
    access: {{bandwidth: {rate} Mbps, delay: 1 ms}}
workloads:
  - kind: course_video
    name: lecture
    clients: [learners]
    start_spread: {spread} s
    segments: {segments}
    segment_duration: 2 s
    ladder: [1 Mbps, 2.5 Mbps, 5 Mbps, 8 Mbps, 12 Mbps]
    abr: {abr}
"""


def run(tmp_path: Path, **fields: Any) -> tuple[Table, dict[str, Any]]:
    values: dict[str, Any] = {"seed": 1, "duration": 60, "count": 1, "rate": 10,
                              "spread": 0, "segments": 5, "abr": "{name: throughput}"}
    values.update(fields)
    path = tmp_path / "vod.yaml"
    path.write_text(SCENARIO.format(**values), encoding="utf-8")
    out = Run(load_scenario(path).scenario).execute()
    return out.tables["segments"], out.summary["sessions"]["lecture"]


def fetch_time(level: int, rate: float) -> float:
    """Request up + segment down on a link of `rate` bit/s each way with DELAY each way."""
    size = LADDER[level] * SEG / 8
    return (DELAY + 8 * REQUEST / rate) + (DELAY + 8 * size / rate)


def test_throughput_rule_settles_below_the_delivered_rate(tmp_path: Path) -> None:
    rate = 10 * MBPS
    table, summary = run(tmp_path, segments=20,
                         abr="{name: throughput, params: {safety: 0.9, window: 5}}")
    # No sample yet: the lowest level.  Its throughput is 8 x 250 kB / fetch_time(0).
    first = 8 * LADDER[0] * SEG / 8 / fetch_time(0, rate)
    assert first == pytest.approx(9.880e6, rel=1e-3)
    # 0.9 x 9.88 Mbit/s = 8.89 Mbit/s: the 8 Mbit/s rung (index 3), and 8 Mbit/s
    # segments are delivered at 16 Mbit / 1.6024 s = 9.985 Mbit/s, which keeps it there.
    settled = 8 * LADDER[3] * SEG / 8 / fetch_time(3, rate)
    assert LADDER[3] <= 0.9 * first < LADDER[4]
    assert LADDER[3] <= 0.9 * settled < LADDER[4]
    assert list(table["level"]) == [0] + [3] * 19
    assert table["download_time"][0] == pytest.approx(fetch_time(0, rate), rel=1e-9)
    assert np.allclose(table["download_time"][1:], fetch_time(3, rate), rtol=1e-9)
    assert np.allclose(table["throughput_bps"][1:], settled, rtol=1e-9)
    assert summary["rebuffer_events"] == 0
    assert summary["rebuffer_time_s"] == 0.0
    assert summary["rebuffer_ratio_mean"] == 0.0
    assert summary["completed"] == 1
    assert summary["switches"] == 1
    assert summary["average_bitrate_bps"] == pytest.approx((LADDER[0] + 19 * LADDER[3]) / 20)
    # The buffer never exceeds max_buffer (30 s): the player waits for room.
    assert table["buffer_after"].max() <= 30.0


def test_fixed_level_above_the_link_rate_stalls_by_buffer_arithmetic(tmp_path: Path) -> None:
    rate = 4 * MBPS
    table, summary = run(tmp_path, rate=4, segments=5,
                         abr="{name: fixed, params: {level: 3}}")
    d = fetch_time(3, rate)  # 0.002 + 0.001 + 16 Mbit / 4 Mbit/s = 4.003 s
    assert d == pytest.approx(4.003)
    # Segment 0 arrives at d: playback starts (threshold one segment) with 2 s buffered.
    # Each later segment arrives d after the previous one, 2 s of which are played:
    # the player stalls d - 2 s before each of segments 1..4.
    assert np.allclose(table["download_time"], d, rtol=1e-9)
    assert np.allclose(table["t_done"], d * np.arange(1, 6), rtol=1e-9)
    assert summary["startup_delay_s"]["mean"] == pytest.approx(d)
    assert summary["rebuffer_events"] == 4
    assert summary["rebuffer_time_s"] == pytest.approx(4 * (d - SEG))
    played = 5 * SEG
    assert summary["rebuffer_ratio_mean"] == pytest.approx(
        4 * (d - SEG) / (4 * (d - SEG) + played))
    # Linear QoE: 5 x 8 - 0 switches - 12 x stall - 12 x startup (mu = mu_s = q(R_max)).
    assert summary["qoe_mean"] == pytest.approx(5 * 8 - 12 * 4 * (d - SEG) - 12 * d)


def test_same_seed_same_segments(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"count": 6, "spread": 5, "segments": 6, "duration": 30,
                              "rate": 20}
    a, sa = run(tmp_path, **kwargs)
    b, sb = run(tmp_path, **kwargs)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert sa == sb
    c, _ = run(tmp_path, seed=2, **kwargs)
    assert not np.array_equal(np.sort(a["t_request"]), np.sort(c["t_request"]))
    # Every session started within the spread and fetched all of its segments.
    firsts = a["t_request"][a["segment"] == 0]
    assert len(firsts) == 6 and firsts.min() >= 0 and firsts.max() <= 5
    assert len(a["segment"]) == 6 * 6


def test_serving_a_user_group_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    text = SCENARIO.format(seed=1, duration=10, count=1, rate=10, spread=0, segments=2,
                           abr="{name: throughput}")
    path.write_text(text.replace("clients: [learners]",
                                 "clients: [learners]\n    serve: learners"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="serve needs a mec or cloud node"):
        load_scenario(path)


def test_bad_abr_parameters_are_a_located_input_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli.main import main

    root = Path(__file__).resolve().parents[2]
    text = (root / "scenarios" / "hd_course_campus.yaml").read_text()
    data = yaml.safe_load(text)
    data["workloads"][0]["abr"] = {"name": "throughput", "params": {"safety": -1}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:" in err and "workloads[0].abr.params" in err and "safety" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
