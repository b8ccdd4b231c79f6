"""Live legs carry the scenario's routes: delays add up, losses compound, the
narrowest link sets the rate; and scenarios the live mode cannot play are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from sim.scenario.loader import load_scenario
from sim.scenario.problems import ScenarioError
from streaming.webrtc.plan import live_plan

LECTURE = ROOT / "scenarios" / "live_lecture.yaml"


def test_legs_follow_the_scenario_routes() -> None:
    plan = live_plan(load_scenario(LECTURE, []).scenario, 3)
    assert plan.relay == "mec-campus"
    # Teacher: access uplink 1 ms + agg-mec 0.2 ms; 20 Mbit/s access is the narrowest.
    assert plan.sender.media.delay == pytest.approx(0.0012)
    assert plan.sender.media.rate == pytest.approx(20e6 / 8)
    assert plan.sender.media.jitter == (0.0005,)
    # Receivers in turn from hall and dorms.
    assert [(leg.group, leg.user) for leg in plan.receivers] == [
        ("hall", 0), ("dorms", 0), ("hall", 1)]
    dorms = plan.receivers[1]
    # mec-agg 0.2 + agg-core 1 + access 8 ms; 25 Mbit/s down; 0.05% access loss.
    assert dorms.media.delay == pytest.approx(0.0092)
    assert dorms.media.rate == pytest.approx(25e6 / 8)
    assert dorms.media.loss == pytest.approx(0.0005)
    assert dorms.feedback.rate == pytest.approx(5e6 / 8)


def _problems(overrides: list[str], receivers: int = 2) -> str:
    loaded = load_scenario(LECTURE, overrides)
    with pytest.raises(ScenarioError) as info:
        live_plan(loaded.scenario, receivers)
    return "\n".join(p.format() for p in loaded.document.locate_all(info.value.problems))


def test_more_receivers_than_students_is_refused() -> None:
    assert "61 receivers asked for; the student groups have 60 members" in _problems([], 61)


def test_a_scenario_without_a_live_class_is_refused(tmp_path: Path) -> None:
    loaded = load_scenario(ROOT / "scenarios" / "vr_classroom.yaml", [])
    with pytest.raises(ScenarioError, match="no live_class workload"):
        live_plan(loaded.scenario, 2)
