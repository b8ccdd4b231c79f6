"""Replicated baselines: regression checks that account for the spread of both sides.

A baseline of one run compared with a mean of five other seeds fails an
unchanged model whenever that one run was lucky (issue 17).  A baseline file
therefore stores, per metric, the replication mean, its standard deviation, its
95% CI and n, and a new set of replications is compared with it by a one-sided
test in the direction a target calls "worse" (up for a ``max``, down for a
``min``):

* both sides replicated (n >= 2): Welch's t-test on the two means, with the
  Welch-Satterthwaite degrees of freedom;
* one side a single run (an old ``summary.json`` baseline, or ``check`` without
  ``--replications``): the single value is judged against the other side's mean
  with the other side's spread, ``se = s * sqrt(1 + 1/n)`` and ``n - 1``
  degrees of freedom (a prediction interval: both sides are assumed to spread
  alike);
* both sides single runs: no spread is known, so no false-alarm rate can be
  stated; the old rule applies: worse by more than the tolerance fails.

The null hypothesis is "not worse than the baseline by more than the tolerance"
(``mean_new - mean_base <= tolerance * |mean_base|`` for a ``max``), so a
tolerance of 0 makes the gate purely statistical and a positive one ignores
small, significant changes.  The checks of one scenario form a family whose
false-alarm rate is :data:`FALSE_ALARM` (1%) for an unchanged model, kept by
Holm's step-down procedure (Holm 1979, *Scand. J. Statist.* 6:65-70): the k-th
smallest p-value of m tests fails only when it and every smaller one are below
``FALSE_ALARM / (m - j + 1)``.  A metric that did not vary on either side (a
deterministic one) is compared exactly and is not part of the family.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scipy.special import stdtr

from sim.qos.gate import Replicated, replicate
from sim.qos.targets import Verdict, flatten, format_metric
from sim.scenario.schema import QosTarget

__all__ = ["BASELINE_FORMAT", "FALSE_ALARM", "Baseline", "Side", "baseline_document",
           "baseline_problems", "baseline_verdicts", "parse_baseline", "write_baseline"]

BASELINE_FORMAT = "edgestream-baseline"
BASELINE_VERSION = 1
FALSE_ALARM = 0.01
"""Family-wise false-alarm rate of the baseline checks of one scenario."""

_SIDES: tuple[tuple[str, Literal["<=", ">="]], ...] = (("max", "<="), ("min", ">="))


@dataclass(frozen=True)
class Side:
    """One metric on one side of a comparison: its mean, spread and count."""

    mean: float
    sd: float | None
    """Sample standard deviation over the replications; None for a single run."""
    n: int

    @classmethod
    def of(cls, rep: Replicated) -> Side | None:
        mean = rep.mean
        if mean is None:
            return None
        n = len(rep.values)
        if n < 2:
            return cls(mean, None, n)
        values = [v for v in rep.values if v is not None]
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        return cls(mean, sd, n)


@dataclass(frozen=True)
class Baseline:
    """What a baseline file (or an old single-run summary) says about a scenario."""

    scenario: object
    metrics: Mapping[str, Side | None]
    """Every metric of the baseline; None where it had no data."""
    replications: int


def baseline_document(scenario: str, seeds: Sequence[int],
                      summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON document ``check --write-baseline`` stores (docs/workflow.md)."""
    metrics: dict[str, Any] = {}
    for metric, rep in replicate(summaries).items():
        side = Side.of(rep)
        ci = rep.ci
        metrics[metric] = {
            "mean": None if side is None else side.mean,
            "sd": None if side is None else side.sd,
            "ci95": None if ci is None else [ci[0], ci[1]],
            "n": len(rep.values),
        }
    return {"format": BASELINE_FORMAT, "version": BASELINE_VERSION, "scenario": scenario,
            "seeds": list(seeds), "replications": len(summaries), "metrics": metrics}


def write_baseline(document: Mapping[str, Any], path: Path | str) -> Path:
    """Write a baseline atomically: a CI job never reads half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        staged.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)
    return path


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def parse_baseline(data: Mapping[str, Any]) -> Baseline:
    """A baseline file, or a run's ``summary.json`` (a baseline of n = 1).

    Raises ValueError when a baseline file's entries are malformed.
    """
    if data.get("format") != BASELINE_FORMAT:
        flat = flatten(data)
        return Baseline(data.get("scenario"),
                        {m: None if (v := _number(x)) is None else Side(v, None, 1)
                         for m, x in flat.items()}, 1)
    metrics: dict[str, Side | None] = {}
    raw = data.get("metrics")
    if not isinstance(raw, Mapping):
        raise ValueError('"metrics" is not an object')
    for metric, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f'metrics."{metric}" is not an object')
        n = entry.get("n")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f'metrics."{metric}".n is not a whole number >= 1')
        mean, sd = _number(entry.get("mean")), _number(entry.get("sd"))
        if mean is not None and n >= 2 and (sd is None or sd < 0):
            raise ValueError(f'metrics."{metric}".sd is missing or negative')
        metrics[str(metric)] = None if mean is None else Side(mean, sd if n >= 2 else None, n)
    replications = data.get("replications")
    return Baseline(data.get("scenario"), metrics,
                    replications if isinstance(replications, int) else 1)


def baseline_problems(targets: Sequence[QosTarget], baseline: Baseline | Mapping[str, Any],
                      scenario: str) -> list[str]:
    """Why `baseline` cannot be compared with runs of `scenario` (empty if it can).

    A baseline of another scenario, or one that lacks a target's metric, is a
    wrong file rather than a regression: the caller reports it as bad input.
    """
    base = baseline if isinstance(baseline, Baseline) else parse_baseline(baseline)
    problems: list[str] = []
    if base.scenario != scenario:
        problems.append(f'the baseline is a run of scenario "{base.scenario}", not "{scenario}"')
    for metric in dict.fromkeys(t.metric for t in targets):
        if metric not in base.metrics:
            problems.append(f'the baseline has no metric "{metric}"')
    return problems


def _p_worse(base: Side, new: Side, op: str, margin: float) -> float | None:
    """One-sided p-value of "new is worse than base by more than margin"; None: no spread."""
    shift = (new.mean - base.mean) if op == "<=" else (base.mean - new.mean)
    if base.sd is not None and new.sd is not None:
        vb, vn = base.sd ** 2 / base.n, new.sd ** 2 / new.n
        se2 = vb + vn
        if se2 == 0:
            return None
        df = se2 ** 2 / (vb ** 2 / (base.n - 1) + vn ** 2 / (new.n - 1))
    elif base.sd is not None or new.sd is not None:
        spread = base if base.sd is not None else new
        assert spread.sd is not None
        se2 = spread.sd ** 2 * (1 + 1 / spread.n)
        if se2 == 0:
            return None
        df = spread.n - 1
    else:
        return None
    t = (shift - margin) / math.sqrt(se2)
    return float(1 - stdtr(df, t))


def _holm(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Which hypotheses Holm's step-down procedure rejects at family-wise level alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    m = len(p_values)
    for rank, i in enumerate(order):
        if p_values[i] > alpha / (m - rank):
            break
        rejected[i] = True
    return rejected


def baseline_verdicts(targets: Sequence[QosTarget], baseline: Baseline | Mapping[str, Any],
                      summaries: Sequence[Mapping[str, Any]], tolerance: float,
                      *, alpha: float = FALSE_ALARM) -> list[Verdict]:
    """One regression check per metric and bound direction of the targets (module doc).

    A baseline without a value for a metric (no data in that run) cannot show a
    regression: the check is skipped.
    """
    base = baseline if isinstance(baseline, Baseline) else parse_baseline(baseline)
    metrics = replicate(summaries)
    n = len(summaries)
    pending: list[tuple[int, float, dict[str, Any]]] = []
    out: list[Verdict] = []
    seen: set[tuple[str, str]] = set()
    for target in targets:
        for side_name, op in _SIDES:
            if getattr(target, side_name) is None or (target.metric, op) in seen:
                continue
            seen.add((target.metric, op))
            ref = base.metrics.get(target.metric)
            new = Side.of(metrics.get(target.metric, Replicated((None,) * n)))
            sign = "+" if op == "<=" else "-"
            common: dict[str, Any] = {"replications": n, "check": "baseline"}
            if ref is None:
                out.append(Verdict(target.metric, f"baseline value {sign} {tolerance * 100:.4g}%",
                                   op, math.nan, None if new is None else new.mean, True,
                                   "no value in the baseline", skipped=True, **common))
                continue
            slack = tolerance * abs(ref.mean)
            limit = ref.mean + slack if op == "<=" else ref.mean - slack
            shown = format_metric(ref.mean, target.metric)
            if ref.n > 1:
                shown += f" (n={ref.n})"
            bound = f"{shown} {sign} {tolerance * 100:.4g}%"
            if new is None:
                out.append(Verdict(target.metric, bound, op, limit, None, False, "no data",
                                   **common))
                continue
            p = _p_worse(ref, new, op, slack)
            if p is None:  # no spread on either side: the tolerance rule
                passed = new.mean <= limit if op == "<=" else new.mean >= limit
                out.append(Verdict(target.metric, bound, op, limit, new.mean, passed, **common))
                continue
            pending.append((len(out), p, common))
            out.append(Verdict(target.metric, bound, op, limit, new.mean, True, **common))
    for (index, p, common), rejected in zip(pending, _holm([p for _, p, _ in pending], alpha),
                                            strict=True):
        v = out[index]
        out[index] = Verdict(v.metric, v.bound, v.op, v.limit, v.value, not rejected,
                             f"p = {p:.2g}, family false-alarm rate {alpha:.0%} (Holm)",
                             **common)
    return out
