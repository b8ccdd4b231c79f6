"""Sweep plots: a metric against a swept parameter, with 95% confidence bands.

A sweep folder ``results/sweeps/<name>/`` holds ``points.parquet`` (one row per
point and metric: ``point``, one column per swept parameter named by its key
path such as ``nodes[users0].count``, ``metric``, ``n``, ``mean``,
``ci95_low``, ``ci95_high``), ``runs.parquet`` (one row per run and metric) and
``sweep.json`` (the manifest, with each run's folder).  The plots read these
files only, so a sweep computed on a cluster can be plotted anywhere.

The band is the 95% t interval of the replication mean at each point, not a
spread of the runs: it is what says whether two curves differ.  The data behind
a figure comes from :func:`band_data`, so tests check the band itself (low <=
mean <= high, a real width where there are replications) rather than pixels.

Like :mod:`sim.plots.figure`, figures use :class:`~matplotlib.figure.Figure` with an
Agg canvas, never ``pyplot``; :func:`save_figure` writes PNG and/or SVG without
timestamps or version stamps, so the same data gives the same files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sim.qos.labels import metric_label
from sim.qos.targets import parse_bound, unit_of
from sim.scenario.units import UnitError, parse_duration, parse_rate, parse_size

__all__ = [
    "POINT_COLUMNS",
    "VERDICT_COLUMNS",
    "Band",
    "FigureStyle",
    "Sweep",
    "band_data",
    "metric_axis",
    "metric_vs_parameter",
    "new_figure",
    "read_sweep",
    "save_figure",
    "target_limits",
]

POINT_COLUMNS = ("point", "metric", "n", "mean", "ci95_low", "ci95_high")
VERDICT_COLUMNS = ("target", "met")
"""Columns of points.parquet since sweeps judge their qos targets per point."""
"""Columns of points.parquet that are not swept parameters."""
FORMATS = ("png", "svg")
DPI = 120
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},  # no matplotlib version: the bytes depend on the data only
    "svg": {"Date": None, "Creator": None},
}


def new_figure(size: tuple[float, float] = (8.0, 4.8), rows: int = 1,
               sharex: bool = False) -> tuple[Figure, list[Any]]:
    """A figure on its own Agg canvas and its axes (one per row)."""
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)
    return fig, [row[0] for row in axes]


@dataclass(frozen=True)
class FigureStyle:
    """What a user may set on a figure for a paper (``plot --title ... --dpi``); None and
    False keep the figure's own choice."""

    title: str | None = None
    xlabel: str | None = None
    ylabel: str | None = None
    logx: bool = False
    logy: bool = False
    size: tuple[float, float] | None = None
    """Width and height in inches."""
    dpi: int = DPI

    def apply(self, fig: Figure) -> None:
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                continue
            if self.title is not None:
                ax.set_title(self.title)
            if self.xlabel is not None:
                ax.set_xlabel(self.xlabel)
            if self.ylabel is not None:
                ax.set_ylabel(self.ylabel)
            if self.logx:
                ax.set_xscale("log")
            if self.logy:
                ax.set_yscale("log")
        if self.size is not None:
            fig.set_size_inches(*self.size)


def save_figure(fig: Figure, directory: Path, stem: str,
                formats: Sequence[str] = ("png",),
                style: FigureStyle | None = None) -> list[Path]:
    """Write ``directory/<stem>.<format>`` for each format, with `style` applied; returns
    the files.

    SVG element ids are salted with a fixed string instead of a random one, so
    SVGs are reproducible too (the rc context restores the global setting).
    """
    style = style or FigureStyle()
    style.apply(fig)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown figure format {fmt!r}; use one of {FORMATS}")
        path = directory / f"{stem}.{fmt}"
        with mpl.rc_context({"svg.hashsalt": "edgestream"}):
            fig.savefig(path, dpi=style.dpi, format=fmt, metadata=_METADATA[fmt])
        written.append(path)
    return written


def metric_axis(metric: str) -> tuple[float, str]:
    """(factor, axis label) that show a metric in words and a readable unit: seconds as
    ms, etc."""
    kind = unit_of(metric)
    factor, unit = {
        "duration": (1e3, "ms"), "size": (1e-6, "MB"), "rate": (1e-6, "Mbit/s"),
        "frequency": (1.0, "1/s"), "count": (1.0, ""), "fraction": (1.0, ""),
    }[kind]
    if kind == "fraction" and "utilisation" in metric:
        factor, unit = 100.0, "%"
    label = metric_label(metric)
    return factor, f"{label} ({unit})" if unit else label


# ------------------------------------------------------------------ sweep files


@dataclass(frozen=True)
class Sweep:
    """A sweep folder as written by ``run_sim.py sweep``."""

    folder: Path
    points: pa.Table
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.folder.name)

    @property
    def parameters(self) -> list[str]:
        """The swept key paths: every column of points.parquet that is not a statistic."""
        return [c for c in self.points.column_names
                if c not in POINT_COLUMNS and c not in VERDICT_COLUMNS]

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.points.column("metric").to_pylist()))

    def point_runs(self) -> list[tuple[Path, str]]:
        """(run folder, label) of one replication per point, for overlays across points.

        The first replication found of each point, labelled by its parameter values
        (``users_per_group=10``); folders are relative to the sweep folder as the
        manifest writes them, or to the working directory.  Runs whose folders are
        not at hand (a sweep copied without its runs) are left out.
        """
        out: dict[object, tuple[Path, str]] = {}
        for run in self.manifest.get("runs", []):
            folder = run.get("folder") if isinstance(run, dict) else None
            if not folder or run.get("point") in out:
                continue
            for candidate in (self.folder / folder, Path(folder)):
                if (candidate / "summary.json").is_file():
                    params = run.get("params")
                    label = (", ".join(f"{k}={v}" for k, v in params.items())
                             if isinstance(params, dict) and params
                             else f"point {run.get('point')}")
                    out[run.get("point")] = (candidate, label)
                    break
        return list(out.values())


def read_sweep(folder: Path | str) -> Sweep:
    """The points table and manifest of a sweep folder."""
    folder = Path(folder)
    points = pq.read_table(folder / "points.parquet")
    missing = [c for c in POINT_COLUMNS if c not in points.column_names]
    if missing:
        raise ValueError(f"{folder / 'points.parquet'}: missing columns {', '.join(missing)}")
    manifest_path = folder / "sweep.json"
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        loaded = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest = loaded if isinstance(loaded, dict) else {}
    return Sweep(folder, points, manifest)


# ------------------------------------------------------------------------ bands


@dataclass(frozen=True)
class Band:
    """One curve of a metric-vs-parameter plot: the data behind it, in SI units."""

    label: str
    """Values of the other swept parameters ("" when only one is swept)."""
    x: NDArray[np.float64]
    """Parameter values (SI), or category positions 0, 1, ... when not numeric."""
    mean: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    """95% CI of the mean; NaN where a point has a single replication."""
    n: NDArray[np.int64]
    ticks: tuple[str, ...] | None = None
    """Category labels of x when the parameter is not a number."""
    x_factor: float = 1.0
    x_unit: str = ""
    """How x is shown: ``x * x_factor`` in ``x_unit`` (e.g. ms for durations)."""


_AXIS_UNITS = ((parse_duration, 1e3, "ms"), (parse_rate, 1e-6, "Mbit/s"),
               (parse_size, 1e-6, "MB"))


def parameter_axis(values: Sequence[Any]) -> tuple[NDArray[np.float64], float, str,
                                                    tuple[str, ...] | None]:
    """(SI values or category positions, display factor, unit, category labels).

    Numbers are used as they are; strings with units ("10 ms", "1 Gbps") are
    converted when all of them are the same kind of quantity; anything else is
    a category, placed in order of first appearance.
    """
    def number(v: Any) -> float | None:
        if isinstance(v, bool):
            return None
        if isinstance(v, int | float):
            return float(v)
        try:
            return float(v)
        except (TypeError, ValueError):
            return None

    plain = [number(v) for v in values]
    if all(p is not None for p in plain):
        return np.array(plain, dtype=float), 1.0, "", None
    for parse, factor, unit in _AXIS_UNITS:
        try:
            return np.array([parse(v) for v in values], dtype=float), factor, unit, None
        except UnitError:
            continue
    labels = list(dict.fromkeys(str(v) for v in values))
    positions = np.array([labels.index(str(v)) for v in values], dtype=float)
    return positions, 1.0, "", tuple(labels)


def _floats(values: Sequence[Any]) -> NDArray[np.float64]:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def band_data(points: pa.Table, metric: str, parameter: str) -> list[Band]:
    """The curves of `metric` against `parameter`, one per combination of the others."""
    cols = {name: points.column(name).to_pylist() for name in points.column_names}
    parameters = [c for c in points.column_names
                  if c not in POINT_COLUMNS and c not in VERDICT_COLUMNS]
    if parameter not in parameters:
        raise KeyError(f'"{parameter}" is not a swept parameter (swept: '
                       f'{", ".join(parameters) or "none"})')
    rows = [i for i, m in enumerate(cols["metric"]) if m == metric]
    if not rows:
        raise KeyError(f'no metric "{metric}" in the sweep')
    x_all, x_factor, x_unit, ticks = parameter_axis([cols[parameter][i] for i in rows])
    x_of = dict(zip(rows, x_all, strict=True))
    others = [p for p in parameters if p != parameter]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in rows:
        groups.setdefault(tuple(cols[o][i] for o in others), []).append(i)
    bands: list[Band] = []
    for key, members in groups.items():
        idx = sorted(members, key=lambda i: (x_of[i], i))
        bands.append(Band(
            label=", ".join(f"{o}={v}" for o, v in zip(others, key, strict=True)),
            x=np.array([x_of[i] for i in idx], dtype=float),
            mean=_floats([cols["mean"][i] for i in idx]),
            low=_floats([cols["ci95_low"][i] for i in idx]),
            high=_floats([cols["ci95_high"][i] for i in idx]),
            n=np.array([cols["n"][i] or 0 for i in idx], dtype=np.int64),
            ticks=ticks, x_factor=x_factor, x_unit=x_unit))
    return bands


def target_limits(points: pa.Table, metric: str) -> list[tuple[str, float]]:
    """The qos bounds on `metric` that points.parquet records (its `target` column, as
    written, e.g. "<= 200 ms"): (label, SI value); none for sweeps made before it."""
    if "target" not in points.column_names:
        return []
    for row_metric, text in zip(points.column("metric").to_pylist(),
                                points.column("target").to_pylist(), strict=True):
        if row_metric == metric and text:
            return [(part, parse_bound(part[3:], metric)) for part in text.split(", ")]
    return []


def metric_vs_parameter(points: pa.Table, metric: str, parameter: str, *,
                        title: str | None = None,
                        limits: Sequence[tuple[str, float]] = ()) -> Figure:
    """Mean of `metric` at each value of `parameter`, with its 95% CI as a shaded band,
    and each `limits` entry (label, bound in SI units: a ``qos:`` target) as a dashed line."""
    bands = band_data(points, metric, parameter)
    factor, ylabel = metric_axis(metric)
    x_factor, x_unit, ticks = bands[0].x_factor, bands[0].x_unit, bands[0].ticks
    fig, (ax,) = new_figure()
    for band in bands:
        name = band.label or "mean"
        n_text = (f"n={int(band.n.min())}" if band.n.min() == band.n.max()
                  else f"n={int(band.n.min())}..{int(band.n.max())}")
        line = ax.plot(band.x * x_factor, band.mean * factor, marker="o",
                       label=f"{name} ({n_text} per point)")[0]
        shown = np.isfinite(band.low) & np.isfinite(band.high)
        if shown.any():
            ax.fill_between(band.x * x_factor, band.low * factor, band.high * factor,
                            where=shown, color=line.get_color(), alpha=0.25, linewidth=0,
                            label="95% CI of the mean" if len(bands) == 1
                            else f"{name}: 95% CI")
    for label, limit in limits:
        ax.axhline(limit * factor, color="black", linestyle="--", linewidth=1.0,
                   label=f"target {label}")
    if ticks is not None:
        ax.set_xticks(range(len(ticks)), list(ticks), rotation=30 if len(ticks) > 6 else 0)
    ax.set_xlabel(f"{parameter} ({x_unit})" if x_unit else parameter)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"{metric_label(metric)} vs {parameter}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig
