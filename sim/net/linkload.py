"""Bytes carried per channel and time bin, from the network's rate segments.

A segment (route, t0, t1, rate) adds ``rate * overlap`` bytes to each bin of each
channel on its route.  Rather than loop over segments and bins, the cumulative
bytes F(T) of a channel at each bin edge is written as ``slope * T + intercept``,
where a segment adds ``rate`` to the slope and ``-rate * t0`` to the intercept
for edges inside (t0, t1), and ``rate * (t1 - t0)`` to the intercept from t1 on.
Both are difference arrays, kept as five running sums (one per term).

The sums are filled chunk by chunk (:class:`ChannelLoad`), so the network need not
keep its segments for the whole run.  ``np.add.at`` adds each segment's terms one
after the other, in the order the segments came, exactly as one ``np.bincount``
over every segment of the run does: the result does not depend on where the chunks
were cut, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["ChannelLoad", "channel_bytes"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class ChannelLoad:
    """Running per-channel, per-edge sums of the segments seen so far."""

    def __init__(self, n_channels: int, edges: FloatArray) -> None:
        self.edges = np.asarray(edges, dtype=float)
        self.n_channels = n_channels
        self._width = len(self.edges) + 1
        # Sums over segments of: rate at k0, rate at k1, -rate*t0 at k0, -rate*t0 at k1,
        # rate*(t1 - t0) at k1 (k0, k1: the first edge at or after t0 and t1).
        self._sums = np.zeros((5, n_channels * self._width))
        self._flat = np.zeros(0, np.int64)
        self._lengths = np.zeros(0, np.int64)
        self._offsets = np.zeros(0, np.int64)

    def _know(self, route_channels: Sequence[tuple[int, ...]]) -> None:
        """Channel lists of routes created since the last chunk (routes only grow)."""
        known = len(self._lengths)
        if len(route_channels) == known:
            return
        new = route_channels[known:]
        lengths = np.array([len(r) for r in new], dtype=np.int64)
        start = len(self._flat)
        self._flat = np.concatenate(
            [self._flat, np.fromiter((c for r in new for c in r), np.int64, int(lengths.sum()))])
        self._offsets = np.concatenate(
            [self._offsets, start + np.concatenate(([0], np.cumsum(lengths)[:-1]))]
        ).astype(np.int64)
        self._lengths = np.concatenate([self._lengths, lengths])

    def add(self, seg_route: IntArray, t0: FloatArray, t1: FloatArray, rate: FloatArray,
            route_channels: Sequence[tuple[int, ...]]) -> None:
        """Add a chunk of segments (in the order they were recorded)."""
        if not len(seg_route):
            return
        self._know(route_channels)
        per_seg = self._lengths[seg_route]
        seg = np.repeat(np.arange(len(seg_route)), per_seg)
        within = np.arange(len(seg)) - np.repeat(np.cumsum(per_seg) - per_seg, per_seg)
        chan = self._flat[self._offsets[seg_route[seg]] + within]
        s_t0, s_t1, s_rate = t0[seg], t1[seg], rate[seg]
        base = chan * self._width
        at0 = base + np.searchsorted(self.edges, s_t0, side="left")
        at1 = base + np.searchsorted(self.edges, s_t1, side="left")
        sums = self._sums
        start_icpt = -s_rate * s_t0
        np.add.at(sums[0], at0, s_rate)
        np.add.at(sums[1], at1, s_rate)
        np.add.at(sums[2], at0, start_icpt)
        np.add.at(sums[3], at1, start_icpt)
        np.add.at(sums[4], at1, s_rate * (s_t1 - s_t0))

    def copy(self) -> ChannelLoad:
        """An independent copy (to add the last segments without changing this one)."""
        out = ChannelLoad(self.n_channels, self.edges)
        out._sums = self._sums.copy()
        out._flat, out._lengths, out._offsets = self._flat, self._lengths, self._offsets
        return out

    def bytes(self) -> FloatArray:
        """Array (n_channels, len(edges) - 1): bytes each channel carried in each bin."""
        n_edges = len(self.edges)
        s = self._sums.reshape(5, self.n_channels, self._width)
        d_slope = s[0] - s[1]
        d_icpt = s[2] - s[3] + s[4]
        slope = np.cumsum(d_slope, axis=1)[:, :n_edges]
        icpt = np.cumsum(d_icpt, axis=1)[:, :n_edges]
        cumulative = slope * self.edges + icpt
        out: FloatArray = np.diff(cumulative, axis=1)
        return out


def channel_bytes(
    seg_route: IntArray, t0: FloatArray, t1: FloatArray, rate: FloatArray,
    route_channels: Sequence[tuple[int, ...]], n_channels: int, edges: FloatArray,
) -> FloatArray:
    """Array (n_channels, len(edges) - 1): bytes each channel carried in each bin."""
    load = ChannelLoad(n_channels, edges)
    load.add(seg_route, t0, t1, rate, route_channels)
    return load.bytes()
