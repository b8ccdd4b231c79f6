"""Links whose capacity follows a measured throughput trace.

A planner replays a 4G/5G throughput log on a link to see how a design copes with
a real, varying channel.  Two formats are read:

* CSV with a header ``time_s,bandwidth_bps``: the capacity is ``bandwidth_bps``
  from ``time_s`` until the next row (step function; the first row should be at 0);
* sabre JSON (the format of the logs in ``shared/traces/sabre``): a list of
  periods ``{"duration_ms", "bandwidth_kbps", "latency_ms"}`` played in order.
  Their ``latency_ms`` is not used: the link's own ``delay`` is.

The trace's last value holds until the end of the run, unless ``repeat`` starts
it again from its beginning (sabre's own convention).  Files are at most
:data:`~sim.scenario.limits.MAX_TRACE_BYTES` and read in one pass; periods last at
least :data:`~sim.scenario.limits.MIN_TRACE_PERIOD_S`, so that a trace cannot ask
for more changes than the run's work estimate allows.  Zero bandwidth stops the
flows on the link until it comes back.  The channels are eager (see
:mod:`sim.network`), so each step re-solves the rates of the flows crossing them.
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
from sim.network import FlowNetwork
from sim.scenario.limits import MAX_TRACE_BYTES, MIN_TRACE_PERIOD_S
from sim.scenario.schema import LinkSpec, Scenario
from sim.topology import Topology

__all__ = ["LinkTrace", "LinkTraces", "capacity_time", "read_trace"]


@dataclass(frozen=True)
class LinkTrace:
    """A step function: capacity ``bps[i]`` (bit/s) from ``start[i]`` (s) on."""

    start: NDArray[np.float64]
    bps: NDArray[np.float64]
    length: float
    """Duration of one pass of the trace (when it repeats)."""

    def steps(self, horizon: float, repeat: bool) -> list[tuple[float, float]]:
        """(time, bit/s) of every change up to `horizon`, repetitions unrolled."""
        return list(self.changes(horizon, repeat))

    def changes(self, horizon: float, repeat: bool) -> Iterator[tuple[float, float]]:
        """(time, bit/s) of every change up to `horizon`, lazily: repetitions are not
        stored, and a trace of one value ends after one pass however long the run."""
        last: float | None = None
        offset = 0.0
        constant = bool(np.all(self.bps == self.bps[0])) if len(self.bps) else True
        while True:
            for t, bps in zip(self.start, self.bps, strict=True):
                when = offset + float(t)
                if when > horizon:
                    return
                if last is None or last != bps:
                    last = float(bps)
                    yield when, last
            if not repeat or self.length <= 0 or constant:
                return
            offset += self.length

    def changes_per_pass(self) -> int:
        """Changes of capacity in one pass (what a repeated trace costs per ``length``)."""
        return int(np.count_nonzero(np.diff(self.bps))) + 1 if len(self.bps) else 0


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
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header is None or [c.strip() for c in header] != ["time_s", "bandwidth_bps"]:
            raise _fail(path, 1, "the header must be time_s,bandwidth_bps")
        for number, row in enumerate(rows, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != 2:
                raise _fail(path, number, f"expected 2 fields, found {len(row)}")
            try:
                t, b = float(row[0]), float(row[1])
            except ValueError:
                raise _fail(path, number, "time_s and bandwidth_bps must be numbers") from None
            if not (math.isfinite(t) and math.isfinite(b)) or b < 0 or t < 0:
                raise _fail(path, number, "times and bandwidths must be finite and >= 0")
            if start and t <= start[-1]:
                raise _fail(path, number, "times must increase")
            if start and t - start[-1] < MIN_TRACE_PERIOD_S:
                raise _fail(path, number, f"the period before this row {_too_short(t - start[-1])}")
            start.append(t)
            bps.append(b)
    if not start:
        raise _fail(path, None, "the trace has no rows")
    if start[0] != 0.0:
        raise _fail(path, 2, "the first row must be at time 0")
    step = start[-1] - start[-2] if len(start) > 1 else 1.0
    return LinkTrace(np.frombuffer(start, dtype=np.float64).copy(),
                     np.frombuffer(bps, dtype=np.float64).copy(), start[-1] + step)


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
    t = 0.0
    for i, period in enumerate(periods):
        try:
            duration = float(period["duration_ms"]) / 1e3
            rate = float(period["bandwidth_kbps"]) * 1e3
        except (KeyError, TypeError, ValueError, OverflowError):
            raise _fail(path, None, f"period {i}: needs numeric duration_ms and "
                        "bandwidth_kbps") from None
        if duration < 0 or rate < 0 or not (math.isfinite(duration) and math.isfinite(rate)):
            raise _fail(path, None, f"period {i}: negative or non-finite values")
        if duration < MIN_TRACE_PERIOD_S and not (duration == 0 and i == len(periods) - 1):
            raise _fail(path, None, f"period {i} {_too_short(duration)}")
        start.append(t)
        bps.append(rate)
        t += duration
    return LinkTrace(np.asarray(start), np.asarray(bps), t)


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
        eager: list[int] = []
        for link in scenario.links:
            if link.trace is None:
                continue
            channels = _channels(link, topology)
            path = Path(link.trace.file)
            if base_dir is not None and not path.is_absolute():
                path = Path(base_dir) / path
            steps = read_trace(path).steps(scenario.duration, link.trace.repeat)
            scaled = [(t, bps * link.trace.scale) for t, bps in steps]
            self._plans.append((channels, scaled))
            eager += channels
        if eager:
            network.mark_eager(eager)
            for channels, steps in self._plans:  # the capacity at time 0, before any route
                if steps and steps[0][0] == 0.0:
                    network.set_capacities(channels, [steps[0][1] / 8.0] * len(channels))

    def start(self) -> None:
        """Schedule every change of capacity after time 0."""
        env = self.network.env
        for channels, steps in self._plans:
            for t, bps in steps:
                if t > 0.0:
                    Wake(env, t, self._apply, (channels, bps / 8.0))

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
