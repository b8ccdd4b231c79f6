"""Bytes carried per channel and time bin, from the network's rate segments.

A segment (route, t0, t1, rate) adds ``rate * overlap`` bytes to each bin of each
channel on its route.  Rather than loop over segments and bins, the cumulative
bytes F(T) of a channel at each bin edge is written as ``slope * T + intercept``,
where a segment adds ``rate`` to the slope and ``-rate * t0`` to the intercept
for edges inside (t0, t1), and ``rate * (t1 - t0)`` to the intercept from t1 on.
Both are difference arrays filled with one ``bincount`` each.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["channel_bytes"]

FloatArray = NDArray[np.float64]


def channel_bytes(
    seg_route: NDArray[np.int64], t0: FloatArray, t1: FloatArray, rate: FloatArray,
    route_channels: list[tuple[int, ...]], n_channels: int, edges: FloatArray,
) -> FloatArray:
    """Array (n_channels, len(edges) - 1): bytes each channel carried in each bin."""
    n_edges = len(edges)
    lengths = np.array([len(r) for r in route_channels], dtype=np.int64)
    flat = np.fromiter((c for r in route_channels for c in r), np.int64, int(lengths.sum()))
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    per_seg = lengths[seg_route] if len(seg_route) else np.zeros(0, np.int64)
    seg = np.repeat(np.arange(len(seg_route)), per_seg)
    within = np.arange(len(seg)) - np.repeat(np.cumsum(per_seg) - per_seg, per_seg)
    chan = flat[offsets[seg_route[seg]] + within] if len(seg) else np.zeros(0, np.int64)
    s_t0, s_t1, s_rate = t0[seg], t1[seg], rate[seg]
    k0 = np.searchsorted(edges, s_t0, side="left")
    k1 = np.searchsorted(edges, s_t1, side="left")
    width = n_edges + 1
    size = n_channels * width

    def diff(index: NDArray[np.int64], weight: FloatArray) -> FloatArray:
        counts = np.bincount(chan * width + index, weights=weight, minlength=size)
        return counts.astype(np.float64, copy=False).reshape(n_channels, width)

    d_slope = diff(k0, s_rate) - diff(k1, s_rate)
    d_icpt = diff(k0, -s_rate * s_t0) - diff(k1, -s_rate * s_t0) + diff(k1, s_rate * (s_t1 - s_t0))
    slope = np.cumsum(d_slope, axis=1)[:, :n_edges]
    icpt = np.cumsum(d_icpt, axis=1)[:, :n_edges]
    cumulative = slope * edges + icpt
    out: FloatArray = np.diff(cumulative, axis=1)
    return out
