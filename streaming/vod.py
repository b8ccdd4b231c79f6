"""Course video on demand: every user watches one HD course video with adaptive bitrate.

The engine drives the engine-independent player (:mod:`streaming.player`) and ABR
policies (:mod:`streaming.abr`).  One segment fetch is a chain of callbacks:

    [wait for buffer room] -> ABR choice -> uplink request -> segment download -> record

The request (`request_size` bytes) goes from the user to the serving site, then the
segment's bytes come back on the downlink; both are flows of the shared network, so
many learners compete for the access, backhaul and site links.  The site serves
segments from storage: no compute job is queued, and a site needs no ``compute``.
The download time handed to the player runs from sending the request to the last byte
of the segment, so it includes the request and the propagation delays, as a real
player measures it.

Each user starts one session at a time drawn uniformly from
[start, start + start_spread].  Every finished segment is a row of the ``segments``
table; ``sessions.<workload>`` of the summary holds the playback metrics of the
sessions that started in the measured window [warmup, duration).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sim.engine import Wake
from sim.net.network import Route
from sim.net.topology import Topology
from sim.run.records import ColumnSpill, LazyTable
from sim.run.workload import WORKLOADS, RunContext, SummarySection, Table, clients_reach
from sim.scenario.problems import Problem
from sim.scenario.workload_spec import WorkloadSpec
from sim.sites import storage_site as video_site
from sim.stats import latency_summary
from streaming.abr import AbrPolicy, make_abr
from streaming.ladder import Ladder, default_ladder, load_manifest
from streaming.overview import SESSIONS
from streaming.player import PlaybackStats, Session
from streaming.qoe import session_qoe
from streaming.schema import CourseVideoSpec

__all__ = ["CourseVideo", "ladder_of", "video_site"]


def ladder_of(spec: CourseVideoSpec, source_dir: str | None = None) -> Ladder:
    """The spec's manifest (read from `source_dir` when relative), its ladder, or the
    default HLS ladder; raises ValueError for a manifest that does not fit the spec."""
    if spec.manifest is not None:
        path = Path(spec.manifest)
        if source_dir is not None and not path.is_absolute():
            path = Path(source_dir) / path
        if not path.is_file():
            raise ValueError(f'manifest file "{spec.manifest}" not found')
        ladder = load_manifest(path, spec.segment_duration)
        p = ladder.segment_duration
        if "segment_duration" in spec.model_fields_set and p != spec.segment_duration:
            raise ValueError(f"the manifest's segments last {p:g} s, but segment_duration "
                             f"is {spec.segment_duration:g} s")
        n = ladder.segments
        if spec.segments is not None and n is not None and spec.segments > n:
            raise ValueError(f"segments ({spec.segments}) exceeds the manifest's {n}")
        if spec.max_buffer < p:
            raise ValueError(f"max_buffer ({spec.max_buffer:g} s) must hold one of the "
                             f"manifest's {p:g} s segments")
        return ladder
    if spec.ladder is None:
        return default_ladder(spec.segment_duration)
    return Ladder(bitrates=tuple(spec.ladder), segment_duration=spec.segment_duration)


class _Viewer:
    """One user's session and its routes."""

    __slots__ = ("client", "down", "pending", "player", "policy", "start", "up", "user")

    def __init__(self, client: int, user: int, up: Route, down: Route, start: float,
                 player: Session, policy: AbrPolicy) -> None:
        self.client = client
        self.user = user
        self.up = up
        self.down = down
        self.start = start
        self.player = player
        self.policy = policy
        self.pending: tuple[int, int, float, float] | None = None
        """(segment, level, size, request time) of the segment in flight."""


def abr_params(spec: CourseVideoSpec, ladder: Ladder) -> dict[str, Any]:
    """The ABR policy's parameters; the buffer the BOLA rules and BBA scale to defaults
    to the player's maximum, and BBA checks its map against the segment duration."""
    params: dict[str, Any] = dict(spec.abr.params)
    if spec.abr.name in ("bola", "bola_e", "dynamic"):
        params.setdefault("buffer_capacity", spec.max_buffer)
    elif spec.abr.name == "bba":
        params.setdefault("max_buffer", spec.max_buffer)
        params.setdefault("segment_duration", ladder.segment_duration)
    return params


def abr_problems(spec: CourseVideoSpec, index: int, ladder: Ladder) -> list[Problem]:
    """Bad ABR parameters, located at ``abr.params`` before anything runs."""
    try:
        make_abr(spec.abr.name, **abr_params(spec, ladder))
    except ValueError as exc:
        return [Problem(("workloads", index, "abr", "params"), str(exc))]
    return []


@WORKLOADS.register("course_video")
class CourseVideo:
    """Users of some groups each watch one adaptive-bitrate course video."""

    spec_class: ClassVar[type[WorkloadSpec]] = CourseVideoSpec
    sections: ClassVar[tuple[SummarySection, ...]] = (SESSIONS,)
    plots: ClassVar[str] = "streaming.plots:VIDEO_PLOTS"

    @staticmethod
    def route_problems(spec: CourseVideoSpec, index: int,
                       topology: Topology) -> list[Problem]:
        problems = clients_reach(topology, spec.clients, index,
                                 lambda attach: video_site(topology, spec.serve, attach))
        if spec.manifest is None:  # else checked with the manifest's ladder, below
            problems += abr_problems(spec, index, ladder_of(spec))
        return problems

    @staticmethod
    def file_problems(spec: CourseVideoSpec, index: int,
                      source_dir: str | None) -> list[Problem]:
        """A manifest that is missing, malformed or does not fit the spec."""
        if spec.manifest is None:
            return []
        try:
            ladder = ladder_of(spec, source_dir)
        except (ValueError, OSError) as exc:
            return [Problem(("workloads", index, "manifest"), str(exc))]
        return abr_problems(spec, index, ladder)

    def __init__(self, spec: CourseVideoSpec, ctx: RunContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.env = ctx.engine.env
        self.net = ctx.network
        self.ladder = ladder_of(spec, ctx.source_dir)  # checked by file_problems
        self._abr_params = abr_params(spec, self.ladder)  # checked before the build
        # Per-segment rows: client, user, segment, level, size, t_request, t_done, buffer.
        self._rows: list[tuple[int, int, int, int, float, float, float, float]] = []
        self._spill: ColumnSpill | None = None
        """Rows already written to disk, in recording order, before those in `_rows`."""
        self._spill_at: float = math.inf if ctx.spill is None else SPILL_ROWS
        self.groups: list[str] = []
        self.sites: list[str] = []
        self.viewers: list[_Viewer] = []
        topo = ctx.topology
        rng = ctx.engine.streams(f"workload/{spec.name}/starts")
        for i, group in enumerate(spec.clients):
            site = video_site(topo, spec.serve, topo.groups[group].attach)
            paths = None if site is None else topo.user_paths(group, site)
            if site is None or paths is None:  # checked when the run was prepared
                raise RuntimeError(f"no route from {group} to {spec.serve}")
            self.groups.append(group)
            self.sites.append(site)
            count = topo.groups[group].count
            starts = spec.start + spec.start_spread * rng.random(count)
            for user in range(count):
                self.viewers.append(_Viewer(
                    i, user, self.net.route(paths[0][user]), self.net.route(paths[1][user]),
                    float(starts[user]), self._player(float(starts[user])),
                    make_abr(spec.abr.name, **self._abr_params)))

    def _player(self, start: float) -> Session:
        spec = self.spec
        return Session(self.ladder, spec.segments, startup_threshold=spec.startup_threshold,
                       max_buffer=spec.max_buffer, start_time=start)

    # ---------------------------------------------------------------- the chain

    def start(self) -> None:
        for viewer in self.viewers:
            Wake(self.env, viewer.start, self._wake, viewer)

    def _wake(self, ev: Wake) -> None:
        self._request(ev.data)

    def _request(self, viewer: _Viewer) -> None:
        now = self.env._now
        state = viewer.player.abr_state(now)
        level = viewer.policy.choose(state)
        size = self.ladder.size(state.segment, level)
        viewer.pending = (state.segment, level, size, now)
        self.net.send(viewer.up, self.spec.request_size, self._at_site, viewer)

    def _at_site(self, viewer: _Viewer) -> None:
        assert viewer.pending is not None
        self.net.send(viewer.down, viewer.pending[2], self._downloaded, viewer)

    def _downloaded(self, viewer: _Viewer) -> None:
        now = self.env._now
        assert viewer.pending is not None
        segment, level, size, sent = viewer.pending
        viewer.pending = None
        player = viewer.player
        player.on_segment_downloaded(now, segment, level, size, now - sent)
        self._rows.append((viewer.client, viewer.user, segment, level, size, sent, now,
                           player.buffer_level))
        if len(self._rows) >= self._spill_at:
            self._spill_rows()
        wait = player.time_until_next_request(now)
        if math.isinf(wait):
            return
        if wait > 0:
            Wake(self.env, wait, self._wake, viewer)
        else:
            self._request(viewer)

    # ------------------------------------------------------------------ results

    def _stats(self) -> list[tuple[_Viewer, PlaybackStats]]:
        """Each started session's metrics, playback brought up to the end of the run."""
        now = self.ctx.engine.now
        out: list[tuple[_Viewer, PlaybackStats]] = []
        for viewer in self.viewers:
            if viewer.start > now:
                continue  # not started (e.g. before the run)
            player = viewer.player
            if now >= player.time:
                player.advance(now)  # count a stall or playback up to the end of the run
            out.append((viewer, player.stats()))
        return out

    def _qoe(self, stats: PlaybackStats) -> float:
        qoe = self.spec.qoe
        return session_qoe(stats, self.ladder, kind=qoe.utility, lam=qoe.switch_weight,
                           mu=qoe.rebuffer_weight, mu_s=qoe.startup_weight).total

    def _session_table(self) -> Table:
        done = self._stats()
        nan = math.nan
        groups = np.array(self.groups, dtype=object)
        sites = np.array(self.sites, dtype=object)
        client = np.array([v.client for v, _ in done], dtype=np.int64)
        return {
            "workload": np.full(len(done), self.spec.name, dtype=object),
            "group": groups[client] if len(done) else np.array([], dtype=object),
            "user": np.array([v.user for v, _ in done], dtype=np.int64),
            "site": sites[client] if len(done) else np.array([], dtype=object),
            "t_start": np.array([v.start for v, _ in done], dtype=float),
            "startup_delay_s": np.array([nan if s.startup_delay is None else s.startup_delay
                                         for _, s in done], dtype=float),
            "rebuffer_events": np.array([s.rebuffer_events for _, s in done], dtype=np.int64),
            "rebuffer_time_s": np.array([s.rebuffer_time for _, s in done], dtype=float),
            "rebuffer_ratio": np.array([s.rebuffer_ratio for _, s in done], dtype=float),
            "average_bitrate_bps": np.array([s.average_bitrate if s.segments_downloaded
                                             else nan for _, s in done], dtype=float),
            "switches": np.array([s.switches for _, s in done], dtype=np.int64),
            "qoe": np.array([self._qoe(s) if s.startup_delay is not None else nan
                             for _, s in done], dtype=float),
            "completed": np.array([v.player.complete for v, _ in done], dtype=bool),
        }

    def _raw_rows(self) -> dict[str, np.ndarray]:
        """The rows in memory as float columns (views of one array)."""
        rows = self._rows
        cols = np.array(rows, dtype=float).reshape(len(rows), len(_ROW))
        return {name: cols[:, i] for i, name in enumerate(_ROW)}

    def _spill_rows(self) -> None:
        """Move the rows in memory to disk (the table keeps recording order)."""
        if self._spill is None:
            assert self.ctx.spill is not None
            self._spill = ColumnSpill(self.ctx.spill, f"segments-{self.spec.name}",
                                      dict.fromkeys(_ROW, float))
        self._spill.write(self._raw_rows())
        self._rows = []

    def _segment_table(self) -> Table:
        if self._spill is None:
            return {name: make() for name, make in self._segment_makers(self._raw_rows()).items()}
        if self._rows:
            self._spill_rows()
        spill = self._spill
        spill.close()
        makers = self._segment_makers(LazyTable(_ROW, spill.column, spill.batches))
        return LazyTable(list(makers), lambda name: makers[name](),
                         lambda: ({name: make() for name, make in
                                   self._segment_makers(batch).items()}
                                  for batch in spill.batches()))

    def _segment_makers(self, raw: Mapping[str, np.ndarray],
                        ) -> dict[str, Callable[[], np.ndarray]]:
        """How each column of the segments table is made from the row columns (only
        the row columns a table column needs are read, when it is made)."""
        groups = np.array(self.groups, dtype=object)
        sites = np.array(self.sites, dtype=object)
        bitrates = np.array(self.ladder.bitrates, dtype=float)

        def n() -> int:
            return len(raw["t_done"])

        def ints(name: str) -> np.ndarray:
            return raw[name].astype(np.int64)

        def floats(name: str) -> np.ndarray:
            return np.array(raw[name], dtype=float)  # a copy, as the table owns its columns

        def download() -> np.ndarray:
            return np.asarray(raw["t_done"] - raw["t_request"])

        def throughput() -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.asarray(8.0 * raw["bytes"] / download())

        return {
            "workload": lambda: np.full(n(), self.spec.name, dtype=object),
            "group": lambda: groups[ints("client")] if n() else np.array([], dtype=object),
            "user": lambda: ints("user"),
            "site": lambda: sites[ints("client")] if n() else np.array([], dtype=object),
            "segment": lambda: ints("segment"),
            "level": lambda: ints("level"),
            "bitrate_bps": lambda: bitrates[ints("level")] if n() else np.array([], dtype=float),
            "bytes": lambda: floats("bytes"),
            "t_request": lambda: floats("t_request"),
            "t_done": lambda: floats("t_done"),
            "download_time": download,
            "throughput_bps": throughput,
            "buffer_after": lambda: floats("buffer_after"),
        }

    def tables(self) -> dict[str, Table]:
        return {"segments": self._segment_table(), "video_sessions": self._session_table()}

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        measured = [(v, s) for v, s in self._stats() if start <= v.start < end]
        delays: list[float] = []
        delay_times: list[float] = []
        ratios: list[float] = []
        scores: list[float] = []
        rates: list[float] = []
        events = switches = completed = 0
        stall = 0.0
        for viewer, stats in measured:
            ratios.append(stats.rebuffer_ratio)
            events += stats.rebuffer_events
            stall += stats.rebuffer_time
            switches += stats.switches
            completed += int(viewer.player.complete)
            if stats.segments_downloaded:
                rates.append(stats.average_bitrate)
            if stats.startup_delay is not None:
                delays.append(stats.startup_delay)
                delay_times.append(viewer.start)
                scores.append(self._qoe(stats))
        section: dict[str, Any] = {
            "sessions": sum(start <= v.start < end for v in self.viewers),
            "completed": completed,
            "startup_delay_s": latency_summary(np.asarray(delays, dtype=float),
                                               np.asarray(delay_times, dtype=float)),
            "rebuffer_ratio_mean": float(np.mean(ratios)) if ratios else None,
            "rebuffer_time_s": stall,
            "rebuffer_events": events,
            "average_bitrate_bps": float(np.mean(rates)) if rates else None,
            "switches": switches,
            "qoe_mean": float(np.mean(scores)) if scores else None,
        }
        return {"sessions": {self.spec.name: section}}


_ROW = ("client", "user", "segment", "level", "bytes", "t_request", "t_done", "buffer_after")
"""The numbers of one segment row, in the order `_downloaded` records them."""
SPILL_ROWS = 1 << 16
"""Segment rows kept in memory before they are spilled (a few MB)."""
