"""VR lessons driven by the engine (streaming.vr).

The expected latencies are the sums of the components, worked out from the
flow model's transfer time (size / bottleneck rate + propagation delays): the
acceptance points of the streams issue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.run.builder import Run
from sim.scenario.loader import ScenarioError, load_scenario

MBPS = 1e6
UP, DOWN = 20 * MBPS, 200 * MBPS  # headset access rates
ACCESS, EDGE_HOP, BACKHAUL = 0.001, 0.0005, 0.015  # one-way delays (s)
RENDER, ENCODE, DECODE, DISPLAY = 0.005, 0.004, 0.003, 0.002
POSE = 100.0


def scenario(**vr: Any) -> dict[str, Any]:
    render = {"servers": 8, "service": {"vr_render": {"dist": "deterministic",
                                                      "value": RENDER}}}
    workload = {"kind": "vr_lesson", "name": "vr", "clients": ["headsets"],
                "bitrate": "30 Mbps", "frame_rate": "60 fps", "gop": 60, "key_ratio": 5,
                "encode": ENCODE, "decode": DECODE, "display": DISPLAY, "pose_size": POSE}
    workload.update(vr)
    return {
        "name": "vr", "seed": 1, "duration": 2.0,
        "output": {"tables": False, "plots": False},
        "nodes": [
            {"name": "agg", "kind": "router"},
            {"name": "mec1", "kind": "mec", "compute": render},
            {"name": "cloud1", "kind": "cloud", "compute": render},
            {"name": "headsets", "kind": "users", "count": 1, "attach": "agg",
             "access": {"bandwidth": {"uplink": UP, "downlink": DOWN}, "delay": ACCESS}},
        ],
        "links": [
            {"a": "agg", "b": "mec1", "bandwidth": "10 Gbps", "delay": EDGE_HOP},
            {"a": "agg", "b": "cloud1", "bandwidth": "10 Gbps", "delay": BACKHAUL},
        ],
        "workloads": [workload],
    }


def run(tmp_path: Path, data: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    path = tmp_path / "vr.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = Run(load_scenario(path).scenario).execute()
    return out.tables["frames"], out.summary["frames"]["vr"]


def mtp(frame_bytes: float, hop: float) -> float:
    """Motion-to-photon latency of an idle path whose site is `hop` beyond the access."""
    pose = ACCESS + hop + 8 * POSE / UP
    frame = ACCESS + hop + 8 * frame_bytes / DOWN
    return pose + RENDER + ENCODE + frame + DECODE + DISPLAY


def test_idle_motion_to_photon_is_the_sum_of_its_components(tmp_path: Path) -> None:
    frames, summary = run(tmp_path, scenario())
    delta = 30e6 / 8 / 64  # a GOP of 60 frames (one 5x key frame) carries 1 s at 30 Mbit/s
    key = 5 * delta
    assert len(frames["frame"]) == 120 and summary["frames"] == 120
    assert np.array_equal(frames["key"], frames["frame"] % 60 == 0)
    assert np.allclose(frames["bytes"], np.where(frames["key"], key, delta))
    expected = np.where(frames["key"], mtp(key, EDGE_HOP), mtp(delta, EDGE_HOP))
    assert np.allclose(frames["latency_s"], expected, rtol=0, atol=1e-12)
    # A delta frame, in ms: (1 + 0.5 + 0.04) pose + 5 render + 4 encode
    # + (0.5 + 1 + 2.34375) frame + 3 decode + 2 display = 19.38: inside the 20 ms
    # budget; a key frame (+ 4 x 2.34375) is not.
    assert mtp(delta, EDGE_HOP) == pytest.approx(0.01938375, abs=1e-9)
    assert summary["deadline_miss_ratio"] == pytest.approx(2 / 120)
    # The poses sample every frame interval.
    assert np.allclose(np.diff(frames["t_capture"]), 1 / 60)


def test_edge_rendering_beats_cloud_rendering_by_the_backhaul_round_trip(
        tmp_path: Path) -> None:
    edge, _ = run(tmp_path, scenario(serve="mec1"))
    cloud, _ = run(tmp_path, scenario(serve="cloud1"))
    both = ~np.isnan(cloud["latency_s"])  # the last frames are still in flight
    assert both.sum() >= 115
    gain = cloud["latency_s"][both] - edge["latency_s"][both]
    assert np.allclose(gain, 2 * (BACKHAUL - EDGE_HOP), rtol=0, atol=1e-12)


def test_video360_latency_is_the_downlink_and_the_decoder(tmp_path: Path) -> None:
    frames, summary = run(tmp_path, scenario(mode="video360", viewport_fraction=0.25))
    delta = 0.25 * 30e6 / 8 / 64
    expected = ACCESS + EDGE_HOP + 8 * delta / DOWN + DECODE + DISPLAY
    rows = ~frames["key"]
    assert np.allclose(frames["bytes"][rows], delta)
    assert np.allclose(frames["latency_s"][rows], expected, rtol=0, atol=1e-12)
    assert np.all(frames["uplink_flow"] == -1)
    assert summary["received_bitrate_bps"] == pytest.approx(0.25 * 30e6, rel=0.03)


def test_gpu_queueing_delays_frames_when_slots_are_short(tmp_path: Path) -> None:
    data = scenario()
    data["nodes"][3]["count"] = 4
    for node in data["nodes"][1:3]:
        node["compute"]["servers"] = 1
    # Four headsets in step share one GPU slot: 4 x 5 ms of render per 16.7 ms.
    frames, _ = run(tmp_path, data)
    assert len(frames["frame"]) == 4 * 120
    assert float(np.nanmax(frames["latency_s"])) > mtp(5 * 30e6 / 8 / 64, EDGE_HOP) + RENDER


def radio_scenario(users: int) -> dict[str, Any]:
    return {
        "name": "vr-cell", "seed": 5, "duration": 3.0,
        "output": {"tables": False, "plots": False},
        "radio": {"update_interval": "100 ms", "cells": [
            {"name": "cell", "position": [0, 0], "attach": "agg", "deployment": "UMi",
             "carrier": "3.5 GHz", "bandwidth": "40 MHz", "numerology": 1}]},
        "nodes": [
            {"name": "agg", "kind": "router"},
            {"name": "mec1", "kind": "mec", "compute": {"servers": 64, "service": {
                "vr_render": {"dist": "deterministic", "value": RENDER}}}},
            {"name": "headsets", "kind": "users", "count": users, "attach": "agg",
             "radio": {"placement": {"kind": "disc", "center": "cell", "radius": "40 m"}}},
        ],
        "links": [{"a": "agg", "b": "mec1", "bandwidth": "10 Gbps", "delay": EDGE_HOP}],
        "workloads": [{"kind": "vr_lesson", "name": "vr", "clients": ["headsets"],
                       "bitrate": "30 Mbps", "start_spread": "100 ms",
                       "deadline": "30 ms"}],
    }


def test_deadline_misses_rise_with_the_vr_users_on_one_cell(tmp_path: Path) -> None:
    misses = []
    for users in (1, 4, 8, 12):
        _, summary = run(tmp_path, radio_scenario(users))
        misses.append(summary["deadline_miss_ratio"])
    assert misses == sorted(misses), misses
    assert misses[0] < 0.05 and misses[-1] > 0.5, misses


def test_frames_with_lost_packets_are_lost(tmp_path: Path) -> None:
    data = scenario(frame_rate="60 fps", packet_size=1200)
    data["duration"] = 20.0
    data["nodes"][3]["access"]["loss"] = 0.0005
    frames, summary = run(tmp_path, data)
    n = len(frames["frame"])
    packets = np.ceil(frames["bytes"] / 1200)
    expected = float(np.mean(1 - 0.9995 ** packets))
    lost = frames["lost"].mean()
    sd = np.sqrt(expected * (1 - expected) / n)
    assert abs(lost - expected) < 4 * sd, (lost, expected)
    assert np.all(np.isnan(frames["t_display"][frames["lost"]]))
    assert summary["lost_ratio"] == pytest.approx(lost)


def test_rendered_vr_needs_a_site_that_renders(tmp_path: Path) -> None:
    data = scenario(serve="mec1", job="vr_encode")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "bad.yaml" in text and "workloads[0].job" in text
    assert 'no service time for job kind "vr_encode"' in text
