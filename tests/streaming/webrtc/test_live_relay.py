"""The live mode with real processes on loopback: a sender, the relay and two
receivers, for a few seconds each.

What is checked comes from the settings, not from earlier output: frames arrive;
50 ms more delay on one receiver's leg shows as 50 ms more frame latency (and
100 ms more round-trip time, since the leg's access link delays both ways); a
5% loss shows as 5% RTP loss at that receiver; and no process is left behind,
also when the relay dies in the middle of the run or the run is interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT

from sim.cli.main import main
from sim.scenario.loader import load_scenario
from streaming.webrtc.plan import live_plan
from streaming.webrtc.supervisor import LiveError, LiveOptions, run_live

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SMALL = ["--size", "192x144"]
"""The smallest frame that holds a stamp: the codecs' CPU is a third of 320x240's, so
the tests leave the machine's second core mostly free."""


def two_class_scenario(path: Path, *, far_delay: str = "2 ms", far_loss: str = "0%") -> Path:
    """A teacher and two students, "near" and "far", through a MEC relay; the two
    students' access links differ only in what the test sets for "far"."""
    access = {"bandwidth": {"uplink": "20 Mbps", "downlink": "100 Mbps"}, "delay": "2 ms"}
    doc = {
        "name": "two_students", "seed": 3, "duration": "10 s", "warmup": "1 s",
        "nodes": [
            {"name": "agg", "kind": "router"},
            {"name": "mec", "kind": "mec"},
            {"name": "studio", "kind": "users", "count": 1, "attach": "agg", "access": access},
            {"name": "near", "kind": "users", "count": 1, "attach": "agg", "access": access},
            {"name": "far", "kind": "users", "count": 1, "attach": "agg",
             "access": {**access, "delay": far_delay, "loss": far_loss}},
        ],
        "links": [{"a": "agg", "b": "mec", "bandwidth": "10 Gbps", "delay": "0.5 ms"}],
        "workloads": [{"name": "lesson", "kind": "live_class", "teacher": "studio",
                       "students": ["near", "far"], "bitrate": "2.5 Mbps",
                       "max_latency": "1 s"}],
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _gone(pids: list[int]) -> list[int]:
    """The pids of `pids` that still exist."""
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def test_frames_arrive_and_50_ms_more_on_one_leg_shows(tmp_path: Path) -> None:
    scenario = two_class_scenario(tmp_path / "s.yaml", far_delay="52 ms")
    assert main(["live", str(scenario), "--duration", "6 s", "--out", str(tmp_path / "out"),
                 "--quiet", "--no-plots", *SMALL]) == 0
    folder = next((tmp_path / "out" / "two_students").glob("live-*"))
    frames = pq.read_table(folder / "tables" / "frames.parquet").to_pandas()
    summary = json.loads((folder / "summary.json").read_text())
    captured = frames.frame.nunique()  # frames the teacher captured in the window
    assert captured >= 170  # 6 s at 30 fps
    assert summary["frames"]["lesson"]["frames_sent"] >= captured
    for group in ("near", "far"):
        mine = frames[frames.group == group]
        assert len(mine) == captured
        assert (~mine.lost).mean() >= 0.9
        shown = mine.latency_s.dropna()
        assert shown.min() > 0 and shown.max() < 1.0
    p50 = frames.groupby("group").latency_s.median()
    assert p50["far"] - p50["near"] == pytest.approx(0.050, abs=0.010)
    rtt = {r["group"]: r["rtt_s"]["p50"] for r in summary["live"]["receivers"]}
    assert rtt["far"] - rtt["near"] == pytest.approx(0.100, abs=0.020)


def test_the_live_summary_has_the_simulated_summary_keys(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = two_class_scenario(tmp_path / "s.yaml")
    assert main(["run", str(scenario), "--out", str(tmp_path / "sim"), "--quiet",
                 "--no-plots"]) == 0
    capsys.readouterr()
    assert main(["live", str(scenario), "--duration", "3 s", "--out", str(tmp_path / "live"),
                 "--no-plots", "--receivers", "1", *SMALL]) == 0
    printed = capsys.readouterr().out
    assert "live measurements per receiver" in printed and "near[0]" in printed
    simulated = json.loads(next((tmp_path / "sim").glob("*/*/summary.json")).read_text())
    live = json.loads(next((tmp_path / "live").glob("*/live-*/summary.json")).read_text())
    assert set(live["frames"]["lesson"]) == set(simulated["frames"]["lesson"])
    assert set(live["frames"]["lesson"]["latency_s"]) == \
        set(simulated["frames"]["lesson"]["latency_s"])
    sim_cols = pq.read_schema(next((tmp_path / "sim").glob("*/*/tables/frames.parquet")))
    live_cols = pq.read_schema(next((tmp_path / "live").glob("*/live-*/tables/frames.parquet")))
    assert sim_cols.names == live_cols.names


def test_a_5_percent_loss_shows_as_5_percent_packet_loss(tmp_path: Path) -> None:
    scenario = two_class_scenario(tmp_path / "s.yaml", far_loss="5%")
    plan = live_plan(load_scenario(scenario, []).scenario, 2)
    # Full size: a 192x144 frame is too small to fill 2.5 Mbit/s, and the loss ratio
    # needs a thousand packets or more to be known within a point.
    result = run_live(plan, LiveOptions(duration=6.0))
    far = result.receivers[1]
    assert plan.receivers[1].group == "far"
    expected, received = far["packets_expected"], far["packets_received"]
    assert expected > 1000
    assert (expected - received) / expected == pytest.approx(0.05, abs=0.02)
    near = result.receivers[0]
    assert near["packets_expected"] - near["packets_received"] <= 0.005 * near["packets_expected"]


def test_a_dying_relay_fails_the_run_and_leaves_no_process(tmp_path: Path) -> None:
    plan = live_plan(load_scenario(two_class_scenario(tmp_path / "s.yaml"), []).scenario, 2)
    pids: dict[str, int] = {}

    def kill_relay_when(phase: str) -> None:
        if phase == "streaming":
            threading.Timer(1.0, os.kill, (pids["relay"], signal.SIGKILL)).start()

    started = time.monotonic()
    with pytest.raises(LiveError, match="the relay process was killed by SIGKILL while streaming"):
        run_live(plan, LiveOptions(duration=30.0, width=192, height=144, report=kill_relay_when,
                                   on_spawn=pids.__setitem__))
    assert time.monotonic() - started < 25.0  # failed at once, not at the end of the run
    assert set(pids) == {"relay", "sender", "receiver-0", "receiver-1"}
    assert _gone(list(pids.values())) == []


def test_a_peer_dying_while_results_are_collected_fails_at_once(tmp_path: Path) -> None:
    plan = live_plan(load_scenario(two_class_scenario(tmp_path / "s.yaml"), []).scenario, 2)
    pids: dict[str, int] = {}

    def kill_receiver_when(phase: str) -> None:
        if phase == "collecting results":
            os.kill(pids["receiver-1"], signal.SIGKILL)

    started = time.monotonic()
    with pytest.raises(LiveError, match="the receiver-1 process was killed by SIGKILL while "
                                        "collecting results"):
        run_live(plan, LiveOptions(duration=2.0, width=192, height=144,
                                   report=kill_receiver_when, on_spawn=pids.__setitem__))
    assert time.monotonic() - started < 15.0  # not after the 20 s step timeout
    assert _gone(list(pids.values())) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_every_process(tmp_path: Path, sig: signal.Signals) -> None:
    scenario = two_class_scenario(tmp_path / "s.yaml")
    temporary = set(Path(tempfile.gettempdir()).glob("edgestream-live-*"))
    cli = subprocess.Popen([sys.executable, str(ROOT / "run_sim.py"), "live", str(scenario),
                            "--duration", "60 s", "--out", str(tmp_path / "out"), *SMALL],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60.0
        while len(children) < 4 and time.monotonic() < deadline:
            time.sleep(0.5)
            children = _children(cli.pid)
        assert len(children) == 4, "the peers did not start"
        time.sleep(3.0)
        cli.send_signal(sig)
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert _gone(children) == []
    assert not any((tmp_path / "out").rglob("summary.json"))
    assert set(Path(tempfile.gettempdir()).glob("edgestream-live-*")) <= temporary


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields: Any = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


