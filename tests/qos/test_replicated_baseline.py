"""Acceptance of replicated baselines (issue 17): the stated false-alarm rate, and power.

A 5-replication baseline of scenarios/ci/pass.yaml is checked against the
unchanged scenario 20 times with other seeds, and against a +20% service time
20 times.  Under an unchanged model each check is a false alarm with probability
at most 1% (the family-wise rate of sim.qos.baseline), so the count of false
alarms in 20 checks must stay within the 99% upper bound of Binomial(20, 0.01),
computed with scipy.  The tolerance is 0%, the gate's most alarm-prone setting.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy import stats

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PASS = ROOT / "scenarios" / "ci" / "pass.yaml"
CHECKS = 20
REPS = 5
RUN = ["--duration", "20 s", "--no-plots", "--no-tables", "--quiet"]
SLOWER = "nodes[mec1].compute.service.req.mean=6 ms"  # +20% on the 5 ms of pass.yaml


def check(out: Path, *extra: str) -> int:
    return main(["check", str(PASS), "--out", str(out), "--replications", str(REPS),
                 *RUN, *extra])


def test_replicated_baseline_false_alarms_and_power(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "ci" / "baseline-pass.json"
    assert check(tmp_path / "r", "--seed", "1", "--write-baseline", str(baseline)) == 0
    document = json.loads(baseline.read_text())
    assert document["format"] == "edgestream-baseline" and document["seeds"] == [1, 2, 3, 4, 5]
    entry = document["metrics"]["requests.req.latency_s.mean"]
    assert entry["n"] == REPS and entry["ci95"][0] < entry["mean"] < entry["ci95"][1]

    compare = ["--baseline", str(baseline), "--tolerance", "0%"]
    seeds = [1000 + REPS * k for k in range(CHECKS)]  # disjoint from the baseline's 1..5
    alarms = sum(check(tmp_path / "r", "--seed", str(s), *compare) != 0 for s in seeds)
    caught = sum(check(tmp_path / "r", "--seed", str(s), *compare, "--set", SLOWER) == 1
                 for s in seeds)
    capsys.readouterr()
    bound = int(stats.binom.ppf(0.99, CHECKS, 0.01))
    assert alarms <= bound, f"{alarms} false alarms in {CHECKS} checks (99% bound {bound})"
    assert caught == CHECKS
