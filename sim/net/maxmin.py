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

__all__ = ["max_min_classes", "max_min_rates"]

FloatArray = NDArray[np.float64]

_TOL = 1e-12

SMALL_CLASSES = 8
"""Up to this many classes are solved in plain Python (numpy's per-call cost dominates)."""


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


def max_min_classes(paths: Sequence[Sequence[int]], counts: Sequence[int],  # noqa: C901, PLR0912  # being rewritten; split in issue 15 step 5
                    capacity: Sequence[float], class_cap: Sequence[float]) -> list[float]:
    """Max-min rates of flow classes: class j is `counts[j]` identical flows on `paths[j]`.

    Identical flows (same constraints, same cap) are symmetric in progressive filling,
    so they always freeze together at one rate; solving for classes instead of flows
    makes the cost follow how many *kinds* of flow share a bottleneck, not how many
    flows.  Few classes are filled in plain Python; more go to :func:`max_min_rates`
    with the counts as weights.  A class with an empty path is held by its cap alone.
    """
    n = len(paths)
    if n > SMALL_CLASSES:
        chans = sorted({c for path in paths for c in path})
        row = {c: i for i, c in enumerate(chans)}
        weights = np.zeros((len(chans), n))
        for j, path in enumerate(paths):
            for c in path:
                weights[row[c], j] = counts[j]
        caps = np.asarray(class_cap, dtype=float)
        solved: list[float] = max_min_rates(
            weights, np.asarray([capacity[c] for c in chans], dtype=float), caps).tolist()
        return solved
    rate = [0.0] * n
    left = {c: capacity[c] for path in paths for c in path}
    active = list(range(n))
    while active:
        load: dict[int, int] = {}
        for j in active:
            for c in paths[j]:
                load[c] = load.get(c, 0) + counts[j]
        step = math.inf
        tight: int | None = None
        for c, k in load.items():
            share = left[c] / k
            if share < step:
                step, tight = share, c
        capped = False
        for j in active:
            if class_cap[j] - rate[j] < step:
                step, capped = class_cap[j] - rate[j], True
        if not math.isfinite(step):
            raise ValueError("a flow crosses no constraint and has no cap")
        for j in active:
            rate[j] += step
        for c, k in load.items():
            left[c] = max(left[c] - step * k, 0.0)
        saturated = {c for c in load if left[c] <= _TOL * capacity[c]}
        if not capped and tight is not None:
            saturated.add(tight)
        still = []
        for j in active:
            at_cap = math.isfinite(class_cap[j]) and (
                class_cap[j] - rate[j] <= _TOL * abs(class_cap[j]))
            if not at_cap and not any(c in saturated for c in paths[j]):
                still.append(j)
        if len(still) == len(active):  # rounding kept everyone: freeze the tightest
            still = [j for j in active if tight not in paths[j]]
        active = still
    return rate
