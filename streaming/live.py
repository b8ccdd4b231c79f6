"""Live classes: a teacher's real-time stream relayed to every student, frame by frame.

One frame, as a chain of callbacks:

    capture -> encode -> uplink to the relay (one flow)
            -> relay forwarding -> downlink to each student (one flow each)
            -> decode -> display -> record (one row per student)

This is the stream the live mode (``streaming/webrtc``) replaces with a real
aiortc relay, so its records are the shared ``frames`` table
(:data:`streaming.frames.FRAME_COLUMNS`).  Students join uniformly within
[start, start + start_spread]; a student receives the frames captured after
joining.

Congestion response (``congestion: aimd``): the relay measures each frame's
one-way uplink delay less the frame's transfer time at the uplink's rate (so a
large key frame is not taken for congestion); its excess over the smallest such
delay seen is the queueing delay.  Above :data:`OVERUSE` the teacher's encoder cuts its bitrate by
:data:`DECREASE` (at most once per :data:`HOLD`); below :data:`UNDERUSE` it adds
:data:`INCREASE` of the target per second, up to the target.  This is a
delay-based AIMD in the spirit of WebRTC's congestion control (Carlucci et al.,
MMSys 2016), not a model of it; feedback reaches the sender at once.  The relay
does not adapt per student (no simulcast): a slow student's frames come late.

Receive side (``jitter_buffer: aiortc``, ``retransmission: nack``; the rules are in
:mod:`streaming.receive`).  The relay's buffer releases frame k when it is complete
and frame k+1's first packet has arrived; as the relay must act then, that arrival
is worked out when frame k+1 leaves the teacher: the uplink's propagation delay, a
jitter draw of the route's own (from the workload's ``jitter`` stream, not the one
the flow drew), and one packet at the uplink's rate.  The relay forwards `relay_delay`
after the release.  A student's buffer only records, so it uses each frame's actual
arrival: the first packet came when the last byte arrived less the rest of the frame
at the downlink's rate (exact for a flow alone on its route).  Frames are numbered
per receiver in the order the relay forwards them.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from sim.engine import Wake
from sim.net.network import Route
from sim.net.topology import Path, Topology
from sim.run.workload import WORKLOADS, RunContext, SummarySection, Table
from sim.scenario.problems import Problem
from sim.scenario.workload_spec import WorkloadSpec
from sim.sites import storage_site as video_site
from streaming.frames import (
    T_CAPTURE,
    WIDTH,
    FrameLog,
    FrameLoss,
    FrameSizer,
    exposure,
    frame_summary,
)
from streaming.overview import FRAMES
from streaming.receive import Nack, ReleaseOrder
from streaming.schema import LiveClassSpec

__all__ = ["DECREASE", "HOLD", "INCREASE", "OVERUSE", "UNDERUSE", "LiveClass"]

OVERUSE = 0.025
"""Queueing delay (s) on the uplink above which the sender backs off."""
UNDERUSE = 0.010
"""Queueing delay (s) below which the sender probes for more rate."""
DECREASE = 0.85
"""Multiplicative back-off of the bitrate."""
HOLD = 0.1
"""Least time (s) between two back-offs, so one queue build-up is one cut."""
INCREASE = 0.08
"""Additive increase, as a share of the target bitrate per second."""


def relay_of(topology: Topology, spec: LiveClassSpec) -> str | None:
    """The relay site: "nearest_mec" means nearest to the teacher."""
    return video_site(topology, spec.relay, topology.groups[spec.teacher].attach)


class _Student:
    __slots__ = ("buffer", "client", "delivery", "down", "join", "nack", "rest", "up", "user")

    def __init__(self, client: int, user: int, down: Route, join: float, up: Path) -> None:
        self.client = client
        self.user = user
        self.down = down
        self.up = up
        """Its path to the relay, which carries its NACKs."""
        self.join = join
        self.delivery = down.path.delivery
        self.nack: Nack | None = None
        """Losses and repairs of its downlink (with a receive model)."""
        self.buffer: ReleaseOrder[list[Any]] | None = None
        """Its jitter buffer, from the first frame the relay forwards to it."""
        self.rest = 0.0
        """Seconds per byte after the first packet, on its downlink (with a buffer)."""


@WORKLOADS.register("live_class")
class LiveClass:
    """One teacher streams to the students of some groups through a relay site."""

    spec_class: ClassVar[type[WorkloadSpec]] = LiveClassSpec
    sections: ClassVar[tuple[SummarySection, ...]] = (FRAMES,)
    plots: ClassVar[str] = "streaming.plots:FRAME_PLOTS"

    @staticmethod
    def route_problems(spec: LiveClassSpec, index: int, topology: Topology) -> list[Problem]:
        problems: list[Problem] = []
        relay = relay_of(topology, spec)
        if relay is None:
            return [Problem(("workloads", index, "relay"), "no MEC site for the relay")]
        topology.require_path(topology.groups[spec.teacher].attach, relay,
                              ("workloads", index, "teacher"), problems,
                              f'the teacher "{spec.teacher}" cannot reach "{relay}"')
        for j, group in enumerate(spec.students):
            topology.require_path(topology.groups[group].attach, relay,
                                  ("workloads", index, "students", j), problems,
                                  f'user group "{group}" cannot reach "{relay}"')
        return problems

    def __init__(self, spec: LiveClassSpec, ctx: RunContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.env = ctx.engine.env
        self.net = ctx.network
        topo = ctx.topology
        relay = relay_of(topo, spec)
        up = None if relay is None else topo.user_paths(spec.teacher, relay)
        if relay is None or up is None:  # checked when the run was prepared
            raise RuntimeError(f"no relay for {spec.name}")
        self.relay = relay
        self.up = self.net.route(up[0][0])
        self.up_delivery = self.up.path.delivery
        self.sizer = FrameSizer(spec.bitrate, spec.frame_rate, spec.gop, spec.key_ratio)
        self.interval = 1.0 / spec.frame_rate
        self.t0 = spec.start
        horizon = ctx.engine.duration
        self.t_end = horizon if spec.session is None else min(horizon, spec.start + spec.session)
        self.deadline = spec.max_latency if spec.deadline is None else spec.deadline
        self.after_arrival = spec.decode
        rng = ctx.engine.streams(f"workload/{spec.name}/joins")
        self.students: list[_Student] = []
        for i, group in enumerate(spec.students):
            paths = topo.user_paths(group, relay)
            if paths is None:  # checked when the run was prepared
                raise RuntimeError(f"no route from {relay} to {group}")
            count = topo.groups[group].count
            joins = spec.start + spec.start_spread * rng.random(count)
            self.students += [_Student(i, u, self.net.route(paths[1][u]), float(joins[u]),
                                       paths[0][u])
                              for u in range(count)]
        self.log = FrameLog(spec.name, "live", list(spec.students), [relay], self.deadline,
                            ctx.spill)
        self.loss = FrameLoss(ctx.engine.streams(f"workload/{spec.name}/loss"), spec.packet_size)
        self._next_id = 0
        self.frame = 0
        self.rate = spec.bitrate
        self._min_delay = math.inf
        self._last_cut = -math.inf
        self._uplink: dict[int, list[Any]] = {}
        """Frames on their way to the relay, by uplink flow."""
        self.bytes_sent = 0.0
        self.uplink_flows = 0
        self.downlink_flows = 0
        self.receive = spec.jitter_buffer != "none" or spec.retransmission != "none"
        """Whether the receive side is modelled; without it the chain is as it was."""
        self.buffered = spec.jitter_buffer != "none"
        if self.receive:
            self._receive_side(ctx, up)

    def _receive_side(self, ctx: RunContext, up: Any) -> None:
        spec = self.spec
        retransmit = spec.retransmission == "nack"
        rng = ctx.engine.streams(f"workload/{spec.name}/receive")
        back = self.net.route(up[1][0])  # the relay's NACKs go back down to the teacher
        self.up_nack = Nack(rng, spec.packet_size, self.up, back, retransmit)
        self.relay_buffer: ReleaseOrder[list[Any]] = ReleaseOrder(0)
        self.jitter = ctx.engine.streams(f"workload/{spec.name}/jitter")
        self._forwarded = 0
        for student in self.students:
            student.nack = Nack(rng, spec.packet_size, student.down,
                                self.net.route(student.up), retransmit)
            student.rest = student.down.overhead / student.down.lone_rate

    # ---------------------------------------------------------------- the chain

    def start(self) -> None:
        if self.t0 < self.t_end:
            Wake(self.env, self.t0, self._capture)

    def _capture(self, _: Wake) -> None:
        now = self.env._now
        k = self.frame
        self.frame = k + 1
        t_next = self.t0 + (k + 1) * self.interval
        if t_next < self.t_end:
            Wake(self.env, t_next - now, self._capture)
        size = self.sizer.size(k) * self.rate / self.spec.bitrate
        frame = [k, size, now, 0.0, -1]  # number, bytes, capture, sent, uplink flow
        if self.spec.encode > 0.0:
            Wake(self.env, self.spec.encode, self._encoded, frame)
        else:
            self._send_up(frame)

    def _encoded(self, ev: Wake) -> None:
        self._send_up(ev.data)

    def _send_up(self, frame: list[Any]) -> None:
        now = self.env._now
        frame[3] = now
        frame[4] = self.net.send(self.up, frame[1],
                                 self._at_relay_received if self.receive else self._at_relay,
                                 frame)
        self._uplink[frame[4]] = frame
        self.uplink_flows += 1
        self.bytes_sent += frame[1]
        if self.buffered:
            # When its first packet reaches the relay (see the module): frame k-1 can go.
            up = self.up
            jitter = sum(mean * self.jitter.exponential() for mean in up.jitter)
            first = now + up.delay + jitter + min(frame[1], self.spec.packet_size) \
                * up.overhead / up.lone_rate
            self._relay_release(self.relay_buffer.first_packet(frame[0], first))

    # ------------------------------------------------ with the receive side modelled

    def _at_relay_received(self, frame: list[Any]) -> None:
        now = self.env._now
        if self.spec.congestion == "aimd":
            self._adapt(now, now - frame[3] - frame[1] / self.up.lone_rate)
        extra = self.up_nack.outcome(frame[1])
        if extra is not None and now + extra - frame[2] > self.spec.max_latency:
            extra = None  # repaired too late for anyone to show it
        if extra is None:
            self._fan_out(frame, True)
            if self.buffered:
                self._relay_release(self.relay_buffer.complete(frame[0], None, frame))
            return
        if self.buffered:
            self._relay_release(self.relay_buffer.complete(frame[0], now + extra, frame))
        else:
            self._relay_release([(frame, now + extra)])

    def _relay_release(self, released: list[tuple[list[Any], float]]) -> None:
        now = self.env._now
        for frame, t in released:
            Wake(self.env, max(0.0, t - now) + self.spec.relay_delay, self._forward_received,
                 frame)

    def _forward_received(self, ev: Wake) -> None:
        frame = ev.data
        del self._uplink[frame[4]]
        k, size, t_capture, _, up_flow = frame
        key = float(k % self.sizer.gop == 0)
        seq = self._forwarded
        self._forwarded = seq + 1
        routes: list[Route] = []
        recs: list[list[Any]] = []
        for student in self.students:
            if student.join > t_capture:
                continue
            if self.buffered and student.buffer is None:
                student.buffer = ReleaseOrder(seq)
            rid = self._next_id
            self._next_id = rid + 1
            rec: list[Any] = [student.client, student.user, 0, k, key, size, t_capture,
                              math.nan, 0.0, up_flow, -1.0, rid, student, seq]
            self.log.inflight[rid] = rec
            routes.append(student.down)
            recs.append(rec)
        if routes:
            flows = self.net.send_many(routes, size, self._arrived_received, recs, True)
            for rec, fid in zip(recs, flows, strict=True):
                rec[10] = fid
            self.downlink_flows += len(flows)

    def _arrived_received(self, rec: list[Any], t: float) -> None:
        student: _Student = rec[WIDTH + 1]
        assert student.nack is not None
        size = rec[5]
        extra = student.nack.outcome(size)
        buffer = student.buffer
        if buffer is None:
            if extra is None:
                rec[8] = 1.0
                self._show(rec, math.nan)
            else:
                self._show(rec, t + extra)
            return
        seq = rec[WIDTH + 2]
        first = t - max(0.0, size - self.spec.packet_size) * student.rest
        released = buffer.first_packet(seq, first)
        if extra is None:
            rec[8] = 1.0
            self._show(rec, math.nan)
            released += buffer.complete(seq, None, rec)
        else:
            released += buffer.complete(seq, t + extra, rec)
        for done, t_release in released:
            self._show(done, t_release)

    def _show(self, rec: list[Any], t: float) -> None:
        """Record a frame released to the decoder at t (NaN: lost)."""
        if not rec[8]:
            shown = t + self.after_arrival
            if shown - rec[6] > self.spec.max_latency:
                rec[8] = 1.0
            else:
                rec[7] = shown
        log = self.log
        del log.inflight[rec[WIDTH]]
        del rec[WIDTH:]
        log.done.extend(rec)
        if len(log.done) >= log.spill_at:
            self._spill()

    # ------------------------------------------------------- without (as it was)

    def _at_relay(self, frame: list[Any]) -> None:
        now = self.env._now
        if self.spec.congestion == "aimd":
            # What the frame's own size explains is not queueing (key frames are large).
            self._adapt(now, now - frame[3] - frame[1] / self.up.lone_rate)
        lost_up = self.loss.lost(self.up_delivery, frame[1])
        if self.spec.relay_delay > 0.0 and not lost_up:
            Wake(self.env, self.spec.relay_delay, self._forward, frame)
        else:
            self._fan_out(frame, lost_up)

    def _forward(self, ev: Wake) -> None:
        self._fan_out(ev.data, False)

    def _fan_out(self, frame: list[Any], lost_up: bool) -> None:
        del self._uplink[frame[4]]
        k, size, t_capture, _, up_flow = frame
        key = float(k % self.sizer.gop == 0)
        log = self.log
        routes: list[Route] = []
        recs: list[list[Any]] = []
        for student in self.students:
            if student.join > t_capture:
                continue
            rec: list[Any] = [student.client, student.user, 0, k, key, size, t_capture,
                              math.nan, float(lost_up), up_flow, -1.0]
            if lost_up:
                log.done.extend(rec)
                if len(log.done) >= log.spill_at:
                    self._spill()
                continue
            if self.loss.lost(student.delivery, size):
                rec[8] = 1.0
            rid = self._next_id
            self._next_id = rid + 1
            rec.append(rid)
            log.inflight[rid] = rec
            routes.append(student.down)
            recs.append(rec)
        if routes:
            # One flow per student, started together (one rate solve for all).
            flows = self.net.send_many(routes, size, self._arrived, recs, True)
            for rec, fid in zip(recs, flows, strict=True):
                rec[10] = fid
            self.downlink_flows += len(flows)

    def _arrived(self, rec: list[Any], t: float) -> None:
        shown = t + self.after_arrival
        if not rec[8]:
            if shown - rec[6] > self.spec.max_latency:
                rec[8] = 1.0  # the receiver gave up on it
            else:
                rec[7] = shown
        log = self.log
        del log.inflight[rec[WIDTH]]
        del rec[WIDTH:]
        log.done.extend(rec)
        if len(log.done) >= log.spill_at:
            self._spill()

    def _spill(self) -> None:
        """Spill the finished frames captured before every frame still to finish.

        Those are the frames with receivers in flight (`inflight`, including the
        receive side's buffers), the frames not yet fanned out (on the uplink, at
        the relay: `_uplink`), and those still being encoded, captured at or after
        ``now - encode`` (half an interval of margin covers rounding)."""
        frames = self.log.inflight.values()
        mark = min(min((rec[T_CAPTURE] for rec in frames), default=math.inf),
                   min((frame[2] for frame in self._uplink.values()), default=math.inf),
                   self.env._now - self.spec.encode - 0.5 * self.interval)
        self.log.spill_before(mark)

    def _adapt(self, now: float, delay: float) -> None:
        """Delay-based AIMD on the teacher's encoder rate (see the module)."""
        self._min_delay = min(self._min_delay, delay)
        queueing = delay - self._min_delay
        target = self.spec.bitrate
        if queueing > OVERUSE and now - self._last_cut >= HOLD:
            self.rate = max(self.spec.min_bitrate, self.rate * DECREASE)
            self._last_cut = now
        elif queueing < UNDERUSE:
            self.rate = min(target, self.rate + INCREASE * target * self.interval)

    # ------------------------------------------------------------------ results

    def _settle(self) -> None:
        """After the run: frames still on the uplink become in-flight rows of each
        student (missed once their deadline has passed), and records lose their ids."""
        for rec in self.log.inflight.values():
            del rec[WIDTH:]
        for frame in self._uplink.values():
            k, size, t_capture, _, up_flow = frame
            key = float(k % self.sizer.gop == 0)
            for student in self.students:
                if student.join <= t_capture:
                    rid = self._next_id
                    self._next_id = rid + 1
                    self.log.inflight[rid] = [student.client, student.user, 0, k, key, size,
                                              t_capture, math.nan, 0.0, up_flow, -1.0]
        self._uplink.clear()

    def tables(self) -> dict[str, Table]:
        self._settle()
        return {"frames": self.log.table(self.ctx.engine.now)}

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        self._settle()
        now = self.ctx.engine.now
        joins = np.array([max(s.join, self.t0) for s in self.students])
        ends = np.full(len(joins), min(self.t_end, now))
        grid = np.full(len(joins), self.t0)
        section = frame_summary(self.log, start, end, now,
                                exposure(grid, joins, ends, start, end, self.interval),
                                len(self.students))
        section["relay"] = self.relay
        section["frames_sent"] = self.frame
        sending = min(self.t_end, now) - self.t0
        section["sent_bitrate_bps"] = 8.0 * self.bytes_sent / sending if sending > 0 else None
        section["uplink_flows"] = self.uplink_flows
        section["downlink_flows"] = self.downlink_flows
        section["deadline_s"] = self.deadline
        return {"frames": {self.spec.name: section}}
