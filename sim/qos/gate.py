"""QoS gates for CI: targets judged on replication means with their CI, and baselines.

One run's p95 latency is one draw of a random quantity.  A CI gate that judges
that draw passes or fails a design by luck when the true value is near the
bound, so with N replications (seeds seed..seed+N-1) a target is judged on the
95% Student t interval of the replication mean: a ``max`` passes only when the
whole interval lies at or below it (``ci_high <= max``), a ``min`` only when it
lies at or above it.  A pass then means the design meets the target with 97.5%
confidence, not that one seed was lucky.  ``mean_only`` judges the mean alone,
for exploratory runs where a few replications give wide intervals.

A baseline catches regressions that still meet the targets: a change that makes
p95 latency 30% worse while it stays under its 100 ms bound is still a
regression a CI pipeline should stop.  Those checks, which account for the
spread of both the baseline and the new replications, are in
:mod:`sim.qos.baseline`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sim.qos.targets import Verdict, bound_text, evaluate, flatten, parse_bound
from sim.scenario.schema import QosTarget
from sim.scenario.units import UnitError, parse_fraction
from sim.stats import t_interval

__all__ = [
    "Replicated",
    "evaluate_replicated",
    "parse_tolerance",
    "replicate",
]

_SIDES: tuple[tuple[str, Literal["<=", ">="]], ...] = (("max", "<="), ("min", ">="))


def _finite(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True)
class Replicated:
    """One metric over the replications of a scenario."""

    values: tuple[float | None, ...]
    """The metric of each replication, in seed order; None where a run had no data."""

    @property
    def missing(self) -> int:
        return sum(v is None for v in self.values)

    @property
    def mean(self) -> float | None:
        """Mean over the replications; None if any replication lacks the metric.

        A mean over the runs that happen to have data would be biased (the runs
        without completed requests are the overloaded ones), so there is none.
        """
        if self.missing or not self.values:
            return None
        return float(np.mean(np.array(self.values, dtype=float)))

    @property
    def ci(self) -> tuple[float, float] | None:
        """95% t interval of the mean; None for fewer than two replications or no data."""
        if self.missing or len(self.values) < 2:
            return None
        return t_interval(np.array(self.values, dtype=float))


def replicate(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Replicated]:
    """Every numeric metric of the summaries, gathered over the replications."""
    flats = [flatten(s) for s in summaries]
    metrics = dict.fromkeys(key for flat in flats for key in flat)
    return {m: Replicated(tuple(_finite(flat.get(m)) for flat in flats)) for m in metrics}


def evaluate_replicated(targets: Sequence[QosTarget], summaries: Sequence[Mapping[str, Any]],
                        *, mean_only: bool = False) -> list[Verdict]:
    """One verdict per bound, judged on the replications' CI (or mean).

    With one summary this is :func:`sim.qos.targets.evaluate`: the single value is judged.
    """
    if not summaries:
        raise ValueError("no replications to judge")
    if len(summaries) == 1:
        return evaluate(targets, summaries[0])
    metrics = replicate(summaries)
    n = len(summaries)
    out: list[Verdict] = []
    for target in targets:
        rep = metrics.get(target.metric, Replicated((None,) * n))
        mean, ci = rep.mean, rep.ci
        for side, op in _SIDES:
            bound = getattr(target, side)
            if bound is None:
                continue
            limit = parse_bound(bound, target.metric)
            common: dict[str, Any] = {"replications": n, "mean_only": mean_only}
            if mean is None or ci is None:
                out.append(Verdict(target.metric, bound_text(bound), op, limit, None, False,
                                   f"no data in {rep.missing} of {n} replications", **common))
                continue
            judged = mean if mean_only else ci[1] if op == "<=" else ci[0]
            passed = judged <= limit if op == "<=" else judged >= limit
            out.append(Verdict(target.metric, bound_text(bound), op, limit, mean, passed,
                               ci=ci, **common))
    return out


# --------------------------------------------------------------------- baseline


def parse_tolerance(text: str) -> float:
    """A relative tolerance: "5%" or 0.05 -> 0.05.  Raises ValueError if not >= 0."""
    try:
        value = parse_fraction(text)
    except UnitError as exc:
        raise ValueError(f"--tolerance: {exc}") from None
    if value < 0:
        raise ValueError(f"--tolerance: {text} is negative; give e.g. 5%")
    return value
