"""Live classes through a relay (streaming.live): flows, latency, loss, congestion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.run.builder import Run
from sim.scenario.loader import ScenarioError, load_scenario

MBPS = 1e6
TEACHER_UP = 20 * MBPS
STUDENT_DOWN = 50 * MBPS
T_ACCESS, S_ACCESS, EDGE_HOP, BACKHAUL = 0.001, 0.002, 0.0005, 0.012
ENCODE, DECODE, RELAY = 0.004, 0.003, 0.001


def scenario(count: int = 5, **live: Any) -> dict[str, Any]:
    workload = {"kind": "live_class", "name": "class", "teacher": "teacher",
                "students": ["students"], "bitrate": "2.5 Mbps", "frame_rate": "30 fps",
                "gop": 30, "key_ratio": 4, "encode": ENCODE, "decode": DECODE,
                "relay_delay": RELAY}
    workload.update(live)
    return {
        "name": "live", "seed": 2, "duration": 3.0,
        "output": {"tables": False, "plots": False},
        "nodes": [
            {"name": "agg", "kind": "router"},
            {"name": "mec1", "kind": "mec"},
            {"name": "cloud1", "kind": "cloud"},
            {"name": "teacher", "kind": "users", "count": 1, "attach": "agg",
             "access": {"bandwidth": TEACHER_UP, "delay": T_ACCESS}},
            {"name": "students", "kind": "users", "count": count, "attach": "agg",
             "access": {"bandwidth": STUDENT_DOWN, "delay": S_ACCESS}},
        ],
        "links": [
            {"a": "agg", "b": "mec1", "bandwidth": "10 Gbps", "delay": EDGE_HOP},
            {"a": "agg", "b": "cloud1", "bandwidth": "10 Gbps", "delay": BACKHAUL},
        ],
        "workloads": [workload],
    }


def run(tmp_path: Path, data: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = Run(load_scenario(path).scenario).execute()
    return out.tables["frames"], out.summary["frames"]["class"]


def glass_to_glass(size: float, hop: float) -> float:
    up = T_ACCESS + hop + 8 * size / TEACHER_UP
    down = hop + S_ACCESS + 8 * size / STUDENT_DOWN
    return ENCODE + up + RELAY + down + DECODE


def test_one_uplink_flow_and_one_downlink_flow_per_student(tmp_path: Path) -> None:
    n = 7
    frames, summary = run(tmp_path, scenario(count=n))
    sent = summary["frames_sent"]
    assert sent == 90
    assert len(frames["frame"]) == n * sent
    for k in range(sent):
        rows = frames["frame"] == k
        assert len(np.unique(frames["uplink_flow"][rows])) == 1
        down = frames["downlink_flow"][rows]
        assert len(np.unique(down)) == n and np.all(down >= 0)
        assert frames["uplink_flow"][rows][0] not in down
    assert summary["uplink_flows"] == sent
    assert summary["downlink_flows"] == n * sent
    # Every flow of the run is one of those.
    assert len(np.unique(np.concatenate([frames["uplink_flow"], frames["downlink_flow"]]))) \
        == sent * (n + 1)


def test_idle_glass_to_glass_latency_is_the_sum_of_its_components(tmp_path: Path) -> None:
    frames, summary = run(tmp_path, scenario())
    delta = 2.5e6 / 8 / (4 + 29)  # a GOP of 30 frames carries 1 s at 2.5 Mbit/s
    expected = np.where(frames["key"], glass_to_glass(4 * delta, EDGE_HOP),
                        glass_to_glass(delta, EDGE_HOP))
    assert np.allclose(frames["latency_s"], expected, rtol=0, atol=1e-12)
    # 4 encode + (1 + 0.5 + 3.788) up + 1 relay + (0.5 + 2 + 1.515) down + 3 decode, in ms
    assert glass_to_glass(delta, EDGE_HOP) == pytest.approx(0.017303, abs=1e-6)
    assert summary["lost_ratio"] == 0 and summary["deadline_miss_ratio"] == 0
    assert summary["effective_frame_rate"] == pytest.approx(30.0)
    assert summary["received_bitrate_bps"] == pytest.approx(2.5e6, rel=1e-9)


def test_a_cloud_relay_adds_the_backhaul_round_trip(tmp_path: Path) -> None:
    edge, _ = run(tmp_path, scenario(relay="mec1"))
    cloud, _ = run(tmp_path, scenario(relay="cloud1"))
    both = ~np.isnan(cloud["latency_s"])  # frames still in flight at the end have none
    assert both.sum() > 400
    assert np.allclose(cloud["latency_s"][both] - edge["latency_s"][both],
                       2 * (BACKHAUL - EDGE_HOP), rtol=0, atol=1e-12)


def test_students_get_frames_from_when_they_join(tmp_path: Path) -> None:
    frames, _ = run(tmp_path, scenario(count=20, start_spread="2 s"))
    counts = np.bincount(frames["user"], minlength=20)
    assert counts.min() < counts.max() <= 90
    for user in range(20):
        first = frames["t_capture"][frames["user"] == user].min()
        assert first < 2.0 + 1 / 30


def test_aimd_backs_off_on_a_narrow_uplink_where_constant_bitrate_drowns(
        tmp_path: Path) -> None:
    def narrow(congestion: str) -> dict[str, Any]:
        data = scenario(congestion=congestion, bitrate="3 Mbps", min_bitrate="300 kbps")
        data["duration"] = 30.0
        data["nodes"][3]["access"]["bandwidth"] = "2 Mbps"
        return data

    _, fixed = run(tmp_path, narrow("none"))
    _, aimd = run(tmp_path, narrow("aimd"))
    # 3 Mbit/s into 2 Mbit/s: the backlog grows by 1 Mbit/s, so after about a second
    # every frame is later than the 400 ms the receivers wait (lost, or overdue at the end).
    assert fixed["deadline_miss_ratio"] > 0.9
    assert aimd["deadline_miss_ratio"] < 0.05
    assert aimd["sent_bitrate_bps"] < 2e6
    assert aimd["latency_s"]["p95"] < 0.2


def test_link_loss_loses_frames_at_the_packet_rate(tmp_path: Path) -> None:
    data = scenario(count=10, gop=1, key_ratio=1)  # equal frames: 10,417 B, 9 packets
    data["duration"] = 30.0
    data["nodes"][4]["access"]["loss"] = 0.002
    frames, summary = run(tmp_path, data)
    expected = 1 - 0.998 ** 9
    n = len(frames["frame"])
    assert abs(frames["lost"].mean() - expected) < 4 * np.sqrt(expected / n)
    assert summary["lost_ratio"] == pytest.approx(frames["lost"].mean())


@pytest.mark.parametrize(("change", "where", "message"), [
    ({"teacher": "agg"}, "workloads[0].teacher", '"agg" is not a user group'),
    ({"students": ["teacher"]}, "workloads[0].students[0]", "the teacher's group"),
    ({"relay": "agg"}, "workloads[0].relay", "relay needs a mec or cloud node"),
    ({"min_bitrate": "5 Mbps"}, "workloads[0]", "must not exceed"),
])
def test_bad_live_classes_are_located_errors(tmp_path: Path, change: dict[str, Any],
                                             where: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(scenario(**change), sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "bad.yaml" in text and where in text and message in text, text


def test_aimd_does_not_take_key_frames_for_congestion(tmp_path: Path) -> None:
    # A 10 Mbit/s uplink, four times the target: no queue builds, but a key frame ten
    # times a delta frame takes longer to send.  Constant bitrate misses nothing, and
    # AIMD must not back off either.
    data = scenario(congestion="aimd", key_ratio=10)
    data["duration"] = 30.0
    data["nodes"][3]["access"]["bandwidth"] = "10 Mbps"
    _, summary = run(tmp_path, data)
    assert summary["deadline_miss_ratio"] == 0
    assert summary["sent_bitrate_bps"] >= 0.95 * 2.5e6


def test_effective_frame_rate_never_exceeds_the_frame_rate(tmp_path: Path) -> None:
    for session in ("10 ms", "1.01 s"):
        _, summary = run(tmp_path, scenario(session=session))
        assert summary["effective_frame_rate"] <= 30.0 + 1e-9, session
