"""QoS targets: bounds on summary metrics, checked before a run and judged after it.

A metric is named by its dotted path in ``summary.json``, e.g.
``requests.recommend.latency_s.p95`` or ``links.mec1->core.utilisation``.  Link
labels contain ``->`` and access labels a dot (``students.downlink``); flattening
the nested summary and joining keys with "." gives both forms without special
cases, and a planner can copy a path straight from the JSON file.

The unit of a metric follows from the names on its path (``latency_s`` is in
seconds, ``bytes`` in bytes, ``throughput_per_s`` in 1/s), so a bound can be
written as ``"100 ms"`` or ``"5 MB"`` and is converted with the same parsers as
the rest of the scenario.  A bound with the wrong kind of unit ("5 MB" on a
latency) is an input error reported before anything runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from rich.table import Table

from sim.scenario.problems import Problem, did_you_mean
from sim.scenario.schema import QosTarget
from sim.scenario.units import (
    UnitError,
    format_quantity,
    parse_duration,
    parse_fraction,
    parse_frequency,
    parse_rate,
    parse_size,
)

__all__ = [
    "Verdict",
    "bound_text",
    "check_targets",
    "evaluate",
    "flatten",
    "format_metric",
    "parse_bound",
    "unit_of",
    "verdict_table",
]

Kind = Literal["duration", "size", "frequency", "rate", "fraction", "count"]

_PARSERS: Mapping[Kind, Callable[[object], float]] = {
    "duration": parse_duration,
    "size": parse_size,
    "frequency": parse_frequency,
    "rate": parse_rate,
    "fraction": parse_fraction,
    "count": parse_fraction,
}
_CORE_COUNTS = frozenset({"count", "jobs", "messages_sent", "messages_delivered", "rate_solves",
                          "cells", "ues", "handovers"})
"""Leaf names of the core's sections that count things (the workloads declare theirs)."""

_STATISTIC = re.compile(r"_(mean|min|max|p\d+)$")
"""A statistic appended to a quantity's name (``inference_s_mean``) does not change its unit."""


@cache
def _counts() -> frozenset[str]:
    """Leaf names that count things: dimensionless even under a ``latency_s`` section."""
    from sim.run.workload import workload_sections

    declared = (section.counts for section in workload_sections().values())
    return _CORE_COUNTS.union(*declared)


# ---------------------------------------------------------------------- metrics


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, float | int | None]:
    """Numeric leaves of a nested summary by dotted path; null leaves map to None.

    Strings (the scenario name, run id) and booleans are not metrics and are left
    out; a null is kept because it is a metric without data in this run.
    """
    out: dict[str, float | int | None] = {}
    for key, value in summary.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            out[path] = value
    return out


def unit_of(metric: str) -> Kind:
    """Kind of quantity of a metric, from the innermost path segment that names a unit.

    In a path of three or more segments the second one is a label the user chose
    (workload, site, link or group name: ``sites.edge_s.utilisation``), so it never
    decides the unit; section and statistic names do.
    """
    segments = metric.split(".")
    if segments[-1] in _counts() or segments[-1].endswith("_count"):
        return "count"
    named = segments[2:] if len(segments) >= 3 else segments
    for segment in (_STATISTIC.sub("", name) for name in reversed(named)):
        if segment.endswith("_per_s") or segment.endswith("frame_rate"):
            return "frequency"
        if segment.endswith("_bps"):
            return "rate"
        if segment.endswith("_s"):
            return "duration"
        if segment == "bytes" or segment.endswith("_bytes") or segment.startswith("bytes_"):
            return "size"
    return "fraction"


def parse_bound(value: object, metric: str) -> float:
    """A bound of `metric` in SI units: ``"100 ms"`` -> 0.1; a bare number is SI.

    Raises :class:`UnitError` when the unit does not fit the metric.
    """
    return _PARSERS[unit_of(metric)](value)


def _bound_problem(target: QosTarget, index: int, side: Literal["max", "min"]) -> Problem | None:
    value = getattr(target, side)
    if value is None:
        return None
    try:
        parse_bound(value, target.metric)
    except UnitError as exc:
        kind = unit_of(target.metric)
        hint = "a plain number" if kind in ("fraction", "count") else f"a {kind}"
        return Problem(("qos", index, side), f"{exc}; {target.metric} takes {hint}")
    return None


def check_targets(targets: Sequence[QosTarget],
                  available: Mapping[str, object]) -> list[Problem]:
    """Problems with the targets: unknown metric names and bounds of the wrong unit.

    `available` is the flattened summary of the run (it has its keys before the
    run has executed), so a typo is reported before minutes of simulation.
    """
    problems: list[Problem] = []
    for i, target in enumerate(targets):
        if target.metric not in available:
            problems.append(Problem(
                ("qos", i, "metric"),
                f'unknown metric "{target.metric}"{did_you_mean(target.metric, available)}'))
            continue
        sides: tuple[Literal["max", "min"], ...] = ("max", "min")
        found = [p for side in sides if (p := _bound_problem(target, i, side)) is not None]
        problems.extend(found)
        if not found and target.max is not None and target.min is not None:
            high = parse_bound(target.max, target.metric)
            low = parse_bound(target.min, target.metric)
            if low > high:
                problems.append(Problem(("qos", i, "min"),
                                        "min is above max: no value can pass"))
    return problems


# --------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Verdict:
    """The outcome of one bound of one target."""

    metric: str
    bound: str
    """The bound as the user wrote it, e.g. "100 ms"."""
    op: Literal["<=", ">="]
    limit: float
    """The bound in SI units."""
    value: float | None
    """The value judged: the metric of one run, or its mean over replications."""
    passed: bool
    reason: str = ""
    """Why a verdict failed without a comparison, e.g. "no data"."""
    ci: tuple[float, float] | None = None
    """95% t interval of the mean over replications; None for a single run."""
    replications: int = 1
    mean_only: bool = False
    """Judged on the mean although a CI was available (``check --mean-only``)."""
    check: Literal["target", "baseline"] = "target"
    """A qos target of the scenario, or a regression check against a baseline run."""
    skipped: bool = False
    """Not judged (a baseline without a value for the metric); counts as no failure."""

    @property
    def name(self) -> str:
        """What was checked, e.g. "requests.r.latency_s.p95 <= 100 ms": a test case name."""
        prefix = "baseline: " if self.check == "baseline" else ""
        return f"{prefix}{self.metric} {self.op} {self.bound}"

    def value_text(self) -> str:
        """The value with its unit, and its CI when replicated: "52 [50, 54] ms"."""
        if self.value is None:
            return self.reason
        shown = _shown(self.value, self)
        if self.ci is None:
            return shown
        low, high = (_shown(end, self) for end in self.ci)
        parts = [text.rpartition(" ") for text in (shown, low, high)]
        if all(p[1] for p in parts) and len({p[2] for p in parts}) == 1:
            # One unit for all three: "20.4 [15.5, 25.3] ms" keeps CI tables narrow.
            return f"{parts[0][0]} [{parts[1][0]}, {parts[2][0]}] {parts[0][2]}"
        return f"{shown} [{low}, {high}]"

    def message(self) -> str:
        """One line naming metric, bound and value, for failure reports (JUnit, pytest)."""
        verdict = "skipped" if self.skipped else "met" if self.passed else "MISSED"
        if self.value is None:
            return f"{self.name}: {verdict}, {self.reason}"
        text = self._value_message(verdict)
        return f"{text}; {self.reason}" if self.reason else text

    def _value_message(self, verdict: str) -> str:
        assert self.value is not None
        if self.ci is None and self.replications > 1:
            return (f"{self.name}: {verdict}, mean {self.value_text()} over "
                    f"{self.replications} replications")
        if self.ci is None:
            return f"{self.name}: {verdict}, value {self.value_text()}"
        judged = ("the mean" if self.mean_only else
                  "the 95% CI's upper end" if self.op == "<=" else "the 95% CI's lower end")
        return (f"{self.name}: {verdict}, mean {_shown(self.value, self)}, 95% CI "
                f"[{_shown(self.ci[0], self)}, {_shown(self.ci[1], self)}] over "
                f"{self.replications} replications ({judged} is judged)")


def bound_text(value: float | str) -> str:
    """A bound as the user wrote it: "100 ms" stays, 0.8 becomes "0.8"."""
    return value if isinstance(value, str) else f"{value:g}"


_SIDES: tuple[tuple[str, Literal["<=", ">="]], ...] = (("max", "<="), ("min", ">="))


def evaluate(targets: Sequence[QosTarget], summary: Mapping[str, Any]) -> list[Verdict]:
    """One verdict per bound (a target with max and min gives two).

    A metric without a value (no completed request in the window, say) fails:
    a target that cannot be shown to hold must not let a CI pipeline pass.
    """
    flat = flatten(summary)
    out: list[Verdict] = []
    for target in targets:
        raw = flat.get(target.metric)
        value = None if raw is None or not math.isfinite(raw) else float(raw)
        for side, op in _SIDES:
            bound = getattr(target, side)
            if bound is None:
                continue
            limit = parse_bound(bound, target.metric)
            if value is None:
                out.append(Verdict(target.metric, bound_text(bound), op, limit, None, False,
                                   "no data"))
                continue
            passed = value <= limit if op == "<=" else value >= limit
            out.append(Verdict(target.metric, bound_text(bound), op, limit, value, passed))
    return out


def format_metric(value: float | None, metric: str) -> str:
    """A metric value with its unit, e.g. "52.3 ms"; "-" for no data."""
    if value is None or not math.isfinite(value):
        return "-"
    kind = unit_of(metric)
    if kind == "count":
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"
    return format_quantity(value, kind)


def _shown(value: float, verdict: Verdict) -> str:
    """A value in the unit its bound was written in ("91%" for a "80%" bound)."""
    written_in_percent = verdict.check == "target" and verdict.bound.endswith("%")
    if written_in_percent and unit_of(verdict.metric) == "fraction":
        return f"{value * 100:.4g}%"
    return format_metric(value, verdict.metric)


def verdict_table(verdicts: Sequence[Verdict], *, title: str | None = None) -> Table:
    """The verdicts as a table: metric, target, value, PASS, FAIL or SKIP.

    Baseline checks are rows of their own ("baseline" in the target column), so
    a regression that still meets its target is visible next to that target.
    """
    targets = [v for v in verdicts if v.check == "target"]
    caption = f"{sum(v.passed for v in targets)} of {len(targets)} targets met"
    baseline = [v for v in verdicts if v.check == "baseline" and not v.skipped]
    if baseline:
        caption += (f"; {sum(v.passed for v in baseline)} of {len(baseline)} "
                    "within tolerance of the baseline")
    replicated = next((v for v in verdicts if v.ci is not None), None)
    if replicated is not None:
        caption += f"; mean and 95% CI over {replicated.replications} replications"
    table = Table(title=title, caption=caption)
    # Never broken mid-word: a metric path stays on one line and gets its full width
    # up to 48 characters (beyond that it ends in an ellipsis; the JUnit report has
    # it whole); the other cells wrap at their spaces, so the table fits 80 columns.
    longest = max((len(v.metric) for v in verdicts), default=6)
    table.add_column("metric", no_wrap=True, overflow="ellipsis", min_width=min(longest, 48))
    table.add_column("target", overflow="ellipsis", min_width=8)
    table.add_column("value" if replicated is None else "mean [95% CI]", justify="right",
                     overflow="ellipsis", min_width=9)
    table.add_column("verdict", no_wrap=True, min_width=7)
    for v in verdicts:
        target = f"{v.op} {v.bound}"
        if v.check == "baseline":
            target = f"baseline {target}"
        if v.skipped:
            verdict = "[yellow]SKIP[/]"
        else:
            verdict = "[bold green]PASS[/]" if v.passed else "[bold red]FAIL[/]"
        table.add_row(v.metric, target, v.value_text(), verdict)
    return table
