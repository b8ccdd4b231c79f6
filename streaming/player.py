"""The client's playback buffer, driven by download events, and a reference trace driver.

`Session` is the player's bookkeeping, independent of how downloads are simulated: the
caller reports "segment i at level m finished at time t after d seconds"
(`on_segment_downloaded`) and asks how long to wait before the next request
(`time_until_next_request`).  Between events the buffer evolves in closed form, so the
results are exact up to float rounding and do not depend on any time step:

* Startup: nothing plays until `startup_threshold` seconds of media are buffered.
* Playing: the buffer drains at 1 s of media per second of wall time.
* Rebuffering (stall): the buffer hits zero while segments are still to come; playback
  resumes once `rebuffer_threshold` seconds are buffered again (default one segment).
* End: after the last segment, playback drains the buffer and stops; no stall there.
* Full buffer: a segment is requested only if it fits under `max_buffer`, i.e. when
  ``buffer <= max_buffer - segment_duration``; until then the player waits.

While not playing the buffer grows in whole segments only, so both thresholds act as
"this many segments": they are rounded up to whole segments.

`simulate_on_trace` downloads the segments back to back over a piecewise-constant
bandwidth trace (each download time is the exact integral of the trace), which is the
reference that the engine-driven player is checked against.  `load_sabre_trace` reads
the sabre simulator's network traces (shared/traces/sabre/README.md).
"""

from __future__ import annotations

import bisect
import json
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import pairwise
from pathlib import Path
from typing import Any

from streaming.abr import AbrPolicy, AbrState
from streaming.ladder import Ladder

__all__ = [
    "BandwidthTrace",
    "DownloadRecord",
    "Phase",
    "PlaybackStats",
    "Session",
    "TraceRun",
    "load_sabre_trace",
    "simulate_on_trace",
]

_ROUND = 1e-9
"""Relative slack when rounding a threshold up to whole segments (10 s / 2 s is 5)."""


class Phase(Enum):
    STARTUP = "startup"
    PLAYING = "playing"
    STALLED = "stalled"
    ENDED = "ended"


@dataclass(frozen=True)
class DownloadRecord:
    """One finished segment download and the buffer right after it."""

    segment: int
    level: int
    bitrate: float
    size: float
    finish_time: float
    download_time: float
    throughput: float
    buffer_after: float


@dataclass(frozen=True)
class PlaybackStats:
    """Session metrics.

    `startup_delay` runs from `start_time` to the start of playback (None if it never
    started).  `rebuffer_ratio` is stall time over stall time plus media played.
    `average_bitrate` is the mean nominal bitrate of the downloaded segments;
    `switch_magnitude` sums ``|R_k - R_{k-1}|`` (bit/s) over consecutive segments.
    """

    startup_delay: float | None
    rebuffer_events: int
    rebuffer_time: float
    rebuffer_ratio: float
    average_bitrate: float
    switches: int
    switch_magnitude: float
    played_time: float
    segments_downloaded: int
    finished: bool
    end_time: float | None
    levels: tuple[int, ...]
    bitrates: tuple[float, ...]


def _segments_for(threshold: float, duration: float) -> int:
    return max(1, math.ceil(threshold / duration - _ROUND))


class Session:
    """Playback-buffer model of one viewing session (see the module docstring).

    `n_segments` defaults to the ladder's listed segment count.  Times are absolute
    seconds; `start_time` is when the first segment is requested.  The last `history`
    throughputs and download times are kept for the ABR state.
    """

    def __init__(self, ladder: Ladder, n_segments: int | None = None, *,
                 startup_threshold: float | None = None, max_buffer: float = 30.0,
                 rebuffer_threshold: float | None = None, start_time: float = 0.0,
                 history: int = 64) -> None:
        p = ladder.segment_duration
        n = ladder.segments if n_segments is None else n_segments
        if n is None:
            raise ValueError("n_segments is required when the ladder lists no segment sizes")
        if n < 1:
            raise ValueError(f"n_segments must be >= 1, got {n}")
        if ladder.segments is not None and n > ladder.segments:
            raise ValueError(f"n_segments ({n}) exceeds the ladder's {ladder.segments} segments")
        startup = p if startup_threshold is None else startup_threshold
        rebuffer = p if rebuffer_threshold is None else rebuffer_threshold
        for name, value in (("startup_threshold", startup), ("rebuffer_threshold", rebuffer)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be >= 0 and finite, got {value!r}")
        if not math.isfinite(max_buffer) or max_buffer < p:
            raise ValueError(f"max_buffer must hold at least one segment ({p} s), "
                             f"got {max_buffer!r}")
        if history < 1:
            raise ValueError(f"history must be >= 1, got {history}")
        self.ladder = ladder
        self.n_segments = n
        self.max_buffer = float(max_buffer)
        self.start_time = float(start_time)
        self.startup_segments = _segments_for(startup, p)
        self.rebuffer_segments = _segments_for(rebuffer, p)
        for name, k in (("startup_threshold", self.startup_segments),
                        ("rebuffer_threshold", self.rebuffer_segments)):
            if k * p > max_buffer * (1 + _ROUND):
                raise ValueError(f"{name} ({k} segments) does not fit in max_buffer "
                                 f"({max_buffer} s): the player would wait forever")
        self.phase = Phase.STARTUP
        self.records: list[DownloadRecord] = []
        self.rebuffer_intervals: list[tuple[float, float]] = []
        self._t = self.start_time
        self._buffer = 0.0
        self._played = 0.0
        self._since_wait = 0  # segments buffered since playback last stopped
        self._stall_start = 0.0
        self._startup_delay: float | None = None
        self._end: float | None = None
        self._throughputs: deque[float] = deque(maxlen=history)
        self._times: deque[float] = deque(maxlen=history)

    # ---- state -------------------------------------------------------------------------

    @property
    def time(self) -> float:
        """Time of the last event the session has been advanced to."""
        return self._t

    @property
    def buffer_level(self) -> float:
        """Seconds of media buffered at `time`."""
        return self._buffer

    @property
    def next_segment(self) -> int:
        return len(self.records)

    @property
    def complete(self) -> bool:
        """All segments downloaded."""
        return len(self.records) == self.n_segments

    def advance(self, t: float) -> None:
        """Let wall time run to `t`: drain the buffer if playing, maybe start a stall."""
        if t < self._t:
            raise ValueError(f"time went backwards: {t} < {self._t}")
        dt = t - self._t
        if self.phase is Phase.PLAYING and dt > 0:
            if self.complete and self._buffer <= dt:
                self._played += self._buffer
                self._end = self._t + self._buffer
                self._buffer = 0.0
                self.phase = Phase.ENDED
            elif self._buffer >= dt:
                self._buffer -= dt
                self._played += dt
            else:
                self._played += self._buffer
                self._stall_start = self._t + self._buffer
                self._buffer = 0.0
                self._since_wait = 0
                self.phase = Phase.STALLED
        self._t = t

    def abr_state(self, t: float) -> AbrState:
        """What an ABR policy sees when requesting the next segment at time `t`."""
        self.advance(t)
        last = self.records[-1] if self.records else None
        return AbrState(ladder=self.ladder, segment=self.next_segment,
                        buffer_level=self._buffer,
                        last_level=None if last is None else last.level,
                        throughputs=tuple(self._throughputs),
                        download_times=tuple(self._times),
                        idle=0.0 if last is None else t - last.finish_time)

    # ---- events ------------------------------------------------------------------------

    def time_until_next_request(self, t: float) -> float:
        """Seconds to wait at `t` before requesting the next segment (inf if none is left)."""
        self.advance(t)
        if self.complete:
            return math.inf
        room = self.max_buffer - self.ladder.segment_duration
        if self._buffer <= room:
            return 0.0
        if self.phase is Phase.PLAYING:
            return self._buffer - room
        return math.inf  # unreachable: the thresholds were checked against max_buffer

    def on_segment_downloaded(self, t: float, segment: int, level: int, size: float,
                              download_time: float) -> None:
        """Segment `segment` at `level` (`size` bytes) finished at `t` after `download_time` s."""
        if segment != self.next_segment:
            raise ValueError(f"segment {segment} arrived, expected {self.next_segment} "
                             "(segments are downloaded in order)")
        if self.complete:
            raise ValueError("all segments were already downloaded")
        self.ladder.check_level(level)
        if not math.isfinite(size) or size <= 0:
            raise ValueError(f"segment size must be positive, got {size!r}")
        if not math.isfinite(download_time) or download_time <= 0:
            raise ValueError(f"download_time must be positive, got {download_time!r}")
        self.advance(t)
        p = self.ladder.segment_duration
        self._buffer += p
        self._since_wait += 1
        throughput = 8.0 * size / download_time
        self._throughputs.append(throughput)
        self._times.append(download_time)
        self.records.append(DownloadRecord(
            segment=segment, level=level, bitrate=self.ladder.bitrates[level], size=size,
            finish_time=t, download_time=download_time, throughput=throughput,
            buffer_after=self._buffer))
        if self.phase is Phase.STARTUP:
            if self._since_wait >= self.startup_segments or self.complete:
                self._startup_delay = t - self.start_time
                self.phase = Phase.PLAYING
        elif self.phase is Phase.STALLED and (
                self._since_wait >= self.rebuffer_segments or self.complete):
            self.rebuffer_intervals.append((self._stall_start, t))
            self.phase = Phase.PLAYING

    # ---- results -----------------------------------------------------------------------

    def stats(self) -> PlaybackStats:
        """Metrics so far; once all segments are in, playback is run out to its end."""
        played, end = self._played, self._end
        if self.complete and self.phase is Phase.PLAYING:
            played += self._buffer
            end = self._t + self._buffer
        stall = math.fsum(b - a for a, b in self.rebuffer_intervals)
        events = len(self.rebuffer_intervals)
        if self.phase is Phase.STALLED:
            stall += self._t - self._stall_start
            events += 1
        rates = tuple(r.bitrate for r in self.records)
        levels = tuple(r.level for r in self.records)
        steps = [abs(b - a) for a, b in pairwise(rates)]
        return PlaybackStats(
            startup_delay=self._startup_delay,
            rebuffer_events=events,
            rebuffer_time=stall,
            rebuffer_ratio=stall / (stall + played) if stall + played > 0 else 0.0,
            average_bitrate=math.fsum(rates) / len(rates) if rates else 0.0,
            switches=sum(1 for a, b in pairwise(levels) if a != b),
            switch_magnitude=math.fsum(steps),
            played_time=played,
            segments_downloaded=len(rates),
            finished=end is not None,
            end_time=end,
            levels=levels,
            bitrates=rates,
        )


# ---- bandwidth traces --------------------------------------------------------------------


@dataclass(frozen=True)
class BandwidthTrace:
    """Piecewise-constant bandwidth: periods of (duration s, bandwidth bit/s), in order.

    With `repeat` the trace starts over when it runs out (sabre's convention); without,
    its last period lasts forever.  `latencies` (s, one per period) is the request
    latency for requests made during that period, as sabre traces give it.
    """

    periods: tuple[tuple[float, float], ...]
    repeat: bool = True
    latencies: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("bandwidth trace has no periods")
        for i, (d, bw) in enumerate(self.periods):
            if not math.isfinite(d) or d <= 0:
                raise ValueError(f"bandwidth trace period {i}: duration must be positive")
            if not math.isfinite(bw) or bw < 0:
                raise ValueError(f"bandwidth trace period {i}: bandwidth must be >= 0")
        if self.repeat and all(bw == 0 for _, bw in self.periods):
            raise ValueError("bandwidth trace has no period with positive bandwidth")
        if not self.repeat and self.periods[-1][1] == 0:
            raise ValueError("a non-repeating bandwidth trace must end with positive bandwidth")
        if self.latencies is not None:
            if len(self.latencies) != len(self.periods):
                raise ValueError("bandwidth trace needs one latency per period")
            if any(not math.isfinite(x) or x < 0 for x in self.latencies):
                raise ValueError("bandwidth trace latencies must be >= 0")

    @property
    def duration(self) -> float:
        """Length of one pass through the trace (s)."""
        return math.fsum(d for d, _ in self.periods)

    def _starts(self) -> list[float]:
        starts = [0.0]
        for d, _ in self.periods[:-1]:
            starts.append(starts[-1] + d)
        return starts

    def _locate(self, t: float, starts: list[float]) -> tuple[float, int]:
        """(start of the pass containing t, index of the period containing t)."""
        if t < 0:
            raise ValueError(f"trace time must be >= 0, got {t}")
        total = self.duration
        base = 0.0
        if self.repeat:
            base = math.floor(t / total) * total
        elif t >= total:
            return 0.0, len(self.periods) - 1
        i = bisect.bisect_right(starts, t - base) - 1
        return base, min(max(i, 0), len(self.periods) - 1)

    def latency_at(self, t: float) -> float:
        """Request latency for a request made at `t` (0 without latencies)."""
        if self.latencies is None:
            return 0.0
        return self.latencies[self._locate(t, self._starts())[1]]

    def transfer_end(self, start: float, bits: float) -> float:
        """When `bits` that start flowing at `start` have all arrived: the integral of the
        bandwidth from `start` reaches `bits`."""
        if bits <= 0:
            return start
        starts = self._starts()
        n = len(self.periods)
        total = self.duration
        cycle_bits = math.fsum(d * bw for d, bw in self.periods)
        base, i = self._locate(start, starts)
        t, remaining = start, bits
        while True:
            d, bw = self.periods[i]
            if not self.repeat and (i == n - 1 or t >= total):
                return t + remaining / bw
            end = base + starts[i] + d
            capacity = bw * max(end - t, 0.0)
            if bw > 0 and capacity >= remaining:
                return t + remaining / bw
            remaining -= capacity
            t, i = end, i + 1
            if i == n:
                base, i = base + total, 0
                t = base
                skip = math.floor(remaining / cycle_bits)
                if skip * cycle_bits >= remaining:
                    skip -= 1  # stop inside the last pass, not at its very end
                if skip > 0:
                    remaining -= skip * cycle_bits
                    base += skip * total
                    t = base


def _field(period: Any, key: str, i: int, path: Path) -> float:
    if not isinstance(period, dict) or key not in period:
        raise ValueError(f"{path}: period {i} lacks {key!r}")
    value = period[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}: period {i} {key} must be a number, got {value!r}")
    return float(value)


def load_sabre_trace(path: str | Path, repeat: bool = True) -> BandwidthTrace:
    """Read a sabre network trace: a JSON list of {duration_ms, bandwidth_kbps, latency_ms}.

    Converted to s, bit/s and s.  sabre replays a trace from the start when it runs out,
    hence ``repeat=True`` by default.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: cannot read sabre trace: {exc}") from exc
    if not isinstance(data, list) or not data:
        raise ValueError(f"{p}: a sabre trace must be a non-empty JSON list of periods")
    periods = tuple((_field(x, "duration_ms", i, p) / 1000.0,
                     _field(x, "bandwidth_kbps", i, p) * 1000.0) for i, x in enumerate(data))
    latencies = tuple(_field(x, "latency_ms", i, p) / 1000.0 for i, x in enumerate(data))
    try:
        return BandwidthTrace(periods=periods, repeat=repeat, latencies=latencies)
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from exc


# ---- reference driver --------------------------------------------------------------------


@dataclass(frozen=True)
class TraceRun:
    """Result of `simulate_on_trace`: the metrics and every download."""

    stats: PlaybackStats
    records: tuple[DownloadRecord, ...]
    request_times: tuple[float, ...]
    rebuffer_intervals: tuple[tuple[float, float], ...]


def simulate_on_trace(ladder: Ladder, policy: AbrPolicy,
                      bandwidth_trace: BandwidthTrace | Sequence[tuple[float, float]], *,
                      n_segments: int | None = None, latency: float | None = None,
                      repeat: bool = True, startup_threshold: float | None = None,
                      max_buffer: float = 30.0, rebuffer_threshold: float | None = None,
                      start_time: float = 0.0) -> TraceRun:
    """Play a whole video over `bandwidth_trace`, one request at a time, back to back.

    Each request waits as the buffer rule says, asks `policy` for a level, spends the
    request latency (`latency`, else the trace's latency at request time, else 0) with
    no data flowing, then transfers the segment at the trace's bandwidth.  A plain list
    of (duration s, bandwidth bit/s) periods is wrapped with `repeat`.  Trace time is
    absolute time: a `start_time` of 10 starts 10 s into the trace.
    """
    trace = (bandwidth_trace if isinstance(bandwidth_trace, BandwidthTrace)
             else BandwidthTrace(periods=tuple((float(d), float(b)) for d, b in bandwidth_trace),
                                 repeat=repeat))
    if latency is not None and (not math.isfinite(latency) or latency < 0):
        raise ValueError(f"latency must be >= 0, got {latency!r}")
    session = Session(ladder, n_segments, startup_threshold=startup_threshold,
                      max_buffer=max_buffer, rebuffer_threshold=rebuffer_threshold,
                      start_time=start_time)
    t = start_time
    requests: list[float] = []
    while not session.complete:
        t += session.time_until_next_request(t)
        state = session.abr_state(t)
        level = policy.choose(state)
        size = ladder.size(state.segment, level)
        delay = trace.latency_at(t) if latency is None else latency
        finish = trace.transfer_end(t + delay, 8.0 * size)
        requests.append(t)
        session.on_segment_downloaded(finish, state.segment, level, size, finish - t)
        t = finish
    return TraceRun(stats=session.stats(), records=tuple(session.records),
                    request_times=tuple(requests),
                    rebuffer_intervals=tuple(session.rebuffer_intervals))
