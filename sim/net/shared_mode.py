"""Shared mode of the flow network: flows in classes, re-solved per class.

:class:`SharedMode` is the part of :class:`sim.net.network.FlowNetwork` that keeps the
flows that do not fit their route's lone rate: it puts them in flow classes
(:mod:`sim.net.flow_class`), re-solves max-min over the classes a change touches,
keeps one engine timer for the next completion of any class, and writes the
classes' rate segments.  It is a base class of the network, not a separate
object, because the fast path and the classes share the per-channel state.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING

import simpy

from sim.engine import Wake
from sim.net.flow_class import ClassKey, FlowClass
from sim.net.maxmin import max_min_classes

if TYPE_CHECKING:
    from sim.net.network import Flow

__all__ = ["SharedMode"]

_GONE = -2
"""The `seq` of a class that has been forgotten."""
_DONE = 1e-12
"""Members whose finishing mark is this close (relative) to their class's clock
when it completes a member leave with it (a relay's copies of one frame)."""


class SharedMode:
    """Flow classes, their re-solves and completions (state set by the network)."""

    env: simpy.Environment
    capacity: list[float]
    fixed: list[dict[int, Flow]]
    shared: list[dict[int, Flow]]
    bin_edges: list[float]
    horizon: float
    on_busy: Callable[[int, bool], None] | None
    messages_delivered: int
    bytes_delivered: float
    solves: int
    solved_flows: int
    solved_classes: int
    largest_component: int
    _eager: list[bool]
    _segments: array[float]
    _classes: dict[ClassKey, FlowClass]
    _classes_on: list[dict[FlowClass, None]]
    _due: list[tuple[float, int, FlowClass]]
    _seq: int
    _timer: Wake | None
    _timer_t: float

    def _segment_set(self, channels: tuple[int, ...]) -> int:
        raise NotImplementedError

    def _enter_shared(self, flows: list[Flow], now: float) -> None:  # noqa: C901, PLR0912  # being rewritten; split in issue 15 step 5
        """Put flows in shared mode: draw in the fixed flows on their channels (so no
        channel holds both kinds), classify them and re-solve what they touch."""
        fixed = self.fixed
        shared = self.shared
        eager = self._eager
        segments = self._segments
        pending = list(flows)
        joined: list[Flow] = []
        reclass: dict[int, Flow] = {}
        woke: list[int] = []
        while pending:
            f = pending.pop()
            joined.append(f)
            for c in f.route.channels:
                here = fixed[c]
                if here:
                    for g in list(here.values()):
                        del here[g.id]
                        if g.t_end <= now:  # done sending: forget it
                            if g.passive:
                                self._report(g)
                            continue
                        # Still sending at its lone rate: drawn into the solver.
                        segments.extend((g.route.seg, now, g.t_end, -g.rate))
                        g.left -= g.rate * (now - g.t_seg)
                        g.wake = None  # its delivery event is now stale
                        for d in g.route.channels:
                            fixed[d].pop(g.id, None)
                        pending.append(g)
                others = shared[c]
                if not others and eager[c]:
                    woke.append(c)
                if len(others) == 1:
                    for h in others.values():
                        reclass[h.id] = h  # its private channel becomes a constraint
                others[f.id] = f
        if woke and self.on_busy is not None:
            for c in woke:
                self.on_busy(c, True)  # may re-split a cell (set_capacities)
        for f in joined:
            reclass[f.id] = f
        seeds: dict[FlowClass, None] = {}
        self._classify(list(reclass.values()), now, seeds)
        self._resolve(seeds, now)

    def _classify(self, flows: list[Flow], now: float, seeds: dict[FlowClass, None]) -> None:
        """Move each flow to the class its channels' current use gives it."""
        shared = self.shared
        capacity = self.capacity
        edges = self.bin_edges
        for f in flows:
            cons: list[int] = []
            cap = f.route.rate_cap
            for c in f.route.channels:
                if len(shared[c]) >= 2:
                    cons.append(c)
                elif capacity[c] < cap:
                    cap = capacity[c]
            key = (tuple(sorted(cons)), cap)
            old = f.cls
            if old is not None:
                if old.key == key:
                    continue
                old.advance(now, edges)
                self._close_constraint_segment(old, now)
                left = f.vfin - old.v
                if left <= 1e-9 * f.payload * f.route.overhead:
                    # Sent its last byte just as its channels changed (the same instant
                    # as its completion, which may come later in the queue): done now.
                    left = 0.0
                self._write_stint(f, old, now)
                del old.members[f.id]
                seeds[old] = None
            else:
                left = f.left
            cls = self._classes.get(key)
            if cls is None:
                cls = FlowClass(key, now)
                self._classes[key] = cls
                for c in cls.channels:
                    self._classes_on[c][cls] = None
            else:
                cls.advance(now, edges)
                self._close_constraint_segment(cls, now)
            f.cls = cls
            f.vfin = cls.v + max(left, 0.0)
            f.t_join = now
            f.v_join = cls.v
            cls.members[f.id] = f
            heappush(cls.heap, (f.vfin, f.id, f))
            seeds[cls] = None

    def _close_constraint_segment(self, cls: FlowClass, now: float) -> None:
        """Record what the class's members sent on its constraint channels since the
        last change of its rate or membership (they all send `rate` there)."""
        if cls.channels and now > cls.t_emit and cls.rate > 0.0 and cls.members:
            self._segments.extend((self._segment_set(cls.channels), cls.t_emit, now,
                                   cls.rate * len(cls.members)))
        cls.t_emit = now

    def _write_stint(self, f: Flow, cls: FlowClass, now: float) -> None:
        """Record what `f` sent on its private channels while in `cls` (bin-exact)."""
        private = tuple(c for c in f.route.channels if c not in cls.channels)
        if not private:
            return
        seg = self._segment_set(private)
        for t0, t1, rate in cls.stint_pieces(f, now, self.bin_edges):
            self._segments.extend((seg, t0, t1, rate))

    def _resolve(self, seeds: dict[FlowClass, None], now: float) -> None:
        """Re-solve the classes connected to `seeds` through constraint channels."""
        comp: dict[FlowClass, None] = {}
        seen: set[int] = set()
        stack = list(seeds)
        classes_on = self._classes_on
        while stack:
            cls = stack.pop()
            if cls in comp or cls.seq == _GONE:
                continue
            for c in cls.channels:
                if c not in seen:
                    seen.add(c)
                    stack.extend(classes_on[c])
            if cls.members:
                comp[cls] = None
            else:  # emptied: its neighbours are re-solved, it is forgotten
                self._drop_class(cls, now)
        if not comp:
            return
        classes = list(comp)
        self.solves += 1
        n_flows = sum(len(k.members) for k in classes)
        self.solved_flows += n_flows
        self.solved_classes += len(classes)
        self.largest_component = max(self.largest_component, n_flows)
        rates = max_min_classes([k.channels for k in classes],
                                [len(k.members) for k in classes], self.capacity,
                                [k.cap for k in classes])
        edges = self.bin_edges
        for cls, rate in zip(classes, rates, strict=True):
            if rate != cls.rate:
                cls.advance(now, edges)
                self._close_constraint_segment(cls, now)
                cls.rate = rate
            elif cls not in seeds:
                continue  # neither its rate nor its members changed
            self._schedule(cls)

    def _drop_class(self, cls: FlowClass, now: float) -> None:
        self._close_constraint_segment(cls, now)
        if self._classes.get(cls.key) is cls:
            del self._classes[cls.key]
            for c in cls.channels:
                self._classes_on[c].pop(cls, None)
        cls.seq = _GONE

    def _schedule(self, cls: FlowClass) -> None:
        """(Re)place the class's next completion in the completion heap."""
        due = cls.next_due()
        if due == math.inf:
            cls.seq = -1
            return
        self._seq += 1
        cls.seq = self._seq
        heap = self._due
        heappush(heap, (due, self._seq, cls))
        if len(heap) > 2 * len(self._classes) + 1024:  # stale entries: compact
            self._due = [e for e in heap if e[1] == e[2].seq]
            heapify(self._due)
        if due < self._timer_t:
            self._timer_t = due
            self._timer = Wake(self.env, max(due - self.env._now, 0.0), self._tick, due)

    def _tick(self, ev: Wake) -> None:
        """The network's one timer: complete every class member due by its time."""
        if ev is not self._timer:
            return  # superseded by an earlier completion
        self._timer = None
        self._timer_t = math.inf
        limit: float = ev.data
        now = self.env._now
        heap = self._due
        due: list[FlowClass] = []
        while heap and heap[0][0] <= limit:
            _, seq, cls = heappop(heap)
            if seq == cls.seq:
                cls.seq = -1
                due.append(cls)
        if due:
            self._depart(due, now)
        heap = self._due
        while heap and heap[0][1] != heap[0][2].seq:
            heappop(heap)
        if heap and heap[0][0] < self._timer_t:
            t = heap[0][0]
            self._timer_t = t
            self._timer = Wake(self.env, max(t - now, 0.0), self._tick, t)

    def _depart(self, due: list[FlowClass], now: float) -> None:
        """Members that have sent their last byte leave; the rest are re-solved."""
        edges = self.bin_edges
        shared = self.shared
        eager = self._eager
        leaving: list[Flow] = []
        seeds: dict[FlowClass, None] = {}
        for cls in due:
            cls.advance(now, edges)
            self._close_constraint_segment(cls, now)
            first = cls.head()
            taken = 0
            while first is not None:
                mark = first.vfin
                if taken and mark - cls.v > _DONE * max(mark, 1.0):
                    break  # the rest of the class is still sending
                leaving.append(first)
                taken += 1
                self._write_stint(first, cls, now)
                del cls.members[first.id]
                first = cls.head()
            seeds[cls] = None
        for f in leaving:
            f.cls = None
        idle: list[int] = []
        single: dict[int, Flow] = {}
        for f in leaving:
            f.left = 0.0
            for c in f.route.channels:
                here = shared[c]
                del here[f.id]
                if len(here) == 1:
                    for h in here.values():
                        single[h.id] = h
                elif not here and eager[c]:
                    idle.append(c)
            f.wake = Wake(self.env, f.extra, self._delivered, f)
        if idle and self.on_busy is not None:
            for c in idle:
                self.on_busy(c, False)
        # A channel left with one flow is that flow's private channel now.
        self._classify([h for h in single.values() if h.cls is not None], now, seeds)
        self._resolve(seeds, now)

    def _delivered(self, ev: Wake) -> None:
        flow: Flow = ev.data
        if flow.wake is not ev:
            return  # superseded: the flow was drawn into a class after this was scheduled
        flow.wake = None
        self.messages_delivered += 1
        self.bytes_delivered += flow.payload
        if flow.passive:
            flow.passive = False  # reported
            flow.fn(flow.data, self.env.now)
        else:
            flow.fn(flow.data)

    def _report(self, flow: Flow) -> None:
        """Report a fixed passive flow's arrival, once, if it is within the run."""
        flow.passive = False
        t = flow.t_arrive
        if t <= self.horizon:
            self.messages_delivered += 1
            self.bytes_delivered += flow.payload
            flow.fn(flow.data, t)
