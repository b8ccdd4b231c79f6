"""Flow-level transport: messages as fluid flows sharing channels max-min fairly.

A message of S bytes on a route is a *flow*.  While it is being sent it holds a
rate on every channel of its route; rates are max-min fair, re-solved whenever a
flow starts or ends, and only for the flows connected to it through shared
channels.  The last byte arrives one propagation delay (plus jitter, when the
route has any) after the flow's last byte left, so a message alone on its route
takes exactly ``delay + S / bottleneck``.

Fast path: a flow whose lone rate (its route's bottleneck, or its TCP cap) fits in
the capacity left on every channel of its route, none of which a shared-mode flow
holds, changes nobody's max-min rate and needs no solver: it runs at that rate,
its completion is known when it starts, and it is scheduled as one event (its
delivery).  Such a *fixed* flow is forgotten lazily, when the next flow on its
channels finds it finished; as it never holds a saturated channel, its leaving
cannot raise anyone's rate.

Shared mode: a flow that does not fit joins a *flow class* (:mod:`sim.net.flow_class`)
and draws the fixed flows on its channels in with it, so a channel never carries
both kinds.  Members of a class have the same constraining channels and cap, so
max-min gives them one rate and they finish in a fixed order on the class's
virtual clock.  A re-solve works on classes, not flows (``max_min_classes``), and
changes a class's rate, not each member's bytes and events; the network keeps one
timer for the next completion of any class.  A channel only one shared-mode flow
crosses is a cap of that flow, not a constraint: so the viewers of one congested
building uplink, each on its own access link, are one class however many they are.

Loss model: a route that delivers each packet with probability q = prod(1 - loss)
carries S / q bytes for S delivered (retransmissions use capacity); latency grows
with the extra bytes.  With the optional TCP-like cap a flow's rate is also at most
window / RTT and the Mathis et al. bound MSS / RTT * sqrt(3/2) / sqrt(1 - q).

Passive messages: a sender that only needs to *record* when a message arrived (a
response whose arrival triggers nothing) uses :meth:`FlowNetwork.send_passive`.
A fixed passive flow then costs no event at all: its arrival time is reported
to the recorder when the flow is forgotten (lazily, as above) or at the end of
the run, and only if it falls within the run.  That saves one event per request.

Jitter: a channel with jitter J adds an exponential delay of mean J to every
message that crosses it, drawn when the message starts.

Time-varying channels (the radio hop): a channel marked *eager* may change its
capacity while flows cross it (:meth:`FlowNetwork.set_capacities`, called by the
radio model when its scheduler re-splits a cell's time or a radio update changes
a UE's peak rate).  Flows on eager channels never take the fast path and are never
forgotten lazily: they are always in shared mode, so the radio model learns at once
(through ``on_busy``) when a UE starts or stops having data, which is what its
scheduler shares out the cell's time by.  A class whose share is zero (a max C/I
scheduler serving someone else) waits without an event until it is re-solved.

Link accounting: fixed flows are recorded as rate segments when they start; a class
records its constraint channels' load whenever its rate or membership changes, and
each member's private channels when it leaves, split at the run's bin edges so the
bytes per bin are exact (:meth:`FlowNetwork.segments`).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from sim.distributions import block_sampler
from sim.engine import Wake
from sim.net.flow_class import ClassKey, FlowClass
from sim.net.shared_mode import SharedMode
from sim.net.topology import Path, Topology
from sim.scenario.schema import TcpSpec

__all__ = ["Flow", "FlowNetwork", "Route"]

Deliver = Callable[[Any], None]
"""Called as ``fn(data)`` at the simulated time the last byte arrives."""
Recorder = Callable[[Any, float], None]
"""Called as ``record(data, t)`` with the arrival time t, possibly at another time."""

class Route:
    """A path prepared for sending: what the hot path needs, precomputed once."""

    __slots__ = ("channels", "delay", "eager", "index", "jitter", "lone_rate", "overhead",
                 "path", "rate_cap", "seg")

    def __init__(self, index: int, path: Path, capacity: list[float], tcp: TcpSpec | None,
                 eager: bool = False):
        self.index = index
        self.path = path
        self.channels = path.channels
        self.delay = path.delay
        self.jitter = path.jitter
        self.overhead = 1.0 / path.delivery
        cap = math.inf
        if tcp is not None:
            rtt = 2.0 * path.delay
            if rtt > 0:
                cap = tcp.window / rtt
                loss = 1.0 - path.delivery
                if loss > 0:
                    cap = min(cap, tcp.mss / rtt * math.sqrt(1.5 / loss))
        self.rate_cap = cap
        self.eager = eager
        """Crosses a channel whose capacity may change: no fast path (see the module)."""
        self.lone_rate = 0.0
        self.update_lone_rate(capacity)
        self.seg = -1
        """Index of its channel set in :attr:`FlowNetwork.segment_sets`."""

    def update_lone_rate(self, capacity: list[float]) -> None:
        bottleneck = min((capacity[c] for c in self.channels), default=math.inf)
        self.lone_rate = min(bottleneck, self.rate_cap)


class Flow:
    """One message in transit.  `left` is bytes still to send as of time `t_seg`.

    The constructor sets what every flow has; a fixed flow's state (`rate`, `t_seg`,
    `t_end`, `t_arrive`, and `wake` if it has an event) is set by the fast path, a
    member's (`vfin`, `t_join`, `v_join`) when it joins a class: a send is the
    hottest call of a run, and most flows never enter shared mode.
    """

    __slots__ = ("cls", "data", "extra", "fn", "id", "left", "passive", "payload",
                 "rate", "route", "t_arrive", "t_end", "t_join", "t_seg", "v_join", "vfin", "wake")

    def __init__(self, fid: int, route: Route, payload: float, left: float, extra: float,
                 fn: Callable[..., None], data: Any, passive: bool) -> None:
        self.id = fid
        self.route = route
        self.payload = payload
        self.left = left
        self.extra = extra
        self.fn = fn
        self.data = data
        self.passive = passive
        self.cls: FlowClass | None = None
        """Its class while in shared mode."""
        self.wake: Wake | None
        """Its pending delivery event, if any (a stale event finds another here)."""
        self.rate: float
        self.t_seg: float
        self.t_end: float
        self.t_arrive: float
        """When a fixed flow's last byte arrives (what its delivery event would say)."""
        self.vfin: float
        """Its class's clock reading at which it has sent its last byte."""
        self.t_join: float
        self.v_join: float
        """When it joined its class, and the class's clock then."""


class FlowNetwork(SharedMode):
    """Moves bytes between nodes of a :class:`Topology` on a simpy environment."""

    def __init__(self, env: simpy.Environment, topology: Topology,
                 rng: np.random.Generator, tcp: TcpSpec | None = None) -> None:
        self.env = env
        self.topology = topology
        self.tcp = tcp
        n = len(topology.channels)
        self.capacity: list[float] = [c.capacity for c in topology.channels]
        self.fixed: list[dict[int, Flow]] = [{} for _ in range(n)]
        """Fixed flows on each channel (finished ones are forgotten lazily)."""
        self.shared: list[dict[int, Flow]] = [{} for _ in range(n)]
        """Shared-mode flows on each channel; a channel never holds both kinds."""
        self._classes_on: list[dict[FlowClass, None]] = [{} for _ in range(n)]
        """Classes for which the channel is a constraint."""
        self._classes: dict[ClassKey, FlowClass] = {}
        self.routes: list[Route] = []
        self._route_of: dict[tuple[str, ...], Route] = {}
        self.segment_sets: list[tuple[int, ...]] = []
        """Channel sets that rate segments refer to: every route's channels, and the
        constraint and private parts of flow classes (see :meth:`segments`)."""
        self._segment_set_of: dict[tuple[int, ...], int] = {}
        self.bin_edges: list[float] = []
        """Times at which link accounting is binned (set by the run before it starts):
        the bytes a shared-mode flow sent are split exactly at these edges."""
        self._next_id = 0
        self._jitter = block_sampler(lambda n: rng.exponential(1.0, n))
        """Unit exponential draws, scaled by each jittery channel's mean."""
        # Rate segments (channel set, t0, t1, rate): `rate` bytes/s on every channel of
        # the set during [t0, t1).  A fixed flow is recorded whole when it starts; if it
        # is later drawn into a class, a segment with the opposite rate cancels the part
        # that did not happen.
        self._segments = array("d")  # flat: 4 numbers per segment, 8 bytes each
        self._due: list[tuple[float, int, FlowClass]] = []
        """Next completion of each class with a rate, (time, seq, class); entries whose
        seq is not their class's current one are stale and skipped."""
        self._seq = 0
        self._timer: Wake | None = None
        self._timer_t = math.inf
        self.messages_delivered = 0
        self.bytes_sent = 0.0
        self.bytes_delivered = 0.0
        self.solves = 0
        self.solved_flows = 0
        """Flows over all re-solves (mean component size = solved_flows / solves)."""
        self.solved_classes = 0
        """Classes over all re-solves: what the solver's work follows."""
        self.largest_component = 0
        self.horizon = math.inf
        """End of the run: passive arrivals after it are not reported."""
        self._eager = [False] * n
        self._routes_on: dict[int, list[Route]] = {}
        """Routes crossing each eager channel (their lone rate follows its capacity)."""
        self._delay_shift: dict[int, float] = {}
        """Eager channels' current delay minus their topology delay (traced latency)."""
        self.on_busy: Callable[[int, bool], None] | None = None
        """Called as ``on_busy(channel, busy)`` when an eager channel gains its first
        flow (True) or loses its last (False)."""

    def mark_eager(self, channels: list[int]) -> None:
        """Declare channels whose capacity may change (before any route crosses them)."""
        if self.routes:
            raise RuntimeError("mark channels eager before routes are prepared")
        for c in channels:
            self._eager[c] = True
            self._routes_on.setdefault(c, [])

    def set_capacities(self, channels: list[int], capacities: list[float]) -> None:
        """New capacities (bytes/s, may be 0) for eager channels; re-solve their flows."""
        now = self.env._now
        touched: set[int] = set()
        seeds: dict[FlowClass, None] = {}
        moved: dict[int, Flow] = {}
        for c, cap in zip(channels, capacities, strict=True):
            if not self._eager[c]:
                raise ValueError(f"channel {c} is not eager")
            if cap == self.capacity[c]:
                continue
            self.capacity[c] = cap
            for route in self._routes_on[c]:
                if route.index not in touched:
                    touched.add(route.index)
                    route.update_lone_rate(self.capacity)
            here = self.shared[c]
            if len(here) == 1:  # private: the capacity is its flow's cap
                for f in here.values():
                    moved[f.id] = f
            elif here:
                seeds.update(self._classes_on[c])
        if moved:
            self._classify(list(moved.values()), now, seeds)
        if seeds:
            self._resolve(seeds, now)

    def set_delays(self, channels: list[int], delays: list[float]) -> None:
        """New one-way propagation delays (s) of eager channels, for flows sent from now
        on (flows in flight keep theirs); routing and TCP caps keep the topology's."""
        base = self.topology.channels
        touched: dict[int, Route] = {}
        for c, delay in zip(channels, delays, strict=True):
            if not self._eager[c]:
                raise ValueError(f"channel {c} is not eager")
            self._delay_shift[c] = delay - base[c].delay
            for route in self._routes_on[c]:
                touched[route.index] = route
        for route in touched.values():
            self._shift_delay(route)

    def _shift_delay(self, route: Route) -> None:
        shift = self._delay_shift
        route.delay = route.path.delay + math.fsum(shift.get(c, 0.0) for c in route.channels)

    def busy(self, channel: int) -> bool:
        """Whether an eager channel has a flow sending on it."""
        return bool(self.shared[channel]) or bool(self.fixed[channel])

    @property
    def messages_sent(self) -> int:
        return self._next_id

    # ------------------------------------------------------------------- routes

    def route(self, path: Path) -> Route:
        """The prepared route of a path (one object per distinct channel sequence)."""
        key = (*map(str, path.channels), "|", *path.nodes)
        route = self._route_of.get(key)
        if route is None:
            eager = any(self._eager[c] for c in path.channels)
            route = Route(len(self.routes), path, self.capacity, self.tcp, eager)
            route.seg = self._segment_set(route.channels)
            self.routes.append(route)
            self._route_of[key] = route
            if eager:
                for c in path.channels:
                    if self._eager[c]:
                        self._routes_on[c].append(route)
                if self._delay_shift:
                    self._shift_delay(route)
        return route

    def _segment_set(self, channels: tuple[int, ...]) -> int:
        index = self._segment_set_of.get(channels)
        if index is None:
            index = len(self.segment_sets)
            self.segment_sets.append(channels)
            self._segment_set_of[channels] = index
        return index

    def fixed_rate(self, route: Route) -> float:
        """Bottleneck of the route's channels whose capacity never changes (inf if none):
        a planning figure that leaves out radio and traced links."""
        return min((self.capacity[c] for c in route.channels if not self._eager[c]),
                   default=math.inf)

    def route_between(self, src: str, dst: str) -> Route:
        """Route between infrastructure nodes or group members written ``group[i]``."""
        path = self._member_path(src, dst)
        if path is None:
            raise ValueError(f"no route from {src!r} to {dst!r}")
        return self.route(path)

    def _member_path(self, src: str, dst: str) -> Path | None:
        topo = self.topology
        src_node, src_i = _split_member(src)
        dst_node, dst_i = _split_member(dst)
        if src_i is not None and dst_i is not None:
            raise ValueError("user-to-user routes go through a site; send twice")
        if src_i is not None:
            paths = topo.user_paths(src_node, dst_node)
            return None if paths is None else paths[0][src_i]
        if dst_i is not None:
            paths = topo.user_paths(dst_node, src_node)
            return None if paths is None else paths[1][dst_i]
        return topo.path(src_node, dst_node)

    # --------------------------------------------------------------------- API

    def transfer(self, src: str, dst: str, size: float, cls: str = "") -> simpy.Event:
        """An event that fires when the last byte of `size` bytes sent now arrives."""
        done = self.env.event()

        def arrived(_: Any) -> None:
            done.succeed()

        self.send(self.route_between(src, dst), size, arrived, None)
        return done

    def send_passive(self, route: Route, size: float, record: Recorder, data: Any) -> None:
        """Send `size` bytes; ``record(data, t)`` learns the arrival time t.

        `record` may be called after t (when the network next looks at the
        channels, or at the end of the run) and must only record: nothing may be
        scheduled from it.  Arrivals after the end of the run are not reported.
        Hot paths call ``send(route, size, record, data, True)`` directly.
        """
        self.send(route, size, record, data, True)

    def send(self, route: Route, size: float, fn: Callable[..., None], data: Any,  # noqa: C901, PLR0912, PLR0915  # inlined hot path
             passive: bool = False, delay: float = 0.0) -> int:
        """Send `size` bytes on `route`; call ``fn(data)`` when the last byte arrives.

        With ``passive=True``, `fn` is a :data:`Recorder` (see :meth:`send_passive`).
        `delay` is added to the route's propagation delay: processing that the last
        byte waits for after the transfer (e.g. an encoder in step with the sender).
        Returns the flow's id (ids count up from 0 in sending order).
        """
        env = self.env
        now = env._now
        self.bytes_sent += size
        extra = route.delay + delay
        if route.jitter:
            extra += self._draw_jitter(route.jitter)
        fid = self._next_id
        self._next_id = fid + 1
        left = size * route.overhead
        channels = route.channels
        if left <= 0.0 or not channels:
            flow = Flow(fid, route, size, left, extra, fn, data, passive)
            flow.wake = Wake(env, extra, self._delivered, flow)
            return fid
        if route.eager:
            self._enter_shared([Flow(fid, route, size, left, extra, fn, data, passive)], now)
            return fid
        fixed = self.fixed
        shared = self.shared
        rate = route.lone_rate
        for c in channels:
            if shared[c]:  # a class holds this channel: the solver decides
                self._enter_shared([Flow(fid, route, size, left, extra, fn, data, passive)],
                                   now)
                return fid
            flows = fixed[c]
            if flows:
                if len(flows) == 1:  # self._drop_finished inlined for its common case
                    (other,) = flows.values()
                    if other.t_end <= now:
                        flows.clear()
                        if other.passive:  # self._report inlined: once per response
                            other.passive = False
                            t = other.t_arrive
                            if t <= self.horizon:
                                self.messages_delivered += 1
                                self.bytes_delivered += other.payload
                                other.fn(other.data, t)
                    elif other.rate + rate > self.capacity[c]:
                        self._enter_shared(
                            [Flow(fid, route, size, left, extra, fn, data, passive)], now)
                        return fid
                else:
                    self._drop_finished(flows, now)
                    if flows and sum([f.rate for f in flows.values()]) + rate > self.capacity[c]:
                        self._enter_shared(
                            [Flow(fid, route, size, left, extra, fn, data, passive)], now)
                        return fid
        flow = Flow(fid, route, size, left, extra, fn, data, passive)
        t_end = now + left / rate
        flow.rate = rate
        flow.t_seg = now
        flow.t_end = t_end
        for c in channels:
            fixed[c][fid] = flow
        self._segments.extend((route.seg, now, t_end, rate))
        delay = t_end - now + extra
        flow.t_arrive = now + delay  # the very float simpy would schedule at
        if not passive:
            flow.wake = Wake(env, delay, self._delivered, flow)
        return fid

    def send_many(self, routes: list[Route], size: float, fn: Callable[..., None],
                  data: list[Any], passive: bool = False) -> list[int]:
        """Send `size` bytes on each route at once (a relay's fan-out); like :meth:`send`
        per route, but the flows join their classes together and are solved once,
        not once per flow.  Returns the flows' ids."""
        env = self.env
        now = env._now
        ids: list[int] = []
        joining: list[Flow] = []
        for route, item in zip(routes, data, strict=True):
            self.bytes_sent += size
            extra = route.delay
            if route.jitter:
                extra += self._draw_jitter(route.jitter)
            fid = self._next_id
            self._next_id = fid + 1
            ids.append(fid)
            flow = Flow(fid, route, size, size * route.overhead, extra, fn, item, passive)
            if flow.left <= 0.0 or not route.channels:
                flow.wake = Wake(env, extra, self._delivered, flow)
                continue
            joining.append(flow)
        if joining:
            self._enter_shared(joining, now)
        return ids

    # --------------------------------------------------------------- internals

    def _draw_jitter(self, means: tuple[float, ...]) -> float:
        total = 0.0
        draw = self._jitter
        for mean in means:
            total += mean * draw()
        return total

    def _drop_finished(self, flows: dict[int, Flow], now: float) -> None:
        """Forget fixed flows that have sent their last byte by `now`."""
        for fid in [f.id for f in flows.values() if f.t_end <= now]:
            f = flows.pop(fid)
            if f.passive:
                self._report(f)

    # ----------------------------------------------------------------- results

    def current_rates(self) -> dict[int, float]:
        """Bytes/s of every flow still sending, by flow id (for inspection and tests)."""
        now = self.env._now
        out: dict[int, float] = {}
        for flows in self.fixed:
            out.update((f.id, f.rate) for f in flows.values() if f.t_end > now)
        for cls in self._classes.values():
            out.update((fid, cls.rate) for fid in cls.members)
        return dict(sorted(out.items()))

    def segments(self) -> dict[str, np.ndarray]:
        """Rate segments as arrays: channel set (an index into :attr:`segment_sets`),
        t0, t1, rate (bytes/s on every channel of the set; may be < 0).

        Only those not yet taken by :meth:`take_segments`."""
        flat = self._segments
        table = np.frombuffer(flat, dtype=float).reshape(-1, 4).copy()  # set ids < 2**53
        return {"route": table[:, 0].astype(np.int64), "t0": table[:, 1],
                "t1": table[:, 2], "rate": table[:, 3]}

    def pending_segments(self) -> int:
        """Segments recorded since the last :meth:`take_segments`."""
        return len(self._segments) // 4

    def take_segments(self) -> dict[str, np.ndarray]:
        """The segments so far (as :meth:`segments`), emptying the buffer: the run
        folds them into its channel loads as it goes, so they are not kept."""
        out = self.segments()
        del self._segments[:]  # the same buffer object: call sites keep working
        return out

    def flush(self, now: float) -> None:
        """End of the run: close the segments of shared-mode flows, and report the
        passive fixed flows that arrived but were not yet forgotten."""
        for flows in self.fixed:
            for f in flows.values():
                if f.passive:
                    self._report(f)
        edges = self.bin_edges
        for cls in list(self._classes.values()):
            cls.advance(now, edges)
            self._close_constraint_segment(cls, now)
            for f in cls.members.values():
                self._write_stint(f, cls, now)
                f.left = f.vfin - cls.v
                f.t_join = now
                f.v_join = cls.v




def _split_member(name: str) -> tuple[str, int | None]:
    if name.endswith("]") and "[" in name:
        base, _, idx = name[:-1].partition("[")
        return base, int(idx)
    return name, None
