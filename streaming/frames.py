"""Frames of real-time streams: sizes, per-frame records and their summary.

Shared by the VR lessons (:mod:`streaming.vr`), the live classes
(:mod:`streaming.live`) and the live mode, which writes real frames in the same
``frames`` schema (:data:`FRAME_COLUMNS`) so that simulated and measured runs load,
summarise and plot alike.

Frame sizes follow the encoder's group of pictures: frame k is a key frame when
``k % gop == 0``; a key frame is `key_ratio` times a delta frame; and a GOP
carries ``gop * bitrate / frame_rate / 8`` bytes, so the mean rate is the bitrate.

Losses: a frame of n packets crosses a route that delivers each packet with
probability q (:attr:`sim.net.topology.Path.delivery`); real-time video does not wait
for retransmissions, so the frame arrives whole with probability q**n.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.run.records import ColumnSpill, LazyTable, SpillFolder, table_batches
from sim.run.workload import Table
from sim.stats import latency_summary

__all__ = ["FRAME_COLUMNS", "FRAME_SCHEMA", "SPILL_ROWS", "FrameLog", "FrameLoss", "FrameSizer",
           "arrival_probability", "exposure", "frame_summary", "sorted_columns"]

SPILL_ROWS = 1 << 16
"""Finished frames kept in memory before the ready ones are spilled (a few MB)."""

FRAME_COLUMNS: dict[str, str] = {
    "workload": "workload name",
    "kind": "vr_rendered, vr_video360 or live",
    "group": "receiver's user group",
    "user": "receiver's index in its group",
    "site": "rendering, streaming or relay site",
    "frame": "frame number of the stream (from 0)",
    "key": "key frame (else delta frame)",
    "bytes": "encoded frame size, B",
    "t_capture": "pose sample (rendered VR), send at the site (360 video) or camera "
                 "capture (live), s",
    "t_display": "shown on the receiver's display, s; NaN if lost or still in flight",
    "latency_s": "t_display - t_capture: motion-to-photon (VR) or glass-to-glass (live), s",
    "deadline_s": "latency budget of the frame, s",
    "missed": "lost, or later than the deadline (in flight past it at the end counts too)",
    "lost": "never displayed: a packet lost, or later than the receiver waits",
    "uplink_flow": "network flow that carried the pose (VR) or frame (live) up; -1 if none",
    "downlink_flow": "network flow that carried the frame down to this receiver; -1 if none",
}
"""The ``frames`` table: one row per frame per receiver, and what each column means."""

# Positions in a frame record (a list of floats while in flight).
(RECEIVER, USER, SITE, FRAME, KEY, BYTES, T_CAPTURE, T_DISPLAY, LOST, UP_FLOW,
 DOWN_FLOW) = range(11)
WIDTH = 11
_RECORD = ("receiver", "user", "site", "frame", "key", "bytes", "t_capture", "t_display",
           "lost", "uplink_flow", "downlink_flow")
"""The record's columns, in their positions."""


@dataclass(frozen=True)
class FrameSizer:
    """Encoded size of each frame of a stream."""

    bitrate: float
    frame_rate: float
    gop: int
    key_ratio: float

    @property
    def delta_bytes(self) -> float:
        gop_bytes = self.gop * self.bitrate / self.frame_rate / 8.0
        return gop_bytes / (self.key_ratio + self.gop - 1)

    @property
    def key_bytes(self) -> float:
        return self.key_ratio * self.delta_bytes

    def size(self, frame: int) -> float:
        return self.key_bytes if frame % self.gop == 0 else self.delta_bytes


def arrival_probability(delivery: float, size: float, packet_size: float) -> float:
    """Probability that all packets of a frame of `size` bytes arrive."""
    return delivery ** max(1, math.ceil(size / packet_size))


class FrameLoss:
    """Draws whether a frame is lost on a route, from one workload's random stream."""

    def __init__(self, rng: np.random.Generator, packet_size: float) -> None:
        self.rng = rng
        self.packet_size = packet_size
        self._draws: list[float] = []
        self._next = 0

    def lost(self, delivery: float, size: float) -> bool:
        """True with probability 1 - P(every packet arrives); no draw on lossless routes."""
        if delivery >= 1.0:
            return False
        i = self._next
        if i == len(self._draws):
            self._draws = self.rng.random(4096).tolist()  # drawn in blocks: cheaper
            i = 0
        self._next = i + 1
        return self._draws[i] >= arrival_probability(delivery, size, self.packet_size)


class FrameLog:
    """Frame records of one workload, as flat floats until the table is built.

    With a spill `folder`, finished records move to a :class:`~sim.run.records.ColumnSpill`
    while the run proceeds (`spill`, already sorted as the table is, and before
    every record left in memory); the columns and the table are then read from it.
    The workload calls :meth:`spill_before` when ``len(done) >= spill_at``.
    """

    def __init__(self, name: str, kind: str, groups: list[str], sites: list[str],
                 deadline: float, folder: SpillFolder | None = None) -> None:
        self.name = name
        self.kind = kind
        self.groups = groups
        self.sites = sites
        self.deadline = deadline
        self.done = array("d")
        self.inflight: dict[int, list[float]] = {}
        self.folder = folder
        self.spill: ColumnSpill | None = None
        self.spill_at: float = math.inf if folder is None else SPILL_ROWS * WIDTH
        """Length of `done` at which the workload asks for a spill."""
        self._cols: Mapping[str, np.ndarray] | None = None

    def spill_before(self, mark: float) -> None:
        """Move the finished records captured before `mark` to disk.

        `mark` must be at most the capture time of every record still to finish or
        to come, so the spilled ones sort before all of them: the table read back is
        the in-memory one, row for row (ties keep recording order within a spill).
        """
        assert self.folder is not None
        done = np.frombuffer(self.done, dtype=float).reshape(-1, WIDTH)
        ready = done[:, T_CAPTURE] < mark
        if ready.any():
            if self.spill is None:
                self.spill = ColumnSpill(self.folder, f"frames-{self.name}", FRAME_SCHEMA)
            rows = done[ready]
            self.spill.write(sorted_columns({name: rows[:, i] for i, name in enumerate(_RECORD)}))
            del rows
            self.done = array("d", done[~ready].tobytes())
        self.spill_at = len(self.done) + SPILL_ROWS * WIDTH

    def count(self) -> int:
        """Records so far, finished or in flight."""
        return len(self.done) // WIDTH + len(self.inflight)

    def rows(self) -> np.ndarray:
        """Every record as a row of WIDTH numbers (finished ones, then those in flight)."""
        return np.concatenate([
            np.frombuffer(self.done, dtype=float).reshape(-1, WIDTH),
            np.array(list(self.inflight.values()), dtype=float).reshape(-1, WIDTH)])

    def raw_columns(self) -> dict[str, np.ndarray]:
        """Every record's numbers by column, in :meth:`rows` order (views of the rows)."""
        rows = self.rows()
        return {name: rows[:, i] for i, name in enumerate(_RECORD)}

    def columns(self) -> Mapping[str, np.ndarray]:
        """Every record (finished and in flight) as columns, by capture time and receiver."""
        if self.spill is not None:
            if not self.spill.closed:  # the records still in memory go last
                self.spill.write(sorted_columns(self.raw_columns()))
                self.spill.close()
                self.done = array("d")
            if not isinstance(self._cols, LazyTable):  # (a summary before the run cached none)
                spill = self.spill
                self._cols = LazyTable(_RECORD, spill.column, spill.batches)
            return self._cols
        n = self.count()
        if self._cols is not None and len(self._cols["t_capture"]) == n:
            return self._cols
        self._cols = sorted_columns(self.raw_columns())
        return self._cols

    def table(self, now: float) -> Table:
        cols = self.columns()
        if isinstance(cols, LazyTable):
            spill = cols
            return LazyTable(list(self._makers(spill, now)),
                             lambda name: self._makers(spill, now)[name](),
                             lambda: ({k: f() for k, f in self._makers(b, now).items()}
                                      for b in spill.batches()))
        return {k: f() for k, f in self._makers(cols, now).items()}

    def _makers(self, cols: Mapping[str, np.ndarray], now: float,
                ) -> dict[str, Callable[[], np.ndarray]]:
        """How each column of the table is made from the record columns (only the
        columns a table column needs are read, when it is made)."""
        groups = np.array(self.groups, dtype=object)
        sites = np.array(self.sites, dtype=object)

        def n() -> int:
            return len(cols["frame"])

        def labels(names: np.ndarray, key: str) -> np.ndarray:
            return names[cols[key]] if n() else np.array([], dtype=object)

        return {
            "workload": lambda: np.full(n(), self.name, dtype=object),
            "kind": lambda: np.full(n(), self.kind, dtype=object),
            "group": lambda: labels(groups, "receiver"),
            "user": lambda: cols["user"],
            "site": lambda: labels(sites, "site"),
            "frame": lambda: cols["frame"],
            "key": lambda: cols["key"],
            "bytes": lambda: cols["bytes"],
            "t_capture": lambda: cols["t_capture"],
            "t_display": lambda: cols["t_display"],
            "latency_s": lambda: cols["t_display"] - cols["t_capture"],
            "deadline_s": lambda: np.full(n(), self.deadline),
            "missed": lambda: missed(cols, self.deadline, now),
            "lost": lambda: cols["lost"],
            "uplink_flow": lambda: cols["uplink_flow"],
            "downlink_flow": lambda: cols["downlink_flow"],
        }


FRAME_SCHEMA: dict[str, Any] = {
    name: (float if name in ("bytes", "t_capture", "t_display") else
           bool if name in ("key", "lost") else np.int64) for name in _RECORD}
"""The record columns' types, as :func:`sorted_columns` makes them (and a spill keeps)."""


def sorted_columns(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Typed record columns in the table's order: by capture time, frame, receiver and
    user, ties in recording order.  Takes `raw` apart, one column at a time, so that
    there is never a second copy of every record."""
    order = np.lexsort((raw["user"], raw["receiver"], raw["frame"], raw["t_capture"]))
    cols: dict[str, np.ndarray] = {}
    for name in _RECORD:
        values = raw.pop(name)[order]
        if name in ("key", "lost"):
            values = values != 0
        elif name not in ("bytes", "t_capture", "t_display"):
            values = values.astype(np.int64, copy=False)
        cols[name] = values
    return cols


def missed(cols: Mapping[str, np.ndarray], deadline: float, now: float) -> np.ndarray:
    """Frames lost, late, or still in flight after their deadline passed."""
    t_capture, t_display = cols["t_capture"], cols["t_display"]
    latency = t_display - t_capture
    with np.errstate(invalid="ignore"):
        late = latency > deadline
    overdue = np.isnan(t_display) & (t_capture + deadline <= now)
    return np.asarray(cols["lost"] | late | overdue)


def frame_summary(log: FrameLog, start: float, end: float, now: float,
                  exposure: float, receivers: int) -> dict[str, Any]:
    """Summary of the frames captured in [start, end).

    `exposure` is the receiver-seconds of sessions inside the window, the
    denominator of the effective frame rate and the received bitrate.  A frame
    still in flight whose deadline has not passed at the end of the run is
    neither counted nor missed: its fate is unknown.  The records are read a row
    group at a time (the log may be on disk: see :class:`FrameLog`), twice: first
    for the counts and the displayed frames' sizes, then for their latencies.  Only
    one of those is whole at a time, 8 bytes per displayed frame, as the exact sum
    and percentiles need them (the same arrays, so the same floats, as one pass over
    in-memory columns).  The records are in capture-time order (:func:`sorted_columns`),
    so the latencies are too.
    """
    frames = displayed_n = lost_n = miss_n = on_time_n = 0
    sizes: list[np.ndarray] = []
    for cols in table_batches(log.columns()):
        t = cols["t_capture"]
        shown, miss, known = _fates(cols, log.deadline, start, end, now)
        displayed = known & shown
        frames += int(known.sum())
        displayed_n += int(displayed.sum())
        lost_n += int(cols["lost"][known].sum())
        miss_n += int(miss[known].sum())
        on_time_n += int((displayed & ~miss).sum())
        sizes.append(cols["bytes"][displayed])
        del cols, t, shown, miss, known, displayed
    out: dict[str, Any] = {
        "receivers": receivers,
        "frames": frames,
        "displayed": displayed_n,
        # a mean of 0/1 values is their count over n, exactly
        "lost_ratio": lost_n / frames if frames else None,
        "deadline_miss_ratio": miss_n / frames if frames else None,
    }
    size = _joined(sizes)
    bytes_shown = float(size.sum())
    del size
    latencies: list[np.ndarray] = []
    last = -math.inf
    for cols in table_batches(log.columns()):
        t = cols["t_capture"]
        if len(t) and not (t[0] >= last and bool(np.all(t[1:] >= t[:-1]))):
            raise RuntimeError(f"frames of {log.name} are out of capture order")
        last = float(t[-1]) if len(t) else last
        shown, _, known = _fates(cols, log.deadline, start, end, now)
        latencies.append((cols["t_display"] - t)[known & shown])
        del cols, t, shown, known
    out["latency_s"] = latency_summary(_joined(latencies), None, consume=True)
    out["effective_frame_rate"] = float(on_time_n / exposure) if exposure > 0 else None
    out["received_bitrate_bps"] = float(8.0 * bytes_shown / exposure) \
        if exposure > 0 else None
    return out


def _fates(cols: Mapping[str, np.ndarray], deadline: float, start: float, end: float,
           now: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shown, missed, known in the window) of some records, as :func:`missed` counts."""
    t = cols["t_capture"]
    t_display = cols["t_display"]
    shown = ~np.isnan(t_display)
    overdue = ~shown & (t + deadline <= now)
    with np.errstate(invalid="ignore"):
        miss = cols["lost"] | (t_display - t > deadline) | overdue
    known = (t >= start) & (t < end) & (shown | cols["lost"] | miss)
    return shown, miss, known


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The parts one after the other, emptying the list (so each part is freed)."""
    out = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0)
    parts.clear()
    return out


def exposure(grid: np.ndarray, starts: np.ndarray, ends: np.ndarray, start: float,
             end: float, interval: float) -> float:
    """Receiver-seconds of frame slots inside the window, for each receiver: its frame
    ticks ``grid + k x interval`` in [starts, ends) and in [start, end), one interval
    each.  Counting slots, not seconds, keeps the effective frame rate at or below
    the frame rate for sessions that are not a whole number of intervals."""
    lo = np.maximum(starts, start)
    hi = np.minimum(ends, end)
    first = np.ceil((lo - grid) / interval - 1e-9)
    past = np.ceil((hi - grid) / interval - 1e-9)
    return float(np.clip(past - first, 0.0, None).sum() * interval)
