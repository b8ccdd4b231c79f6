"""How much work a scenario asks for, estimated from the scenario alone, before any of it
is allocated.

Without it, one mistyped value (``sample_interval: 1 ns``, ``count: 10000000``,
``rate: 1e12 /s``) made ``validate`` build gigabytes or ``run`` never finish.  The
estimate is an upper-bound-minded count of users, records (requests, video segments,
frames), sampled series points, radio updates, trace changes and events, and the
memory they take; each is compared with a documented limit
(:data:`LIMITS`, in ``docs/scenario.md``).  A scenario over a limit is a located
problem (exit 2) naming the estimate and the limit; ``--force`` runs it anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Final

from sim.scenario.limits import MIN_TRACE_PERIOD_S
from sim.scenario.problems import Loc, Problem
from sim.scenario.schema import Scenario, UserGroup

__all__ = ["EVENTS_PER_RECORD", "LIMITS", "Estimate", "estimate", "estimate_problems"]

EVENTS_PER_RECORD: Final = 12
"""Simulator events per record: arrival, hops up and down, queue, service, response."""
BYTES_PER_RECORD: Final = 400
"""A record kept in memory until the run ends (a request, a video segment with its
player's download record)."""
BYTES_PER_SPILLED_RECORD: Final = 24
"""A frame: frame logs go to disk while the run proceeds (sim.run.records); what stays
O(frames) is the summary's exact sum and percentiles, which hold the size, then the
latency, of each displayed frame of one workload (8 bytes), and a spill's last
chunk; 24 leaves room for the allocator's slack around those large arrays."""
BYTES_PER_POINT: Final = 32
BYTES_PER_USER: Final = 2000


@dataclass(frozen=True)
class Estimate:
    """The work of one run; counts are floats, since hostile input overflows ints."""

    users: float
    records: float
    series_points: float
    radio_updates: float
    trace_changes: float
    events: float
    memory_bytes: float


LIMITS: Final[dict[str, float]] = {
    "users": 200_000,
    "records": 50_000_000,
    "series_points": 20_000_000,
    "radio_updates": 200_000_000,
    "trace_changes": 20_000_000,
    "events": 1_000_000_000,
    "memory_bytes": 4 * 1024**3,
}
"""Each far above the shipped scenarios (the largest, W(1000) for 600 s, is ~2e7 events)."""

_WHERE: Final[dict[str, Loc]] = {
    "users": ("nodes",), "records": ("workloads",), "series_points": ("sample_interval",),
    "radio_updates": ("radio",), "trace_changes": ("links",), "events": ("duration",),
    "memory_bytes": ("duration",),
}
"""Where a problem points: the key a user would change first."""


def _group_sizes(scenario: Scenario) -> dict[str, float]:
    return {n.name: float(n.count) for n in scenario.nodes if isinstance(n, UserGroup)}


def _users_of(workload: Any, sizes: dict[str, float]) -> float:
    names: list[str] = []
    for key in ("clients", "students"):
        names += list(getattr(workload, key, None) or [])
    return sum(sizes.get(name, 0.0) for name in names)


def _records(workload: Any, users: float, duration: float) -> tuple[float, float]:
    """(records kept in memory, frame records spilled to disk) of one workload."""
    arrivals = getattr(workload, "arrivals", None)
    rate = getattr(arrivals, "rate", None)
    total = 0.0
    if isinstance(rate, float | int):
        total += float(rate) * users * duration
    segments = getattr(workload, "segments", None)
    if isinstance(segments, int):
        total += float(segments) * users
    frame_rate = getattr(workload, "frame_rate", None)
    frames = 0.0
    if isinstance(frame_rate, float | int):
        frames = float(frame_rate) * duration * (users + 1)
    return total, frames


def _trace_changes(scenario: Scenario, base_dir: str | None) -> float:
    """Capacity changes of the traced links: from the files when they can be read, else
    the most their minimum period allows."""
    from pathlib import Path

    total = 0.0
    for link in scenario.links:
        if link.trace is None:
            continue
        bound = scenario.duration / MIN_TRACE_PERIOD_S
        if base_dir is not None:
            from sim.net.linktrace import read_trace

            try:
                trace = read_trace(Path(base_dir) / link.trace.file)
            except (ValueError, OSError, UnicodeDecodeError):
                trace = None  # reported by the loader
            if trace is not None:
                passes = (math.ceil(scenario.duration / trace.length)
                          if link.trace.repeat and trace.length > 0 else 1)
                bound = min(bound, float(trace.changes_per_pass()) * passes)
        total += bound
    return total


def estimate(scenario: Scenario, base_dir: str | None = None) -> Estimate:
    """The work of ``scenario`` (nothing is built; trace files are read from
    ``base_dir`` when given)."""
    duration = scenario.duration
    sizes = _group_sizes(scenario)
    users = sum(sizes.values())
    counts = [_records(w, _users_of(w, sizes), duration) for w in scenario.workloads]
    kept = sum(c[0] for c in counts)
    frames = sum(c[1] for c in counts)
    records = kept + frames
    sites = sum(1 for n in scenario.nodes if getattr(n, "compute", None) is not None)
    channels = 2 * len(scenario.links) + 2 * len(sizes)
    samples = math.ceil(duration / scenario.sample_interval)
    series_points = samples * float(channels + sites)
    radio_updates = 0.0
    if scenario.radio is not None:
        radio = scenario.radio
        radio_ues = sum(float(n.count) for n in scenario.nodes
                        if isinstance(n, UserGroup) and n.radio is not None)
        radio_updates = (duration / radio.update_interval * (radio_ues + len(radio.cells))
                         + duration / radio.ue_sample_interval * radio_ues)
    trace_changes = _trace_changes(scenario, base_dir)
    events = (EVENTS_PER_RECORD * records + samples * (1 + sites) + radio_updates
              + trace_changes)
    memory = (BYTES_PER_RECORD * kept + BYTES_PER_SPILLED_RECORD * frames
              + BYTES_PER_POINT * series_points
              + BYTES_PER_USER * users + BYTES_PER_POINT * radio_updates)
    return Estimate(users, records, series_points, radio_updates, trace_changes, events, memory)


def _shown(name: str, value: float) -> str:
    if name == "memory_bytes":
        return f"{value / 1024**3:.3g} GiB"
    return f"{value:.3g}"


def estimate_problems(scenario: Scenario, base_dir: str | None = None) -> list[Problem]:
    """One located problem per estimate over its limit."""
    work = estimate(scenario, base_dir)
    problems = []
    for f in fields(work):
        value = getattr(work, f.name)
        limit = LIMITS[f.name]
        if not value <= limit:  # also NaN
            what = f.name.replace("_", " ").removesuffix(" bytes")
            problems.append(Problem(_WHERE[f.name], (
                f"the run would need about {_shown(f.name, value)} {what}; the limit is "
                f"{_shown(f.name, limit)} (docs/scenario.md, Limits; --force runs it anyway)")))
    return problems
