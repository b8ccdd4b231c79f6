"""Links whose capacity follows a measured throughput trace.

A planner replays a 4G/5G throughput log on a link to see how a design copes with
a real, varying channel.  Two formats are read:

* CSV with a header ``time_s,bandwidth_bps`` (optionally ``,latency_s``): the
  capacity is ``bandwidth_bps`` from ``time_s`` until the next row (step function;
  the first row should be at 0);
* sabre JSON (the format of the logs in ``shared/traces/sabre``): a list of
  periods ``{"duration_ms", "bandwidth_kbps", "latency_ms"}`` played in order.

Where the trace gives a latency (sabre's ``latency_ms``, "delay before the first bit
of a request arrives, for requests made in this period"; the CSV ``latency_s``), it
becomes the one-way delay of the traced directions for messages sent during that
period, unless the link's ``trace.latency`` is false; the link's ``delay`` still
decides routing.  A request up and a segment down a link traced in both directions
wait the latency twice; sabre counts it once per request, so trace one direction to
reproduce sabre exactly.

The trace's last value holds until the end of the run, unless ``repeat`` starts
it again from its beginning (sabre's own convention).  Files are at most
:data:`~sim.scenario.limits.MAX_TRACE_BYTES` and read in one pass; periods last at
least :data:`~sim.scenario.limits.MIN_TRACE_PERIOD_S`, so that a trace cannot ask
for more changes than the run's work estimate allows.  Zero bandwidth stops the
flows on the link until it comes back.  The channels are eager (see
:mod:`sim.net.network`), so each step re-solves the rates of the flows crossing them.
"""

from __future__ import annotations

import csv
import json
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.engine import Wake
from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.scenario.limits import MAX_TRACE_BYTES, MIN_TRACE_PERIOD_S
from sim.scenario.schema import LinkSpec, Scenario

__all__ = ["LinkTrace", "LinkTraces", "capacity_time", "read_trace"]


@dataclass(frozen=True)
class LinkTrace:
    """A step function: capacity ``bps[i]`` (bit/s) from ``start[i]`` (s) on."""

    start: NDArray[np.float64]
    bps: NDArray[np.float64]
    length: float
    """Duration of one pass of the trace (when it repeats)."""
    latency: NDArray[np.float64] | None = None
    """One-way latency (s) from ``start[i]`` on, when the trace gives one."""

    def steps(self, horizon: float, repeat: bool) -> list[tuple[float, float]]:
        """(time, bit/s) of every change up to `horizon`, repetitions unrolled."""
        return list(self.changes(horizon, repeat))

    def changes(self, horizon: float, repeat: bool) -> Iterator[tuple[float, float]]:
        """(time, bit/s) of every change up to `horizon`, lazily: repetitions are not
        stored, and a trace of one value ends after one pass however long the run."""
        return _changes(self.start, self.bps, self.length, horizon, repeat)

    def latency_steps(self, horizon: float, repeat: bool) -> list[tuple[float, float]]:
        """(time, s) of every change of latency up to `horizon` (none without latency)."""
        if self.latency is None:
            return []
        return list(_changes(self.start, self.latency, self.length, horizon, repeat))

    def changes_per_pass(self) -> int:
        """Changes of capacity in one pass (what a repeated trace costs per ``length``)."""
        return int(np.count_nonzero(np.diff(self.bps))) + 1 if len(self.bps) else 0


def _changes(start: NDArray[np.float64], values: NDArray[np.float64], length: float,
             horizon: float, repeat: bool) -> Iterator[tuple[float, float]]:
    """Changes of a step function up to `horizon`, repeated lazily if asked."""
    last: float | None = None
    offset = 0.0
    constant = bool(np.all(values == values[0])) if len(values) else True
    while True:
        for t, value in zip(start, values, strict=True):
            when = offset + float(t)
            if when > horizon:
                return
            if last is None or last != value:
                last = float(value)
                yield when, last
        if not repeat or length <= 0 or constant:
            return
        offset += length


def _fail(path: Path, line: int | None, message: str) -> ValueError:
    where = f"{path}, line {line}" if line is not None else str(path)
    return ValueError(f"{where}: {message}")


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_TRACE_BYTES:
        raise _fail(path, None, f"the file has {size:,} bytes; the limit is "
                    f"{MAX_TRACE_BYTES // (1024 * 1024)} MiB")


def _too_short(duration: float) -> str:
    return (f"lasts {duration * 1e3:.3g} ms; periods must last at least "
            f"{MIN_TRACE_PERIOD_S * 1e3:g} ms")


def _read_csv(path: Path) -> LinkTrace:
    """One streaming pass over the rows, kept as two float arrays (not a list of rows)."""
    _check_size(path)
    start = array("d")
    bps = array("d")
    latency = array("d")
    width = 2
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        first = next(rows, None)
        header = [c.strip() for c in first] if first is not None else []
        if header not in (["time_s", "bandwidth_bps"], ["time_s", "bandwidth_bps", "latency_s"]):
            raise _fail(path, 1, "the header must be time_s,bandwidth_bps (optionally ,latency_s)")
        width = len(header)
        for number, row in enumerate(rows, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != width:
                raise _fail(path, number, f"expected {width} fields, found {len(row)}")
            try:
                values = [float(c) for c in row]
            except ValueError:
                raise _fail(path, number, f"{', '.join(header)} must be numbers") from None
            if any(not math.isfinite(v) or v < 0 for v in values):
                raise _fail(path, number, "times, bandwidths and latencies must be finite "
                            "and >= 0")
            t = values[0]
            if start and t <= start[-1]:
                raise _fail(path, number, "times must increase")
            if start and t - start[-1] < MIN_TRACE_PERIOD_S:
                raise _fail(path, number, f"the period before this row {_too_short(t - start[-1])}")
            start.append(t)
            bps.append(values[1])
            if width == 3:
                latency.append(values[2])
    if not start:
        raise _fail(path, None, "the trace has no rows")
    if start[0] != 0.0:
        raise _fail(path, 2, "the first row must be at time 0")
    step = start[-1] - start[-2] if len(start) > 1 else 1.0
    return LinkTrace(np.frombuffer(start, dtype=np.float64).copy(),
                     np.frombuffer(bps, dtype=np.float64).copy(), start[-1] + step,
                     np.frombuffer(latency, dtype=np.float64).copy() if width == 3 else None)


def _read_sabre(path: Path) -> LinkTrace:
    _check_size(path)
    try:
        periods: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _fail(path, exc.lineno, f"not JSON: {exc.msg}") from None
    if not isinstance(periods, list) or not periods:
        raise _fail(path, None, "expected a non-empty list of periods")
    start: list[float] = []
    bps: list[float] = []
    latency: list[float] = []
    with_latency = isinstance(periods[0], dict) and "latency_ms" in periods[0]
    t = 0.0
    for i, period in enumerate(periods):
        try:
            duration = float(period["duration_ms"]) / 1e3
            rate = float(period["bandwidth_kbps"]) * 1e3
            lat = float(period["latency_ms"]) / 1e3 if with_latency else 0.0
        except KeyError as exc:
            raise _fail(path, None, f"period {i}: lacks {exc} (the first period "
                        f"{'has' if with_latency else 'has no'} latency_ms)") from None
        except (TypeError, ValueError, OverflowError):
            raise _fail(path, None, f"period {i}: needs numeric duration_ms and "
                        "bandwidth_kbps (and latency_ms)") from None
        values = (duration, rate, lat)
        if any(v < 0 or not math.isfinite(v) for v in values):
            raise _fail(path, None, f"period {i}: negative or non-finite values")
        if duration < MIN_TRACE_PERIOD_S and not (duration == 0 and i == len(periods) - 1):
            raise _fail(path, None, f"period {i} {_too_short(duration)}")
        start.append(t)
        bps.append(rate)
        latency.append(lat)
        t += duration
    return LinkTrace(np.asarray(start), np.asarray(bps), t,
                     np.asarray(latency) if with_latency else None)


def read_trace(path: str | Path) -> LinkTrace:
    """A trace file: ``.json`` is sabre's period list, anything else CSV."""
    path = Path(path)
    return _read_sabre(path) if path.suffix.lower() == ".json" else _read_csv(path)


class LinkTraces:
    """Drives the capacity of every traced link of a run."""

    def __init__(self, scenario: Scenario, topology: Topology, network: FlowNetwork,
                 base_dir: str | None) -> None:
        self.network = network
        self.duration = scenario.duration
        self._plans: list[tuple[list[int], list[tuple[float, float]]]] = []
        self._latencies: list[tuple[list[int], list[tuple[float, float]]]] = []
        eager: list[int] = []
        for link in scenario.links:
            if link.trace is None:
                continue
            channels = _channels(link, topology)
            path = Path(link.trace.file)
            if base_dir is not None and not path.is_absolute():
                path = Path(base_dir) / path
            trace = read_trace(path)
            steps = trace.steps(scenario.duration, link.trace.repeat)
            scaled = [(t, bps * link.trace.scale) for t, bps in steps]
            self._plans.append((channels, scaled))
            if link.trace.latency:
                lat = trace.latency_steps(scenario.duration, link.trace.repeat)
                if lat:
                    self._latencies.append((channels, lat))
            eager += channels
        if eager:
            network.mark_eager(eager)
            for channels, steps in self._plans:  # the capacity at time 0, before any route
                if steps and steps[0][0] == 0.0:
                    network.set_capacities(channels, [steps[0][1] / 8.0] * len(channels))
            for channels, steps in self._latencies:
                if steps[0][0] == 0.0:
                    network.set_delays(channels, [steps[0][1]] * len(channels))

    def start(self) -> None:
        """Schedule every change of capacity and latency after time 0."""
        env = self.network.env
        for channels, steps in self._plans:
            for t, bps in steps:
                if t > 0.0:
                    Wake(env, t, self._apply, (channels, bps / 8.0))
        for channels, steps in self._latencies:
            for t, delay in steps:
                if t > 0.0:
                    Wake(env, t, self._delay, (channels, delay))

    def capacity_time(self, n_channels: int, default: NDArray[np.float64],
                      edges: NDArray[np.float64]) -> NDArray[np.float64]:
        """Capacity x time (bytes) per channel and interval: what utilisation divides by."""
        out = default[:, None] * np.diff(edges)[None, :]
        for channels, steps in self._plans:
            if steps:
                out[channels] = capacity_time(steps, edges)
        return out

    def _apply(self, ev: Wake) -> None:
        channels, capacity = ev.data
        self.network.set_capacities(channels, [capacity] * len(channels))

    def _delay(self, ev: Wake) -> None:
        channels, delay = ev.data
        self.network.set_delays(channels, [delay] * len(channels))


def _channels(link: LinkSpec, topology: Topology) -> list[int]:
    assert link.trace is not None
    direction = link.trace.direction
    out = []
    if direction in ("both", "a_to_b"):
        out.append(topology.channel(link.a, link.b))
    if direction in ("both", "b_to_a"):
        out.append(topology.channel(link.b, link.a))
    return out


def capacity_time(steps: list[tuple[float, float]], edges: NDArray[np.float64]) -> NDArray[
        np.float64]:
    """Bytes the link could carry in each interval between `edges` (integral of capacity)."""
    times = np.asarray([t for t, _ in steps] + [np.inf])
    rates = np.asarray([b / 8.0 for _, b in steps])

    def cumulative(x: NDArray[np.float64]) -> NDArray[np.float64]:
        i = np.searchsorted(times, x, side="right") - 1
        done = np.concatenate([[0.0], np.cumsum(rates[:-1] * np.diff(times[:-1]))])
        out: NDArray[np.float64] = done[i] + rates[i] * (x - times[i])
        return out

    return np.diff(cumulative(np.asarray(edges, dtype=float)))
