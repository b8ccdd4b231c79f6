"""Flow classes: the shared-mode flows that max-min fairness always gives one rate.

Two flows that cross the same *constraining* channels (those carrying two or more
shared-mode flows) and have the same cap (their TCP cap, or the capacity of the
channels only they use) are symmetric in progressive filling: they freeze in the
same round, at the same rate, whatever else shares their channels.  So a class
holds one rate for all its members, and a *virtual clock* ``v``: the bytes each
member has been served since the class formed.  A member that joins with ``left``
bytes to send finishes when ``v`` reaches ``v_join + left``; members finish in
the order of those finishing marks, which never changes while they stay, so a
heap of them gives the next completion.  A re-solve changes a class's rate (one
number) instead of every member's remaining bytes and departure event, which is
what makes a flow's cost follow what changed rather than how many flows share
its bottleneck.  SimGrid's lazy LMM solver keeps completion dates the same way
(Casanova et al., "Versatile, scalable, and accurate simulation of distributed
applications and platforms", JPDC 2014, section 4).

For link accounting the class also remembers its clock at every bin edge it has
crossed, so a member's bytes per time bin can be written when it leaves.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from heapq import heappop
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.net.network import Flow

__all__ = ["ClassKey", "FlowClass"]

ClassKey = tuple[tuple[int, ...], float]
"""Constraining channels (sorted) and the members' common cap (bytes/s)."""


class FlowClass:
    """Shared-mode flows with one constraint set and cap, hence one max-min rate."""

    __slots__ = ("cap", "channels", "edge_v", "heap", "key", "members", "rate", "seq",
                 "t", "t_emit", "v")

    def __init__(self, key: ClassKey, now: float) -> None:
        self.key = key
        self.channels = key[0]
        self.cap = key[1]
        self.rate = 0.0
        """Bytes/s of each member."""
        self.v = 0.0
        """Bytes served to each member since the class formed, as of `t`."""
        self.t = now
        self.t_emit = now
        """Start of the constraint channels' open rate segment (see `FlowNetwork`)."""
        self.heap: list[tuple[float, int, Flow]] = []
        """(finishing mark, flow id, flow); entries of flows that left are skipped."""
        self.members: dict[int, Flow] = {}
        self.edge_v: dict[int, float] = {}
        """Clock at each bin edge (by index) that fell inside the class's life."""
        self.seq = 0
        """Id of the class's valid entry in the network's completion heap."""

    def advance(self, now: float, edges: list[float]) -> None:
        """Move the clock to `now` at the current rate, noting bin edges crossed."""
        t = self.t
        if now <= t:
            return
        if edges:
            i = bisect_right(edges, t)
            n = len(edges)
            while i < n and edges[i] <= now:
                self.edge_v[i] = self.v + self.rate * (edges[i] - t)
                i += 1
        self.v += self.rate * (now - t)
        self.t = now

    def head(self) -> Flow | None:
        """The member that finishes first (stale heap entries are dropped)."""
        heap = self.heap
        members = self.members
        while heap:
            mark, fid, flow = heap[0]
            if members.get(fid) is flow and flow.vfin == mark:
                return flow
            heappop(heap)
        return None

    def next_due(self) -> float:
        """When the first member finishes at the current rate (inf if never)."""
        first = self.head()
        if first is None:
            return math.inf
        left = first.vfin - self.v
        if left <= 0.0:
            return self.t  # done already, even at no rate
        if self.rate <= 0.0:
            return math.inf
        return self.t + left / self.rate

    def stint_pieces(self, flow: Flow, now: float, edges: list[float]
                     ) -> list[tuple[float, float, float]]:
        """(t0, t1, mean rate) of `flow`'s time in this class, split at bin edges:
        each piece carries exactly the bytes the member was served in it."""
        a, va = flow.t_join, flow.v_join
        out: list[tuple[float, float, float]] = []
        if edges:
            i = bisect_right(edges, a)
            n = len(edges)
            while i < n and edges[i] < now:
                e = edges[i]
                ve = self.edge_v[i]
                if ve > va:
                    out.append((a, e, (ve - va) / (e - a)))
                a, va = e, ve
                i += 1
        if now > a and self.v > va:
            out.append((a, now, (self.v - va) / (now - a)))
        return out

