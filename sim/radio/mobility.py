"""UE mobility: a group of n UEs moved together, one vectorised step per radio update.

A model is stateful: :meth:`Mobility.advance` moves the group's clock forward by
``dt`` and returns, per UE, the path length travelled during the step; correlated
shadow fading needs that distance, not the displacement.  Positions are an
``(n, 2)`` float array in metres.  Each step is a handful of numpy operations over
all UEs; only random waypoint loops, and then only over the few UEs that reach a
waypoint within the step.

Built-in models register in :data:`MOBILITY` under their YAML names.  A factory
takes the model's YAML parameters (plain SI floats: metres, seconds, m/s, degrees),
the initial positions from :mod:`sim.radio.placement` and the model's generator.
"""

from __future__ import annotations

import csv
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.radio.placement import Area
from sim.registry import Registry
from sim.scenario.limits import MAX_TRACE_BYTES

__all__ = [
    "MOBILITY",
    "Mobility",
    "MobilityFactory",
    "RandomWaypoint",
    "Static",
    "StraightLine",
    "Trace",
    "make_mobility",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

TRACE_COLUMNS = ("time_s", "ue", "x_m", "y_m")


def _as_positions(points: ArrayLike) -> FloatArray:
    arr = np.array(points, dtype=np.float64)
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"positions must have shape (n, 2), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("positions must be finite")
    return arr


def _per_ue(value: ArrayLike, n: int, what: str) -> FloatArray:
    """A scalar shared by all UEs or one value per UE, as a float array of length n."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
        raise ValueError(f"{what} must be a scalar or have one value per UE ({n})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite")
    return np.broadcast_to(arr, (n,)).copy()


def _readonly(arr: FloatArray) -> FloatArray:
    view = arr.view()
    view.flags.writeable = False
    return view


class Mobility(ABC):
    """n UEs moving in the plane under one model; the clock only runs forward."""

    def __init__(self, positions: ArrayLike, t0: float = 0.0) -> None:
        self._pos = _as_positions(positions)
        self._t = float(t0)

    @property
    def n(self) -> int:
        return int(self._pos.shape[0])

    @property
    def time(self) -> float:
        """The group's clock, in seconds."""
        return self._t

    @property
    def positions(self) -> FloatArray:
        """Current positions ``(n, 2)``: a read-only view valid until the next advance."""
        return _readonly(self._pos)

    def advance(self, dt: float) -> FloatArray:
        """Move every UE on by ``dt`` seconds; the path length each one travelled."""
        if not (dt >= 0.0 and math.isfinite(dt)):
            raise ValueError(f"dt must be finite and >= 0, got {dt}")
        moved = self._advance(float(dt))
        self._t += float(dt)
        return moved

    @abstractmethod
    def _advance(self, dt: float) -> FloatArray:
        """Update ``self._pos`` from ``self._t`` to ``self._t + dt``; return distances."""


class Static(Mobility):
    """UEs that never move."""

    def _advance(self, dt: float) -> FloatArray:
        return np.zeros(self.n)


class StraightLine(Mobility):
    """Constant velocity: ``start + v·(t − t0)·(cos h, sin h)``, heading h from the x axis.

    Positions are computed from the elapsed time, not accumulated step by step, so
    they carry no drift however many steps are taken.
    """

    def __init__(
        self,
        start: ArrayLike,
        heading_deg: ArrayLike,
        speed_mps: ArrayLike,
        t0: float = 0.0,
    ) -> None:
        super().__init__(start, t0)
        self._start = self._pos.copy()
        self._t0 = self._t
        self._speed = _per_ue(speed_mps, self.n, "speed_mps")
        if np.any(self._speed < 0):
            raise ValueError("speed_mps must be >= 0")
        h = np.deg2rad(_per_ue(heading_deg, self.n, "heading_deg"))
        self._velocity = self._speed[:, None] * np.column_stack((np.cos(h), np.sin(h)))

    def at(self, t: float) -> FloatArray:
        """Positions at time ``t`` (any time, before or after the clock)."""
        pos: FloatArray = self._start + (t - self._t0) * self._velocity
        return pos

    def _advance(self, dt: float) -> FloatArray:
        self._pos = self.at(self._t + dt)
        return self._speed * dt


class RandomWaypoint(Mobility):
    """Random waypoint (Johnson & Maltz 1996; Bettstetter et al. 2004) in a rectangle.

    Each UE draws a destination uniformly in ``area`` and a speed uniformly in
    ``[v_min, v_max]``, walks there in a straight line, pauses (a constant or a
    uniform ``(lo, hi)`` time) and repeats.  ``v_min`` must be positive: with
    ``v_min = 0``, E[1/V] diverges, so the mean trip time is infinite and the
    average speed keeps decaying towards zero; no steady state is ever reached
    (Yoon, Liu & Noble 2003).  Even with ``v_min > 0`` slow trips last longer, so
    the time-average speed settles below the mean of the drawn speeds.

    UEs start at ``start`` and leave immediately for their first waypoint, so the
    first few trips are a transient: the stationary distribution, denser at the
    centre than near the edges, and the lower steady speed are reached only after a
    warm-up of several mean trip times.
    """

    def __init__(
        self,
        start: ArrayLike,
        area: Area,
        v_min_mps: float,
        v_max_mps: float,
        pause_s: float | tuple[float, float],
        rng: np.random.Generator,
        t0: float = 0.0,
    ) -> None:
        super().__init__(start, t0)
        if not 0.0 < v_min_mps <= v_max_mps < math.inf:
            raise ValueError(
                f"random waypoint needs 0 < v_min <= v_max, got {v_min_mps}, {v_max_mps}"
                " (v_min = 0 makes the average speed decay; Yoon, Liu & Noble 2003)"
            )
        lo, hi = (pause_s, pause_s) if isinstance(pause_s, int | float) else pause_s
        if not 0.0 <= lo <= hi < math.inf:
            raise ValueError(f"pause must be >= 0 (or a range 0 <= lo <= hi), got {pause_s}")
        if not np.all(area.contains(self._pos)):
            raise ValueError("random waypoint start positions must lie inside the area")
        self.area = area
        self.v_min, self.v_max = float(v_min_mps), float(v_max_mps)
        self.pause_range = (float(lo), float(hi))
        self._rng = rng
        n = self.n
        self._dest = self._draw_dest(n)
        self._speed = self._draw_speed(n)
        self._pause = np.zeros(n)

    @property
    def destinations(self) -> FloatArray:
        return _readonly(self._dest)

    @property
    def speeds(self) -> FloatArray:
        """Speed of each UE's current (or, while pausing, next) leg, m/s."""
        return _readonly(self._speed)

    def _draw_dest(self, k: int) -> FloatArray:
        return self._rng.uniform(self.area.lower, self.area.upper, size=(k, 2))

    def _draw_speed(self, k: int) -> FloatArray:
        return self._rng.uniform(self.v_min, self.v_max, size=k)

    def _draw_pause(self, k: int) -> FloatArray:
        lo, hi = self.pause_range
        return np.full(k, lo) if lo == hi else self._rng.uniform(lo, hi, size=k)

    def _advance(self, dt: float) -> FloatArray:
        n = self.n
        left = np.full(n, dt)
        moved, again = self._step(self._pos, self._dest, self._speed, self._pause, left)
        # Then only UEs that reached a waypoint with time to spare, on gathered
        # copies.  Each pass finishes one leg of every UE still in play, so the loop
        # runs as many times as the most legs any UE completed within dt.
        while again.size:
            sel = again
            pos, dest = self._pos[sel], self._dest[sel]
            speed, pause, t_left = self._speed[sel], self._pause[sel], left[sel]
            walk, sub = self._step(pos, dest, speed, pause, t_left)
            self._pos[sel], self._dest[sel] = pos, dest
            self._speed[sel], self._pause[sel], left[sel] = speed, pause, t_left
            moved[sel] += walk
            again = sel[sub]
        return moved

    def _step(
        self,
        pos: FloatArray,
        dest: FloatArray,
        speed: FloatArray,
        pause: FloatArray,
        left: FloatArray,
    ) -> tuple[FloatArray, IntArray]:
        """Pause, then walk, UEs for their ``left`` time; all arrays updated in place.

        A UE that reaches its waypoint gets its next destination, speed and pause at
        once, so a pausing UE already knows where it will go next.  Returns the
        distance walked and the indices of UEs that arrived with time left over.
        """
        waited = np.minimum(pause, left)
        pause -= waited
        left -= waited
        delta = dest - pos
        dist = np.hypot(delta[:, 0], delta[:, 1])
        walk = speed * left
        arrive = walk >= dist
        np.minimum(walk, dist, out=walk)
        frac = np.divide(walk, dist, out=np.zeros_like(dist), where=dist > 0)
        delta *= frac[:, None]
        pos += delta
        idx = np.flatnonzero(arrive)
        if idx.size == 0:
            left.fill(0.0)
            return walk, idx
        # Arrivals land exactly on the waypoint and keep the time the leg did not use.
        spare = np.maximum(left[idx] - dist[idx] / speed[idx], 0.0)
        left.fill(0.0)
        left[idx] = spare
        pos[idx] = dest[idx]
        k = idx.size
        dest[idx] = self._draw_dest(k)
        speed[idx] = self._draw_speed(k)
        pause[idx] = self._draw_pause(k)
        return walk, idx[spare > 0]


class Trace(Mobility):
    """Positions replayed from samples, linearly interpolated per UE.

    Before a UE's first sample it holds the first position; after its last it holds
    the last.  All UEs are interpolated in one ``searchsorted``: each UE's times are
    shifted into a disjoint band ``[u·span, u·span + range]`` of one sorted key array.
    """

    def __init__(
        self,
        time_s: ArrayLike,
        ue: ArrayLike,
        x_m: ArrayLike,
        y_m: ArrayLike,
        *,
        ue_ids: Sequence[str] | None = None,
        t0: float = 0.0,
    ) -> None:
        times = np.asarray(time_s, dtype=np.float64)
        ues = np.asarray(ue, dtype=np.intp)
        xy = np.column_stack((np.asarray(x_m, dtype=np.float64), np.asarray(y_m, np.float64)))
        if not (times.ndim == ues.ndim == 1 and times.shape == ues.shape == xy.shape[:1]):
            raise ValueError("trace columns must be 1-D arrays of one length")
        if times.size == 0:
            raise ValueError("trace has no samples")
        if not (np.all(np.isfinite(times)) and np.all(np.isfinite(xy))):
            raise ValueError("trace times and positions must be finite")
        if ues.min() < 0:
            raise ValueError("trace UE indices must be >= 0")
        n = int(ues.max()) + 1
        counts = np.bincount(ues, minlength=n)
        if np.any(counts == 0):
            missing = np.flatnonzero(counts == 0).tolist()
            raise ValueError(f"trace UE indices must be 0..{n - 1}; no samples for {missing}")
        order = np.lexsort((times, ues))
        times, ues, xy = times[order], ues[order], xy[order]
        dup = np.flatnonzero((np.diff(ues) == 0) & (np.diff(times) == 0))
        if dup.size:
            i = int(dup[0])
            raise ValueError(f"trace UE {int(ues[i])} has two samples at time {times[i]}")
        self.ue_ids: tuple[str, ...] = (
            tuple(ue_ids) if ue_ids is not None else tuple(str(u) for u in range(n))
        )
        if len(self.ue_ids) != n:
            raise ValueError(f"ue_ids has {len(self.ue_ids)} names for {n} UEs")
        self._first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
        self._last = (self._first + counts - 1).astype(np.intp)
        self._times, self._xy = times, xy
        step = np.hypot(*np.diff(xy, axis=0).T)
        step[np.diff(ues) != 0] = 0.0  # no travel across UE boundaries
        self._arc = np.concatenate(([0.0], np.cumsum(step)))
        self._tmin = float(times.min())
        self._span = float(times.max()) - self._tmin + 1.0
        self._band = np.arange(n) * self._span
        self._keys = (times - self._tmin) + ues * self._span
        self._ue_rows = ues
        pos, self._s = self._interp(float(t0))
        super().__init__(pos, t0)

    @classmethod
    def from_csv(cls, path: str | Path, t0: float = 0.0) -> Trace:
        """Read columns ``time_s, ue, x_m, y_m`` (any order; ``ue`` is any label).

        UEs are numbered in label order (numerically when every label is an
        integer).  Errors name the file and line.
        """
        path = Path(path)
        size = path.stat().st_size
        if size > MAX_TRACE_BYTES:  # the rows are kept as lists: bound them first
            raise ValueError(f"{path}: the file has {size:,} bytes; the limit is "
                             f"{MAX_TRACE_BYTES // (1024 * 1024)} MiB")
        times: list[float] = []
        labels: list[str] = []
        xs: list[float] = []
        ys: list[float] = []
        lines: list[int] = []
        with path.open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            names = [h.strip() for h in header] if header else []
            missing = [c for c in TRACE_COLUMNS if c not in names]
            if missing:
                raise ValueError(f"{path}, line 1: trace header lacks column(s) {missing}")
            cols = [names.index(c) for c in TRACE_COLUMNS]
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                t, label, x, y = _trace_sample(row, len(names), cols, f"{path}, line {line}")
                times.append(t)
                labels.append(label)
                xs.append(x)
                ys.append(y)
                lines.append(line)
        if not times:
            raise ValueError(f"{path}: trace has no samples")
        uniq = sorted(set(labels))
        if all(_is_int(u) for u in uniq):
            uniq.sort(key=int)
        index = {u: i for i, u in enumerate(uniq)}
        _check_one_sample_per_time(path, labels, times, lines)
        return cls(times, [index[u] for u in labels], xs, ys, ue_ids=uniq, t0=t0)

    def _interp(self, t: float) -> tuple[FloatArray, FloatArray]:
        """Positions and arc lengths of every UE at time ``t``."""
        q = min(max(t - self._tmin, -0.5), self._span - 0.5)
        i = np.searchsorted(self._keys, q + self._band, side="right") - 1
        i = np.clip(i, self._first, np.maximum(self._last - 1, self._first))
        j = np.minimum(i + 1, self._last)
        t_i, t_j = self._times[i], self._times[j]
        gap = t_j - t_i
        f = np.clip(np.divide(t - t_i, gap, out=np.zeros_like(gap), where=gap > 0), 0.0, 1.0)
        # (1 − f)·a + f·b is exact at f = 0 and f = 1, so samples are reproduced exactly.
        pos = (1.0 - f)[:, None] * self._xy[i] + f[:, None] * self._xy[j]
        s = (1.0 - f) * self._arc[i] + f * self._arc[j]
        return pos, s

    def at(self, t: float) -> FloatArray:
        """Positions at time ``t`` (any time, before or after the clock)."""
        return self._interp(t)[0]

    def _advance(self, dt: float) -> FloatArray:
        self._pos, s = self._interp(self._t + dt)
        moved = np.maximum(s - self._s, 0.0)
        self._s = s
        return moved


def _trace_sample(
    row: list[str], width: int, cols: list[int], where: str
) -> tuple[float, str, float, float]:
    """One CSV row of a trace as ``(time, label, x, y)``; ``where`` is "file, line n"."""
    if len(row) != width:
        raise ValueError(f"{where}: expected {width} fields, got {len(row)}")
    t_s, label, x_s, y_s = (row[c].strip() for c in cols)
    try:
        t, x, y = float(t_s), float(x_s), float(y_s)
    except ValueError:
        raise ValueError(
            f"{where}: time_s, x_m and y_m must be numbers, got {t_s!r}, {x_s!r}, {y_s!r}"
        ) from None
    if not (math.isfinite(t) and math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{where}: values must be finite")
    if not label:
        raise ValueError(f"{where}: empty ue")
    return t, label, x, y


def _check_one_sample_per_time(
    path: Path, labels: list[str], times: list[float], lines: list[int]
) -> None:
    """Two positions of one UE at one time would make the trace ambiguous: name both lines."""
    seen: dict[tuple[str, float], int] = {}
    for label, t, line in zip(labels, times, lines, strict=True):
        earlier = seen.setdefault((label, t), line)
        if earlier != line:
            raise ValueError(
                f"{path}, line {line}: ue {label!r} already has a sample at time {t}"
                f" (line {earlier})"
            )


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


MobilityFactory = Callable[[Mapping[str, Any], FloatArray, np.random.Generator], Mobility]
"""``(params, start (n, 2), rng) -> Mobility``; params are the YAML keys of the model."""

MOBILITY: Registry[MobilityFactory] = Registry("mobility")


def _param(params: Mapping[str, Any], key: str, model: str) -> Any:
    if key not in params:
        raise ValueError(f"mobility {model!r} needs parameter {key!r}")
    return params[key]


@MOBILITY.register("static")
def _static(params: Mapping[str, Any], start: FloatArray, rng: np.random.Generator) -> Mobility:
    return Static(start)


@MOBILITY.register("straight_line")
def _straight_line(
    params: Mapping[str, Any], start: FloatArray, rng: np.random.Generator
) -> Mobility:
    heading = _param(params, "heading_deg", "straight_line")
    speed = _param(params, "speed_mps", "straight_line")
    return StraightLine(start, heading, speed)


@MOBILITY.register("random_waypoint")
def _random_waypoint(
    params: Mapping[str, Any], start: FloatArray, rng: np.random.Generator
) -> Mobility:
    model = "random_waypoint"
    pause = params.get("pause_s", 0.0)
    return RandomWaypoint(
        start,
        Area.from_bounds(_param(params, "area", model)),
        float(_param(params, "v_min_mps", model)),
        float(_param(params, "v_max_mps", model)),
        float(pause) if isinstance(pause, int | float) else (float(pause[0]), float(pause[1])),
        rng,
    )


@MOBILITY.register("trace")
def _trace(params: Mapping[str, Any], start: FloatArray, rng: np.random.Generator) -> Mobility:
    """The trace sets the positions; ``start`` only fixes how many UEs it must hold."""
    trace = Trace.from_csv(_param(params, "file", "trace"))
    if trace.n != len(start):
        raise ValueError(f"trace {params['file']} has {trace.n} UEs, the group has {len(start)}")
    return trace


def make_mobility(
    name: str, params: Mapping[str, Any], start: ArrayLike, rng: np.random.Generator
) -> Mobility:
    """The registered model ``name`` for UEs starting at ``start``."""
    return MOBILITY.get(name)(params, _as_positions(start), rng)
