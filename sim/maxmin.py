"""Weighted max-min fair rates by progressive filling.

Constraint ``l`` reads ``sum_f W[l, f] * rate[f] <= capacity[l]``.  A wired channel
has weight 1 for each flow crossing it; a time-shared radio cell has weight
``1 / peak_rate[f]`` and capacity 1, so the same solver serves both.  All flows
grow at the same pace until a constraint saturates or a flow reaches its own cap;
the flows held by it freeze and the others go on (Bertsekas & Gallager, *Data
Networks*, 2nd ed., section 6.5.2).  Each round freezes at least one flow, so there
are at most F rounds, each a few vectorised numpy operations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["max_min_rates", "max_min_small"]

FloatArray = NDArray[np.float64]

_TOL = 1e-12


def max_min_rates(
    weights: FloatArray, capacity: FloatArray, flow_cap: FloatArray | None = None
) -> FloatArray:
    """Max-min fair rates of F flows over L constraints.

    weights: (L, F) non-negative; capacity: (L,) positive; flow_cap: (F,) or None.
    """
    n_links, n_flows = weights.shape
    rate = np.zeros(n_flows)
    if n_flows == 0:
        return rate
    active = np.ones(n_flows, dtype=bool)
    left = capacity.astype(float, copy=True)
    uses = weights > 0
    while active.any():
        load = weights[:, active].sum(axis=1)
        used = load > 0
        share = np.full(n_links, np.inf)
        share[used] = left[used] / load[used]
        link = int(np.argmin(share))
        step = float(share[link])
        if flow_cap is not None:
            step = min(step, float((flow_cap - rate)[active].min()))
        if not np.isfinite(step):
            raise ValueError("a flow crosses no constraint and has no cap")
        rate[active] += step
        left -= step * load
        saturated = used & (left <= _TOL * capacity)
        if share[link] <= step:
            saturated[link] = True
        frozen = uses[saturated].any(axis=0)
        if flow_cap is not None:
            frozen |= np.isfinite(flow_cap) & (flow_cap - rate <= _TOL * np.abs(flow_cap))
        active &= ~frozen
        np.maximum(left, 0.0, out=left)
    return rate


def max_min_small(paths: Sequence[Sequence[int]], capacity: Sequence[float],
                  flow_cap: Sequence[float]) -> list[float]:
    """The same allocation for unit weights, in plain Python, for a few flows.

    Contention in the flow network mostly involves two or three flows, where a
    dozen numpy calls per round cost more than the arithmetic; this is the same
    progressive filling written for that case.  `paths[j]` are the constraint
    indices flow j crosses; `capacity` is indexed by them.
    """
    n = len(paths)
    rate = [0.0] * n
    left = {c: capacity[c] for path in paths for c in path}
    active = list(range(n))
    while active:
        count: dict[int, int] = {}
        for j in active:
            for c in paths[j]:
                count[c] = count.get(c, 0) + 1
        step = math.inf
        tight: int | None = None
        for c, k in count.items():
            share = left[c] / k
            if share < step:
                step, tight = share, c
        capped = False
        for j in active:
            if flow_cap[j] - rate[j] < step:
                step, capped = flow_cap[j] - rate[j], True
        if not math.isfinite(step):
            raise ValueError("a flow crosses no constraint and has no cap")
        for j in active:
            rate[j] += step
        for c, k in count.items():
            left[c] = max(left[c] - step * k, 0.0)
        saturated = {c for c in count if left[c] <= _TOL * capacity[c]}
        if not capped and tight is not None:
            saturated.add(tight)
        still = []
        for j in active:
            at_cap = math.isfinite(flow_cap[j]) and (
                flow_cap[j] - rate[j] <= _TOL * abs(flow_cap[j]))
            if not at_cap and not any(c in saturated for c in paths[j]):
                still.append(j)
        if len(still) == len(active):  # rounding kept everyone: freeze the tightest
            still = [j for j in active if tight not in paths[j]]
        active = still
    return rate
