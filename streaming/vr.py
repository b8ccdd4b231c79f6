"""VR lessons: remote-rendered interactive VR and 360-degree video, frame by frame.

Rendered mode, one frame as a chain of callbacks (no simpy process):

    pose sample -> pose uplink -> render job at the site -> encode
                -> frame downlink -> decode + display -> record

The pose and the frame are flows of the shared network, and the render is a job
of the site's compute (a GPU slot is a server), so VR users compete with each
other and with every other workload for the radio, the backhaul and the GPUs.
The motion-to-photon latency of a frame runs from its pose sample (every frame
interval) to its display; frames are pipelined, so a slow frame does not hold
back the next pose.  A lost pose is not modelled (the site renders with the last
pose it has, and poses are tiny); a frame with a lost packet is lost.

Two shortcuts save half the events of a frame, each with a bounded error:

* The encoder runs in step with the sending (slice by slice, as low-latency
  cloud VR encoders do): the frame's flow starts when rendering ends, and its
  last byte is delivered `encode` after the transfer alone would deliver it.
  With an idle network the latency is the plain sum of the components; under
  load the flow competes from the end of rendering rather than of encoding, at
  most `encode` earlier.
* No timer per frame: when a pose reaches the site, the poses sampled within
  the next frame interval are handed to the network and held until their
  sample times (``send(..., delay=hold)``), so each is delivered at its sample
  time + propagation + transfer, with the transfer rate of the moment it was
  handed over (at most an interval earlier; for a 100-byte pose the transfer is
  tens of microseconds either way).  Steadily one pose is handed over per
  arrival, whatever the pose latency.  When no pose arrives for longer than an
  interval (an uplink stall, a handover interruption; or at a session start
  when a pose takes longer than an interval to arrive) the poses sampled
  meanwhile leave late, at the next arrival, and their lateness counts in the
  motion-to-photon latency.

360-degree video: the site sends the next pre-encoded frame (the whole sphere, or
the tiles in view) at every tick; the latency runs from that send to the display.

Each frame costs two events (pose arrival, render end; the downlink is recorded
passively), or one for 360 video (the tick), which is fine for hundreds of
headsets: ``benchmarks/streams.py`` runs 100 at 60 fps for five minutes.
Larger populations are the subject of docs/streaming.md ("Scale").
"""

from __future__ import annotations

import math
from array import array
from typing import Any, ClassVar

import numpy as np

from sim.engine import Wake
from sim.net.network import Route
from sim.net.topology import Topology
from sim.run.records import ColumnSpill, SpillFolder
from sim.run.workload import WORKLOADS, RunContext, SummarySection, Table, clients_reach
from sim.scenario.problems import Problem
from sim.scenario.workload_spec import WorkloadSpec
from sim.sites import serving_site
from sim.sites import storage_site as video_site
from streaming.frames import (
    FRAME_SCHEMA,
    SPILL_ROWS,
    FrameLog,
    FrameLoss,
    FrameSizer,
    exposure,
    frame_summary,
    sorted_columns,
)
from streaming.overview import FRAMES
from streaming.schema import VrLessonSpec

__all__ = ["VrLesson", "vr_site"]


def vr_site(topology: Topology, spec: VrLessonSpec, attach: str) -> str | None:
    """The rendering (or 360-video) site of users attached at `attach`."""
    if spec.mode == "rendered":
        return serving_site(topology, spec.serve, attach, spec.job)
    return video_site(topology, spec.serve, attach)


class _Headset:
    """One user's headset: its routes and its session."""

    __slots__ = ("client", "delivery", "down", "frame", "index", "pending", "site", "t0",
                 "t_end", "up", "user")

    def __init__(self, index: int, client: int, user: int, site: int, up: Route,
                 down: Route, t0: float, t_end: float) -> None:
        self.index = index
        self.client = client
        self.user = user
        self.site = site
        self.up = up
        self.down = down
        self.t0 = t0
        self.t_end = t_end
        self.frame = 0
        self.pending: set[int] = set()
        """Frames issued and not yet finished: the first bounds what may still finish."""
        self.delivery = down.path.delivery


@WORKLOADS.register("vr_lesson")
class VrLesson:
    """Users of some groups each wear a headset for one VR lesson."""

    spec_class: ClassVar[type[WorkloadSpec]] = VrLessonSpec
    sections: ClassVar[tuple[SummarySection, ...]] = (FRAMES,)
    plots: ClassVar[str] = "streaming.plots:FRAME_PLOTS"

    @staticmethod
    def route_problems(spec: VrLessonSpec, index: int, topology: Topology) -> list[Problem]:
        return clients_reach(topology, spec.clients, index,
                             lambda attach: vr_site(topology, spec, attach))

    def __init__(self, spec: VrLessonSpec, ctx: RunContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.env = ctx.engine.env
        self.net = ctx.network
        self.rendered = spec.mode == "rendered"
        self.interval = 1.0 / spec.frame_rate
        fraction = 1.0 if self.rendered else spec.viewport_fraction
        self.sizer = FrameSizer(spec.bitrate * fraction, spec.frame_rate, spec.gop,
                                spec.key_ratio)
        self.after_arrival = spec.decode + spec.display
        self.encode = spec.encode if self.rendered else 0.0
        self.gop = spec.gop
        self.sizes = [self.sizer.size(k) for k in range(spec.gop)]
        topo = ctx.topology
        groups: list[str] = []
        sites: list[str] = []
        self.headsets: list[_Headset] = []
        rng = ctx.engine.streams(f"workload/{spec.name}/starts")
        horizon = ctx.engine.duration
        for i, group in enumerate(spec.clients):
            site = vr_site(topo, spec, topo.groups[group].attach)
            paths = None if site is None else topo.user_paths(group, site)
            if site is None or paths is None:  # checked when the run was prepared
                raise RuntimeError(f"no route from {group} to {spec.serve}")
            if site not in sites:
                sites.append(site)
            groups.append(group)
            count = topo.groups[group].count
            starts = spec.start + spec.start_spread * rng.random(count)
            for user in range(count):
                t0 = float(starts[user])
                t_end = horizon if spec.session is None else min(horizon, t0 + spec.session)
                self.headsets.append(_Headset(
                    len(self.headsets), i, user, sites.index(site), self.net.route(paths[0][user]),
                    self.net.route(paths[1][user]), t0, t_end))
        kind = "vr_rendered" if self.rendered else "vr_video360"
        self.log = _HeadsetFrames(spec.name, kind, groups, sites, spec.deadline, self,
                                  ctx.spill)
        self._site_objs = [ctx.sites.get(name) for name in sites]
        self.loss = FrameLoss(ctx.engine.streams(f"workload/{spec.name}/loss"), spec.packet_size)

    # ---------------------------------------------------------------- the chain

    def start(self) -> None:
        for headset in self.headsets:
            if headset.t0 < headset.t_end:
                Wake(self.env, headset.t0, self._first if self.rendered else self._tick,
                     headset)

    def _first(self, ev: Wake) -> None:
        """Session start: the first pose, and those sampled before it can arrive."""
        headset: _Headset = ev.data
        now = self.env._now
        self._frame(headset, now)
        self._issue_poses(headset, now, now + headset.up.delay)

    def _issue_poses(self, headset: _Headset, now: float, horizon: float) -> None:
        """Hand over every pose sampled before `horizon` (see the module)."""
        horizon = min(horizon, headset.t_end)
        while headset.t0 + headset.frame * self.interval < horizon:
            self._frame(headset, now)

    def _tick(self, ev: Wake) -> None:
        """A 360-video frame is due: the site sends it."""
        headset: _Headset = ev.data
        now = self.env._now
        t_next = headset.t0 + (headset.frame + 1) * self.interval
        if t_next < headset.t_end:
            Wake(self.env, t_next - now, self._tick, headset)
        self._frame(headset, now)

    def _frame(self, headset: _Headset, now: float) -> None:
        """Start frame `headset.frame` (sampled at its tick, which may be after `now`).

        A frame in flight is ``[headset, frame, display time, lost, uplink flow,
        downlink flow]``; its capture time, size and key flag follow from the
        headset and the frame number, so only the first numbers are recorded.
        """
        k = headset.frame
        headset.frame = k + 1
        headset.pending.add(k)
        rec: list[Any] = [headset, k, math.nan, 0.0, -1.0, -1.0]
        if not self.rendered:
            self._send_frame(rec)
            return
        # The pose of a frame whose tick is still to come is handed to the network
        # now and held until its tick (see the module); a late one is sent at once.
        t_capture = headset.t0 + k * self.interval
        hold = t_capture - now if t_capture > now else 0.0
        rec[4] = self.net.send(headset.up, self.spec.pose_size, self._at_site, rec, False,
                               hold)

    def _at_site(self, rec: list[Any]) -> None:
        headset: _Headset = rec[0]
        now = self.env._now
        self._issue_poses(headset, now, now + self.interval)
        site = self._site_objs[headset.site]
        assert site is not None  # rendered mode: checked to have compute
        site.submit(self.spec.job, self._send_frame, rec)

    def _send_frame(self, rec: list[Any], _start: float = 0.0) -> None:
        """Send a rendered (or stored) frame down, encoded in step with the sending."""
        headset: _Headset = rec[0]
        size = self.sizes[rec[1] % self.gop]
        if headset.delivery < 1.0 and self.loss.lost(headset.delivery, size):
            rec[3] = 1.0
        rec[5] = self.net.send(headset.down, size, self._arrived, rec, True, self.encode)

    def _arrived(self, rec: list[Any], t: float) -> None:
        headset: _Headset = rec[0]
        headset.pending.discard(rec[1])
        log = self.log
        log.done.extend((headset.index, rec[1], math.nan if rec[3] else
                         t + self.after_arrival, rec[3], rec[4], rec[5]))
        if len(log.done) >= log.spill_at:
            log.spill_finished()

    # ------------------------------------------------------------------ results

    def tables(self) -> dict[str, Table]:
        return {"frames": self.log.table(self.ctx.engine.now)}

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        now = self.ctx.engine.now
        starts = np.array([h.t0 for h in self.headsets])
        ends = np.minimum(np.array([h.t_end for h in self.headsets]), now)
        section = frame_summary(self.log, start, end, now,
                                exposure(starts, starts, ends, start, end, self.interval),
                                len(self.headsets))
        section["deadline_s"] = self.spec.deadline
        return {"frames": {self.spec.name: section}}


_COMPACT = 6
"""Numbers per finished frame: headset, frame, display time, lost, flows up and down."""


class _HeadsetFrames(FrameLog):
    """The frames of a VR workload, recorded compactly (see :meth:`VrLesson._frame`).

    With a spill folder, every SPILL_ROWS finished frames the records that are
    certain to come before every other in the table go to disk, sorted: those
    captured before the first frame still in flight (or still to be issued) of any
    headset.  The rest wait for a later spill.  So the table read back is the one
    the in-memory records give, row for row.
    """

    def __init__(self, name: str, kind: str, groups: list[str], sites: list[str],
                 deadline: float, lesson: VrLesson, folder: SpillFolder | None) -> None:
        super().__init__(name, kind, groups, sites, deadline, folder)
        self.lesson = lesson
        self.spill_at = math.inf if folder is None else SPILL_ROWS * _COMPACT

    def count(self) -> int:
        return sum(h.frame for h in self.lesson.headsets)

    def _pending(self) -> tuple[np.ndarray, np.ndarray]:
        """(headset, frame) of the frames issued but not finished, by headset and frame."""
        headsets = self.lesson.headsets
        ks = [sorted(h.pending) for h in headsets]
        hid = np.repeat(np.arange(len(headsets)), [len(k) for k in ks]).astype(np.int64)
        return hid, np.fromiter((k for h in ks for k in h), np.int64, len(hid))

    def raw_columns(self) -> dict[str, np.ndarray]:
        """Every frame in memory: the finished ones, then those issued but not finished
        (in flight at the end: fate unknown)."""
        done = np.frombuffer(self.done, dtype=float).reshape(-1, _COMPACT)
        return self._compact_columns(done, *self._pending())

    def _compact_columns(self, done: np.ndarray, pending_hid: np.ndarray,
                         pending_k: np.ndarray) -> dict[str, np.ndarray]:
        """The record columns of finished compact records and of pending frames, built
        column by column, never as full-width rows."""
        lesson = self.lesson
        headsets = lesson.headsets
        n_pending = len(pending_hid)

        def column(j: int, pending: np.ndarray | float) -> np.ndarray:
            tail = np.full(n_pending, pending) if np.isscalar(pending) else pending
            return np.concatenate([done[:, j], np.asarray(tail, dtype=float)])

        hid = np.concatenate([done[:, 0].astype(np.int64), pending_hid])
        k = column(1, pending_k).astype(np.int64)
        t0 = np.array([h.t0 for h in headsets], dtype=float)
        out = {name: np.array([getattr(h, attr) for h in headsets], float)[hid]
               for name, attr in (("receiver", "client"), ("user", "user"), ("site", "site"))}
        out["frame"] = k
        out["key"] = k % lesson.gop == 0
        out["bytes"] = np.asarray(lesson.sizes, dtype=float)[k % lesson.gop]
        out["t_capture"] = t0[hid] + k * lesson.interval  # as the run computes it
        out["t_display"] = column(2, np.nan)
        out["lost"] = column(3, 0.0)
        out["uplink_flow"] = column(4, -1.0)
        out["downlink_flow"] = column(5, -1.0)
        return out

    def spill_finished(self) -> None:
        """Move the finished frames captured before every unfinished one to disk."""
        assert self.folder is not None
        lesson = self.lesson
        # Frames to come have k >= h.frame; capture times grow with k.
        mark = min((h.t0 + (min(h.pending) if h.pending else h.frame) * lesson.interval
                    for h in lesson.headsets), default=math.inf)
        done = np.frombuffer(self.done, dtype=float).reshape(-1, _COMPACT)
        t0 = np.array([h.t0 for h in lesson.headsets], dtype=float)
        ready = t0[done[:, 0].astype(np.int64)] + done[:, 1].astype(np.int64) * lesson.interval \
            < mark
        if ready.any():
            if self.spill is None:
                self.spill = ColumnSpill(self.folder, f"frames-{self.name}", FRAME_SCHEMA)
            empty = np.zeros(0, np.int64)
            self.spill.write(sorted_columns(self._compact_columns(done[ready], empty, empty)))
            self.done = array("d", done[~ready].tobytes())
        self.spill_at = len(self.done) + SPILL_ROWS * _COMPACT
