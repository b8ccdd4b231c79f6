"""Flow-level transport: messages as fluid flows sharing channels max-min fairly.

A message of S bytes on a route is a *flow*.  While it is being sent it holds a
rate on every channel of its route; rates are max-min fair, re-solved whenever a
flow starts or ends, and only for the *component* of flows that share channels
with it (directly or through other flows).  The last byte arrives one propagation
delay (plus jitter, when the route has any) after the flow's last byte left.  So a
message alone on its route takes exactly ``delay + S / bottleneck``.

Fast path: a flow whose lone rate (its route's bottleneck, or its TCP cap) fits in
the capacity left on every channel of its route changes nobody's max-min rate and
needs no solver: it runs at that rate, its completion is known when it starts, and
it is scheduled as one event (its delivery).  Such a *fixed* flow is removed from
its channels lazily, when the next flow on them finds it finished; as it never
holds a saturated channel, its leaving cannot raise anyone's rate.  If a flow
arrives that does not fit, the solver takes in every flow connected to it, and the
stale delivery events of fixed flows whose rate changed are ignored.

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
forgotten lazily: they always end with a departure event, so the radio model learns
at once (through ``on_busy``) when a UE starts or stops having data, which is what
its scheduler shares out the cell's time by.  A flow whose share is zero (a max C/I
scheduler serving someone else) waits without an event until its rate is re-solved.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from sim.engine import Wake
from sim.maxmin import max_min_rates, max_min_small
from sim.scenario.schema import TcpSpec
from sim.topology import Path, Topology

__all__ = ["Flow", "FlowNetwork", "Route"]

Deliver = Callable[[Any], None]
"""Called as ``fn(data)`` at the simulated time the last byte arrives."""
Recorder = Callable[[Any, float], None]
"""Called as ``record(data, t)`` with the arrival time t, possibly at another time."""

SMALL_COMPONENT = 8
"""Components of at most this many flows are solved in plain Python (less overhead)."""

_FIXED = 0
"""Sending at its route's lone rate with a known end; delivery already scheduled."""
_SHARED = 1
"""Rate set by the solver; a departure event is scheduled at its projected end."""


class Route:
    """A path prepared for sending: what the hot path needs, precomputed once."""

    __slots__ = ("channels", "delay", "eager", "index", "jitter", "lone_rate", "overhead",
                 "path", "rate_cap")

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

    def update_lone_rate(self, capacity: list[float]) -> None:
        bottleneck = min((capacity[c] for c in self.channels), default=math.inf)
        self.lone_rate = min(bottleneck, self.rate_cap)


class Flow:
    """One message in transit.  `left` is bytes still to send as of time `t_seg`."""

    __slots__ = ("data", "extra", "fn", "id", "left", "mode", "passive", "payload", "rate",
                 "route", "t_arrive", "t_end", "t_seg", "wake")

    def __init__(self, fid: int, route: Route, payload: float, extra: float,
                 fn: Callable[..., None], data: Any, passive: bool) -> None:
        self.id = fid
        self.route = route
        self.payload = payload
        self.left = payload * route.overhead
        self.extra = extra
        self.fn = fn
        self.data = data
        self.rate = 0.0
        self.t_seg = 0.0
        self.t_end = math.inf
        self.t_arrive = math.inf
        """When a fixed flow's last byte arrives (what its delivery event would say)."""
        self.mode = _FIXED
        self.passive = passive
        self.wake: Wake | None = None


class FlowNetwork:
    """Moves bytes between nodes of a :class:`Topology` on a simpy environment."""

    def __init__(self, env: simpy.Environment, topology: Topology,
                 rng: np.random.Generator, tcp: TcpSpec | None = None) -> None:
        self.env = env
        self.topology = topology
        self.tcp = tcp
        self.capacity: list[float] = [c.capacity for c in topology.channels]
        self._cap_array = np.asarray(self.capacity, dtype=float)
        self.active: list[dict[int, Flow]] = [{} for _ in topology.channels]
        self.routes: list[Route] = []
        self._route_of: dict[tuple[str, ...], Route] = {}
        self._next_id = 0
        self._rng = rng
        self._jitter: list[float] = []
        self._jitter_i = 0
        # Rate segments (route index, t0, t1, rate): a flow held `rate` bytes/s on every
        # channel of the route during [t0, t1).  A fixed flow is recorded
        # whole when it starts; if another flow joins before it ends, a segment with
        # the opposite rate cancels the part that did not happen.
        self._segments = array("d")  # flat: 4 numbers per segment, 8 bytes each
        self.messages_delivered = 0
        self.bytes_sent = 0.0
        self.bytes_delivered = 0.0
        self.solves = 0
        self.solved_flows = 0
        """Flows over all re-solves (mean component size = solved_flows / solves)."""
        self.largest_component = 0
        self.horizon = math.inf
        """End of the run: passive arrivals after it are not reported."""
        self._eager = [False] * len(topology.channels)
        self._routes_on: dict[int, list[Route]] = {}
        """Routes crossing each eager channel (their lone rate follows its capacity)."""
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
        now = self.env.now
        touched: set[int] = set()
        busy: list[int] = []
        for c, cap in zip(channels, capacities, strict=True):
            if not self._eager[c]:
                raise ValueError(f"channel {c} is not eager")
            if cap == self.capacity[c]:
                continue
            self.capacity[c] = cap
            self._cap_array[c] = cap
            for route in self._routes_on[c]:
                if route.index not in touched:
                    touched.add(route.index)
                    route.update_lone_rate(self.capacity)
            if self.active[c]:
                busy.append(c)
        if busy:
            self._resolve(tuple(busy), now)

    def busy(self, channel: int) -> bool:
        """Whether an eager channel has a flow sending on it."""
        return bool(self.active[channel])

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
            self.routes.append(route)
            self._route_of[key] = route
            if eager:
                for c in path.channels:
                    if self._eager[c]:
                        self._routes_on[c].append(route)
        return route

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

    def send(self, route: Route, size: float, fn: Callable[..., None], data: Any,
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
        flow = Flow(fid, route, size, extra, fn, data, passive)
        if flow.left <= 0.0 or not route.channels:
            flow.wake = Wake(env, extra, self._delivered, flow)
            return fid
        if route.eager:
            self._send_eager(flow, now)
            return fid
        active = self.active
        capacity = self.capacity
        rate = route.lone_rate
        fits = True
        for c in route.channels:
            flows = active[c]
            if flows:
                if len(flows) == 1:  # self._drop_finished inlined for its common case
                    for other in flows.values():  # noqa: B007 - fetch the only one
                        break
                    if other.mode == _FIXED and other.t_end <= now:
                        flows.clear()
                        if other.passive:
                            self._report(other)
                    elif other.rate + rate > capacity[c]:
                        fits = False
                else:
                    self._drop_finished(flows, now)
                    if flows and sum(f.rate for f in flows.values()) + rate > capacity[c]:
                        fits = False
            flows[fid] = flow
        if fits:
            t_end = now + flow.left / rate
            flow.rate = rate
            flow.t_seg = now
            flow.t_end = t_end
            self._segments.extend((route.index, now, t_end, rate))
            delay = t_end - now + extra
            flow.t_arrive = now + delay  # the very float simpy would schedule at
            if not passive:
                flow.wake = Wake(env, delay, self._delivered, flow)
        else:
            self._resolve(route.channels, now)
        return fid

    def send_many(self, routes: list[Route], size: float, fn: Callable[..., None],
                  data: list[Any], passive: bool = False) -> list[int]:
        """Send `size` bytes on each route at once (a relay's fan-out); like :meth:`send`
        per route, but the rates of the flows that share channels are solved once,
        not once per flow.  Returns the flows' ids."""
        env = self.env
        now = env._now
        active = self.active
        eager = self._eager
        ids: list[int] = []
        touched: dict[int, None] = {}
        woke: list[int] = []
        for route, item in zip(routes, data, strict=True):
            self.bytes_sent += size
            extra = route.delay
            if route.jitter:
                extra += self._draw_jitter(route.jitter)
            fid = self._next_id
            self._next_id = fid + 1
            ids.append(fid)
            flow = Flow(fid, route, size, extra, fn, item, passive)
            if flow.left <= 0.0 or not route.channels:
                flow.wake = Wake(env, extra, self._delivered, flow)
                continue
            for c in route.channels:
                flows = active[c]
                if not flows:
                    if eager[c]:
                        woke.append(c)
                elif not eager[c]:
                    self._drop_finished(flows, now)
                flows[fid] = flow
                touched[c] = None
        if woke and self.on_busy is not None:
            for c in woke:
                self.on_busy(c, True)
        if touched:
            self._resolve(tuple(touched), now)
        return ids

    # --------------------------------------------------------------- internals

    def _send_eager(self, flow: Flow, now: float) -> None:
        """Start a flow that crosses a time-varying channel: always solved, never fixed."""
        woke: list[int] = []
        for c in flow.route.channels:
            flows = self.active[c]
            if self._eager[c]:
                if not flows:
                    woke.append(c)
            elif flows:
                self._drop_finished(flows, now)
            flows[flow.id] = flow
        if woke and self.on_busy is not None:
            for c in woke:
                self.on_busy(c, True)  # may re-split a cell and re-solve; we solve below
        self._resolve(flow.route.channels, now)

    def _draw_jitter(self, means: tuple[float, ...]) -> float:
        total = 0.0
        for mean in means:
            i = self._jitter_i
            if i == len(self._jitter):
                self._jitter = self._rng.exponential(1.0, 4096).tolist()
                i = 0
            self._jitter_i = i + 1
            total += mean * self._jitter[i]
        return total

    def _delivered(self, ev: Wake) -> None:
        flow: Flow = ev.data
        if flow.wake is not ev:
            return  # superseded: the flow's rate changed after this was scheduled
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

    def _drop_finished(self, flows: dict[int, Flow], now: float) -> None:
        """Forget fixed flows that have sent their last byte by `now`."""
        for fid in [f.id for f in flows.values() if f.mode == _FIXED and f.t_end <= now]:
            f = flows.pop(fid)
            if f.passive:
                self._report(f)

    def _departed(self, ev: Wake) -> None:
        flow: Flow = ev.data
        if flow.wake is not ev:
            return
        now = self.env.now
        # Flows that end at this very instant beside it (a relay's copies of one
        # frame) leave together: one solve instead of one each.
        leaving = {flow.id: flow}
        for c in flow.route.channels:
            for other in self.active[c].values():
                if other.mode == _SHARED and other.t_end <= now and other.wake is not None:
                    leaving[other.id] = other
        idle: list[int] = []
        touched: dict[int, None] = {}
        for f in leaving.values():
            self._segments.extend((f.route.index, f.t_seg, now, f.rate))
            f.left = 0.0
            for c in f.route.channels:
                here = self.active[c]
                del here[f.id]
                touched[c] = None
                if not here and self._eager[c]:
                    idle.append(c)
            f.wake = Wake(self.env, f.extra, self._delivered, f)
        if idle and self.on_busy is not None:
            for c in idle:
                self.on_busy(c, False)
        self._resolve(tuple(touched), now)

    def _component(self, channels: tuple[int, ...], now: float) -> tuple[list[Flow], list[int]]:
        """Flows connected to `channels` through shared channels, and their channels."""
        seen_ch: dict[int, None] = {}
        flows: dict[int, Flow] = {}
        stack = list(channels)
        active = self.active
        while stack:
            c = stack.pop()
            if c in seen_ch:
                continue
            seen_ch[c] = None
            here = active[c]
            self._drop_finished(here, now)
            for fid, f in here.items():
                if fid not in flows:
                    flows[fid] = f
                    stack.extend(f.route.channels)
        ordered = sorted(flows.values(), key=lambda f: f.id)
        return ordered, sorted(seen_ch)

    def _resolve(self, channels: tuple[int, ...], now: float) -> None:
        flows, chans = self._component(channels, now)
        if not flows:
            return
        self.solves += 1
        self.solved_flows += len(flows)
        if len(flows) > self.largest_component:
            self.largest_component = len(flows)
        if len(flows) <= SMALL_COMPONENT:
            rates = max_min_small([f.route.channels for f in flows], self.capacity,
                                  [f.route.rate_cap for f in flows])
        else:
            col = {c: i for i, c in enumerate(chans)}
            weights = np.zeros((len(chans), len(flows)))
            caps = np.empty(len(flows))
            for j, f in enumerate(flows):
                for c in f.route.channels:
                    weights[col[c], j] = 1.0
                caps[j] = f.route.rate_cap
            rates = max_min_rates(weights, self._cap_array[chans], caps).tolist()
        env = self.env
        active = self.active
        segments = self._segments
        for f, rate in zip(flows, rates, strict=True):
            if f.rate > 0.0:
                if f.mode == _FIXED:  # cancel the recorded remainder of its lone run
                    segments.extend((f.route.index, now, f.t_end, -f.rate))
                else:
                    segments.extend((f.route.index, f.t_seg, now, f.rate))
                f.left -= f.rate * (now - f.t_seg)
            f.rate = rate
            f.t_seg = now
            if f.route.eager and f.left <= 1e-9 * f.payload * f.route.overhead:
                # Sent its last byte just as a capacity changed (same instant as its
                # own departure event, which may come later in the queue): done now.
                f.mode = _SHARED
                f.t_end = now
                f.wake = Wake(env, 0.0, self._departed, f)
                continue
            if rate <= 0.0:  # no share now (e.g. max C/I serves another UE): wait
                f.t_end = math.inf
                f.mode = _SHARED
                f.wake = None
                continue
            f.t_end = now + max(f.left, 0.0) / rate
            if not f.route.eager and all(len(active[c]) == 1 for c in f.route.channels):
                f.mode = _FIXED
                segments.extend((f.route.index, now, f.t_end, rate))
                delay = f.t_end - now + f.extra
                f.t_arrive = now + delay
                f.wake = None if f.passive else Wake(env, delay, self._delivered, f)
            else:
                f.mode = _SHARED
                f.wake = Wake(env, f.t_end - now, self._departed, f)

    # ----------------------------------------------------------------- results

    def segments(self) -> dict[str, np.ndarray]:
        """Rate segments as arrays: route index, t0, t1, rate (bytes/s; may be < 0).

        Only those not yet taken by :meth:`take_segments`."""
        flat = self._segments
        table = np.frombuffer(flat, dtype=float).reshape(-1, 4).copy()  # route ids < 2**53
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
        """End of the run: close the segments of flows still sharing channels, and
        report the passive flows that arrived but were not yet forgotten."""
        closed: set[int] = set()
        for flows in self.active:
            for f in flows.values():
                if f.mode == _FIXED:
                    if f.passive:
                        self._report(f)
                elif f.id not in closed:
                    closed.add(f.id)
                    self._segments.extend((f.route.index, f.t_seg, now, f.rate))
                    f.left -= f.rate * (now - f.t_seg)
                    f.t_seg = now


def _split_member(name: str) -> tuple[str, int | None]:
    if name.endswith("]") and "[" in name:
        base, _, idx = name[:-1].partition("[")
        return base, int(idx)
    return name, None
