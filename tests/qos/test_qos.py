"""QoS targets: metric paths, units of bounds, problems before a run, verdicts after."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from sim.qos.overview import summary_table
from sim.qos.targets import (
    Verdict,
    check_targets,
    evaluate,
    flatten,
    format_metric,
    parse_bound,
    unit_of,
    verdict_table,
)
from sim.run.builder import Run
from sim.scenario.schema import QosTarget, Scenario
from sim.scenario.units import UnitError

ROOT = Path(__file__).resolve().parents[2]


def short_scenario(duration: float = 6.0) -> Scenario:
    with (ROOT / "scenarios" / "default.yaml").open() as fh:
        scn = Scenario.model_validate(yaml.safe_load(fh))
    return scn.model_copy(update={"duration": duration, "warmup": 1.0})


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    return Run(short_scenario()).execute().summary


def target(metric: str, max: object = None, min: object = None) -> QosTarget:
    return QosTarget.model_validate({"metric": metric, "max": max, "min": min})


def render(table: Table) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(table)
    return console.export_text()


SUMMARY: dict[str, Any] = {
    "schema": "edgestream.summary/1",
    "scenario": "demo",
    "seed": 3,
    "duration_s": 60.0,
    "requests": {"recommend": {"sent": 10, "latency_s": {"count": 10, "p95": 0.05,
                                                         "max": None}}},
    "links": {"mec1->core": {"bytes": 1e6, "utilisation": 0.25}},
    "access": {"students.downlink": {"utilisation_max": 0.5}},
    "flags": {"ok": True},
}


# ----------------------------------------------------------------- flatten


def test_flatten_joins_labels_with_dots() -> None:
    flat = flatten(SUMMARY)
    assert flat == {
        "seed": 3,
        "duration_s": 60.0,
        "requests.recommend.sent": 10,
        "requests.recommend.latency_s.count": 10,
        "requests.recommend.latency_s.p95": 0.05,
        "requests.recommend.latency_s.max": None,
        "links.mec1->core.bytes": 1e6,
        "links.mec1->core.utilisation": 0.25,
        "access.students.downlink.utilisation_max": 0.5,
    }


def test_unexecuted_run_has_the_same_metrics(summary: dict[str, Any]) -> None:
    before = flatten(Run(short_scenario()).summary())
    assert before.keys() == flatten(summary).keys()
    assert "sites.mec-dorms.utilisation" in before
    assert "access.dorms.downlink.utilisation_max" in before
    assert "links.core->cloud.utilisation" in before


# ------------------------------------------------------------------- units


@pytest.mark.parametrize(("metric", "kind"), [
    ("requests.recommend.latency_s.p95", "duration"),
    ("requests.recommend.latency_s.count", "count"),
    ("requests.recommend.sent", "count"),
    ("requests.recommend.throughput_per_s", "frequency"),
    ("links.mec1->core.bytes", "size"),
    ("network.bytes_sent", "size"),
    ("video.x.goodput_bps", "rate"),
    ("duration_s", "duration"),
    ("sites.mec1.utilisation", "fraction"),
    ("access.students.downlink.utilisation_max", "fraction"),
    ("sites.edge_s.utilisation", "fraction"),  # a site named edge_s is not in seconds
    # A statistic suffix keeps the quantity's unit; the core's counters are counts.
    ("learning.lms.inference_s_mean", "duration"),
    ("radio.cell_allocated_dl_bps_mean", "rate"),
    ("sessions.lectures.rebuffer_ratio_mean", "fraction"),
    ("network.messages_sent", "count"),
    ("radio.handovers", "count"),
    ("sites.p95_s.utilisation", "fraction"),  # a site named p95_s is not in seconds either
])
def test_unit_of(metric: str, kind: str) -> None:
    assert unit_of(metric) == kind


@pytest.mark.parametrize(("metric", "bound", "limit"), [
    ("requests.r.latency_s.p95", "100 ms", 0.1),
    ("requests.r.latency_s.p95", 0.1, 0.1),
    ("requests.r.latency_s.p95", "0.1", 0.1),
    ("requests.r.latency_s.p95", "2 min", 120.0),
    ("video.x.goodput_bps", "5 Mbps", 5e6),
    ("links.a->b.bytes", "5 MB", 5e6),
    ("requests.r.throughput_per_s", "2 /s", 2.0),
    ("sites.mec1.utilisation", "80%", 0.8),
    ("sites.mec1.utilisation", 0.8, 0.8),
    ("requests.r.sent", 100, 100.0),
])
def test_parse_bound(metric: str, bound: object, limit: float) -> None:
    assert parse_bound(bound, metric) == pytest.approx(limit)


@pytest.mark.parametrize(("metric", "bound"), [
    ("requests.r.latency_s.p95", "5 MB"),
    ("requests.r.latency_s.p95", "fast"),
    ("sites.mec1.utilisation", "100 ms"),
    ("links.a->b.bytes", "5 Mbps"),
])
def test_parse_bound_wrong_unit(metric: str, bound: object) -> None:
    with pytest.raises(UnitError):
        parse_bound(bound, metric)


@given(st.floats(min_value=1e-3, max_value=1e6, allow_nan=False))
def test_ms_bound_is_a_thousandth_of_seconds(ms: float) -> None:
    assert parse_bound(f"{ms!r} ms", "x.latency_s") == pytest.approx(ms / 1e3)


# ---------------------------------------------------------- check_targets


def test_default_scenario_targets_are_valid(summary: dict[str, Any]) -> None:
    assert check_targets(short_scenario().qos, flatten(summary)) == []


def test_unknown_metric_suggests_the_nearest(summary: dict[str, Any]) -> None:
    targets = [target("requests.recommend.latency_s.p95", max="60 ms"),
               target("requests.recommend.latency.p95", max="60 ms")]
    (problem,) = check_targets(targets, flatten(summary))
    assert problem.loc == ("qos", 1, "metric")
    assert 'did you mean "requests.recommend.latency_s.p95"?' in problem.message


def test_bad_bounds_are_located(summary: dict[str, Any]) -> None:
    targets = [target("requests.recommend.latency_s.p95", max="60 MB"),
               target("sites.mec-dorms.utilisation", min="lots"),
               target("sites.mec-dorms.utilisation", min=0.9, max="80%")]
    problems = check_targets(targets, flatten(summary))
    assert [p.loc for p in problems] == [("qos", 0, "max"), ("qos", 1, "min"),
                                         ("qos", 2, "min")]
    assert "duration" in problems[0].message
    assert "min is above max" in problems[2].message


# -------------------------------------------------------------- evaluate


def test_evaluate_pass_fail_and_no_data() -> None:
    verdicts = evaluate([
        target("requests.recommend.latency_s.p95", max="100 ms"),
        target("requests.recommend.latency_s.p95", max="10 ms"),
        target("requests.recommend.latency_s.max", max="1 s"),
        target("links.mec1->core.utilisation", min="10%", max=0.2),
        target("requests.nothing.latency_s.p95", max="1 s"),
    ], SUMMARY)
    assert [(v.metric.split(".")[-1], v.op, v.passed, v.reason) for v in verdicts] == [
        ("p95", "<=", True, ""),
        ("p95", "<=", False, ""),
        ("max", "<=", False, "no data"),
        ("utilisation", "<=", False, ""),
        ("utilisation", ">=", True, ""),
        ("p95", "<=", False, "no data"),
    ]
    assert verdicts[0].limit == pytest.approx(0.1)
    assert verdicts[0].bound == "100 ms"
    assert verdicts[3].bound == "0.2"
    assert verdicts[2].value is None


def test_nan_value_is_no_data() -> None:
    (verdict,) = evaluate([target("x_s", max=1)], {"x_s": math.nan})
    assert not verdict.passed and verdict.reason == "no data"


def test_bounds_are_inclusive() -> None:
    verdicts = evaluate([target("x_s", max="50 ms", min="50 ms")], {"x_s": 0.05})
    assert all(v.passed for v in verdicts)


def test_evaluate_real_run(summary: dict[str, Any]) -> None:
    targets = short_scenario().qos
    verdicts = evaluate(targets, summary)
    assert len(verdicts) == len(targets) >= 3
    assert [v.metric for v in verdicts] == [t.metric for t in targets]
    p95 = summary["requests"]["recommend"]["latency_s"]["p95"]
    assert verdicts[0].value == p95
    assert verdicts[0].passed == (p95 <= 0.06)


# ---------------------------------------------------------------- tables


def test_verdict_table_text() -> None:
    verdicts = [
        Verdict("requests.r.latency_s.p95", "60 ms", "<=", 0.06, 0.0523, True),
        Verdict("sites.m.utilisation", "80%", "<=", 0.8, 0.91, False),
        Verdict("requests.r.latency_s.max", "1 s", "<=", 1.0, None, False, "no data"),
    ]
    text = render(verdict_table(verdicts, title="check"))
    assert "52.3 ms" in text and "91%" in text and "no data" in text
    assert text.count("PASS") == 1 and text.count("FAIL") == 2
    assert "1 of 3 targets met" in text


def test_format_metric() -> None:
    assert format_metric(0.0523, "requests.r.latency_s.p95") == "52.3 ms"
    assert format_metric(2.5e6, "links.a->b.bytes") == "2.5 MB"
    assert format_metric(12, "requests.r.sent") == "12"
    assert format_metric(None, "x") == "-"


def test_summary_table(summary: dict[str, Any]) -> None:
    text = render(summary_table(summary))
    busiest = max(summary["links"], key=lambda k: summary["links"][k]["utilisation"])
    for name in ("recommend", "catalogue", "mec-dorms", "cloud", busiest):
        assert name in text
    p95_ms = summary["requests"]["recommend"]["latency_s"]["p95"] * 1e3
    assert f"{p95_ms:.1f}" in text


def test_summary_table_tolerates_missing_sections() -> None:
    text = render(summary_table({"scenario": "bare", "requests": {
        "r": {"sent": 0, "completed": 0, "latency_s": {"mean": None}}}}))
    assert "bare" in text and "r" in text
