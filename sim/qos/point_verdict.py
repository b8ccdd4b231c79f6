"""QoS verdicts of a sweep point: a target judged on the point's replications.

The rule is the one ``check --replications`` applies to a single scenario: an upper
bound (``max``) must hold for the 95% CI's upper end of the mean over replications, a
lower bound (``min``) for its lower end; with one replication (no interval) the mean
is judged.  A metric without a value at the point fails, as it does in ``check``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sim.qos.targets import bound_text, parse_bound

__all__ = ["judge_point"]

_SIDES = (("max", "<="), ("min", ">="))


def judge_point(targets: Sequence[Any], metric: str, mean: float | None,
                low: float | None, high: float | None) -> list[tuple[str, bool]]:
    """(bound as written, met) for each bound that `targets` put on `metric`."""
    out = []
    for target in targets:
        if target.metric != metric:
            continue
        for side, op in _SIDES:
            bound = getattr(target, side)
            if bound is None:
                continue
            limit = parse_bound(bound, metric)
            met = False
            if mean is not None and math.isfinite(mean):
                end = high if op == "<=" else low
                judged = mean if end is None or not math.isfinite(end) else end
                met = judged <= limit if op == "<=" else judged >= limit
            out.append((f"{op} {bound_text(bound)}", met))
    return out
