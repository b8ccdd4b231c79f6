"""The work estimate refuses, before anything is allocated, what would hang or exhaust
memory, and lets every shipped scenario through (issue 14)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import run_measured

from sim.cli.main import main
from sim.run.work_estimate import EVENTS_PER_RECORD, LIMITS, estimate
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PASS = str(ROOT / "scenarios" / "ci" / "pass.yaml")


def test_estimate_counts_from_the_scenario() -> None:
    scn = load_scenario(PASS).scenario
    work = estimate(scn)
    users = sum(n.count for n in scn.nodes if getattr(n, "count", None))
    rate = scn.workloads[0].arrivals.rate  # type: ignore[union-attr]
    assert work.users == users
    assert work.records == pytest.approx(rate * users * scn.duration)
    assert work.events >= EVENTS_PER_RECORD * work.records


def test_every_shipped_scenario_is_within_the_limits() -> None:
    for path in sorted((ROOT / "scenarios").rglob("*.yaml")):
        if "sweeps" in path.parts:
            continue
        work = estimate(load_scenario(path).scenario, str(path.parent))
        for name, limit in LIMITS.items():
            assert getattr(work, name) <= limit / 5, (path, name)  # a wide margin


@pytest.mark.parametrize(("override", "named"), [
    ("duration=1e9 s", "events"), ("sample_interval=1 ns", "series points"),
    ("nodes[users].count=10000000", "users"), ("workloads[0].arrivals.rate=1e12 /s", "records"),
])
def test_reproducers_of_issue_14_are_refused_at_once(
        capsys: pytest.CaptureFixture[str], override: str, named: str) -> None:
    started = time.perf_counter()
    assert main(["validate", PASS, "--set", override]) == 2
    assert time.perf_counter() - started < 2
    err = capsys.readouterr().err
    assert f"{named}; the limit is" in err and "--force" in err


def test_force_skips_the_estimate(capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(LIMITS, "users", 5)  # pass.yaml has 10
    assert main(["validate", PASS]) == 2
    assert "users; the limit is 5" in capsys.readouterr().err
    assert main(["validate", PASS, "--force"]) == 0


def test_validate_of_a_huge_scenario_stays_small() -> None:
    """Peak RSS of the child, measured by the kernel: the estimate allocates nothing."""
    done, peak_kib = run_measured(
        [sys.executable, "run_sim.py", "validate", PASS, "--set", "duration=1e9 s",
         "--set", "sample_interval=1 ns", "--set", "nodes[users].count=10000000"],
        timeout=30, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert peak_kib < 500 * 1024


def test_reference_checks_are_linear_in_the_groups() -> None:
    """20,000 groups named by one workload: a list lookup per client took seconds."""
    from sim.scenario.references import check_references
    from sim.scenario.schema import Scenario

    n = 20_000
    groups = [{"name": f"g{i}", "kind": "users", "count": 1, "attach": "mec1",
               "access": {"bandwidth": "50 Mbps", "delay": "2 ms"}} for i in range(n)]
    service = {"req": {"dist": "exponential", "mean": "5 ms"}}
    scenario = Scenario.model_validate({
        "name": "many", "duration": "5 s",
        "nodes": [{"name": "cloud", "kind": "cloud", "compute": {"service": service}},
                  {"name": "mec1", "kind": "mec", "compute": {"service": service}}, *groups],
        "links": [{"a": "mec1", "b": "cloud", "bandwidth": "1 Gbps", "delay": "5 ms"}],
        "workloads": [{"kind": "request_response", "name": "req",
                       "clients": [g["name"] for g in groups],
                       "arrivals": {"process": "poisson", "rate": "0.1 /s"},
                       "request_size": "1 kB", "response_size": "1 kB"}]})
    started = time.perf_counter()
    assert check_references(scenario) == []
    assert time.perf_counter() - started < 1.0


CAMPUS = str(ROOT / "scenarios" / "bench" / "campus_congested.yaml")


def test_spilled_frames_are_not_charged_as_records_in_memory() -> None:
    """The 1-hour congested campus (issue 13): 31.7M records, 30.6M of them frames that
    go to disk while the run proceeds; at 400 B each they were 12 GiB and refused."""
    scn = load_scenario(CAMPUS, ["duration=1 h"]).scenario
    work = estimate(scn)
    assert work.records > 3e7
    assert work.memory_bytes < LIMITS["memory_bytes"] / 2
    assert main(["validate", CAMPUS, "--set", "duration=1 h"]) == 0


def test_records_kept_in_memory_are_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # 10 users x 1,000 /s x 2,000 s = 2e7 requests kept in memory, 400 B each: 7.5 GiB,
    # while the count stays under the records limit.
    assert main(["validate", PASS, "--set", "workloads[0].arrivals.rate=1000 /s",
                 "--set", "duration=2000 s"]) == 2
    err = capsys.readouterr().err
    assert "memory; the limit is" in err and "records; the limit" not in err
