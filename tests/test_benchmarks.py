"""The benchmarks' own instruments: the simpy baseline of W(N) and the campus scenario.

A wrong baseline or a scenario that is not congested would make the benchmark
figures meaningless without failing anything else, so both are checked against
independent arithmetic: queueing theory for the baseline, the link's capacity
against the viewers' offered load for the scenario.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def _benchmark(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_simpy_baseline_mean_latency_is_the_mmc_value() -> None:
    # 2,000 users: 180 requests/s per MEC site, 1.8 Erlangs on its 4 servers, so the
    # Erlang C wait matters; 40 s gives about 80,000 requests.
    simpy_model = _benchmark("peer_workload_simpy")
    model = simpy_model.WorkloadW(2000, seed=3)
    model.run(40.0)
    latencies = list(model.latencies)
    assert len(latencies) == pytest.approx(80_000, rel=0.02)
    mean = sum(latencies) / len(latencies)
    assert mean == pytest.approx(simpy_model.analytic_mean_latency(2000), rel=0.015)


def test_campus_library_uplink_is_overloaded_by_hd() -> None:
    # The issue asks for one building uplink whose offered HD load is >= 1.2x its
    # capacity in the busy minute: every library session starts in the first minute
    # and asks for the ladder's top (1080p) rung.
    scenario = load_scenario(ROOT / "scenarios" / "bench" / "campus_congested.yaml").scenario
    video = next(w for w in scenario.workloads if w.kind == "course_video")
    viewers = sum(n.count for n in scenario.nodes if n.name in video.clients)
    uplink = next(link for link in scenario.links if {link.a, link.b} == {"agg", "library"})
    assert video.start + video.start_spread <= 60.0
    offered = viewers * max(video.ladder)
    assert offered >= 1.2 * uplink.bandwidth
