"""Plots of one run: latency CDFs, link utilisation and site queues over time.

Figures are built on :class:`matplotlib.figure.Figure` with an explicit Agg
canvas instead of ``pyplot``: pyplot keeps a global registry of open figures and
picks a GUI backend from the environment, which leaks memory in long sweeps and
fails on headless CI machines.  Importing this module changes no global state.

Every plot reduces its data before drawing (quantiles for CDFs, the busiest few
series for time plots), so a run with 10^6 requests draws as fast as a small one
and the PNG files stay small.  PNGs are written without a "Software" text chunk,
so the same run gives byte-identical images.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

    from sim.run.builder import RunOutput

__all__ = [
    "CDF_POINTS",
    "MAX_SERIES",
    "cdf_points",
    "latency_cdf",
    "link_utilisation",
    "new_figure",
    "no_data",
    "site_queues",
    "workload_cdfs",
    "write_plots",
]

CDF_POINTS = 2000
"""Most points drawn per CDF line: more are invisible at screen resolution."""
MAX_SERIES = 8
"""Most lines per time plot: beyond that colours repeat and the legend is unreadable."""
DPI = 120
_SIZE = (8.0, 4.8)
_PNG_METADATA: dict[str, str | None] = {"Software": None}
"""Drop the matplotlib version from the PNG, so output depends on the data only."""


def new_figure() -> tuple[Figure, Axes]:
    """A figure of the standard size on its own Agg canvas, and its one axes."""
    fig = Figure(figsize=_SIZE, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself to the figure
    return fig, fig.add_subplot()


def no_data(ax: Axes, what: str) -> None:
    """Say in the plot that the run has nothing to draw."""
    ax.text(0.5, 0.5, f"no {what} in this run", ha="center", va="center",
            transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def groups_of(column: NDArray[np.generic]) -> list[tuple[str, NDArray[np.intp]]]:
    """(label, row indices) per distinct value, in order of first appearance.

    Uses a pyarrow hash encoding: sorting 10^6 Python strings with numpy would
    take longer than drawing the plot.
    """
    if len(column) == 0:
        return []
    encoded = pc.dictionary_encode(pa.array(column))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    labels = [str(v) for v in encoded.dictionary.to_pylist()]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    return [(label, order[bounds[i]:bounds[i + 1]]) for i, label in enumerate(labels)]


def cdf_points(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(x, F(x)) of the empirical CDF, at most CDF_POINTS points, by quantiles."""
    n = len(values)
    if n <= CDF_POINTS:
        x = np.sort(values)
        return x, np.arange(1, n + 1) / n
    probs = np.linspace(0.0, 1.0, CDF_POINTS)
    return np.quantile(values, probs), probs


def workload_cdfs(ax: Axes, values: NDArray[np.float64],
                  workloads: NDArray[np.generic]) -> list[tuple[Line2D, NDArray[np.intp]]]:
    """One empirical-CDF line per workload of its finite `values` (NaN: not counted),
    labelled with its count; returns each line drawn with that workload's rows."""
    drawn = []
    for label, rows in groups_of(workloads):
        mine = values[rows]
        mine = mine[np.isfinite(mine)]
        if len(mine) == 0:
            continue
        x, y = cdf_points(mine)
        line = ax.plot(x, y, drawstyle="steps-post", label=f"{label} (n={len(mine)})")[0]
        drawn.append((line, rows))
    return drawn


def latency_cdf(output: RunOutput) -> Figure:
    """Distribution of request latency, one line per workload class."""
    fig, ax = new_figure()
    ax.set_title(f"{output.scenario.name}: request latency")
    table = output.tables.get("requests")
    drawn = []
    low, high = np.inf, 0.0
    if table is not None:
        # The same requests as the summary's percentiles: those sent after the warm-up.
        counted = np.asarray(table["t_send"], dtype=float) >= output.scenario.warmup
        latency_ms = np.where(counted, np.asarray(table["latency"], dtype=float) * 1e3, np.nan)
        drawn = workload_cdfs(ax, latency_ms, table["workload"])
        for line, _ in drawn:
            x = np.asarray(line.get_xdata(), dtype=float)
            positive = x[x > 0]
            if len(positive):
                low, high = min(low, float(positive[0])), max(high, float(x[-1]))
    if not drawn:
        no_data(ax, "completed requests")
        return fig
    if high > 0 and high / low > 100:
        ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of requests ≤ latency")
    ax.set_ylim(0.0, 1.01)
    if output.scenario.warmup > 0:
        ax.set_title(f"{output.scenario.name}: request latency "
                     f"(sent after the {output.scenario.warmup:g} s warm-up)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="workload", loc="lower right")
    return fig


def _busiest(table: Mapping[str, NDArray[np.generic]], key: str, value: str,
             limit: int) -> tuple[list[tuple[str, NDArray[np.intp]]], int]:
    """The `limit` groups of `key` with the largest mean `value`, and the group count."""
    groups = groups_of(table[key])
    values = np.asarray(table[value], dtype=float)

    def load(item: tuple[str, NDArray[np.intp]]) -> float:
        return float(np.nanmean(values[item[1]])) if len(item[1]) else 0.0

    ranked = sorted(groups, key=lambda item: -load(item))  # stable: ties keep table order
    return ranked[:limit], len(groups)


def _series_title(base: str, shown: int, total: int, what: str) -> str:
    return base if shown == total else f"{base} ({shown} {what} of {total})"


def link_utilisation(output: RunOutput) -> Figure:
    """Utilisation over time of the busiest links and access groups."""
    fig, ax = new_figure()
    table = output.tables.get("link_series")
    name = output.scenario.name
    if table is None or len(table["t"]) == 0:
        ax.set_title(f"{name}: link utilisation")
        no_data(ax, "links")
        return fig
    shown, total = _busiest(table, "link", "utilisation", MAX_SERIES)
    t = np.asarray(table["t"], dtype=float)
    util = np.asarray(table["utilisation"], dtype=float) * 100.0
    scn = output.scenario
    for label, rows in shown:
        # Each row is a bin starting at t; repeat the last value to draw the last bin.
        end = min(float(t[rows][-1]) + scn.sample_interval, scn.duration)
        ax.plot(np.append(t[rows], end), np.append(util[rows], util[rows][-1]),
                drawstyle="steps-post", label=label)
    ax.set_title(_series_title(f"{name}: link utilisation", len(shown), total, "busiest"))
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("utilisation (%)")
    ax.set_ylim(bottom=0.0)
    ax.grid(True, alpha=0.3)
    fig.legend(title="link / access group", fontsize="small", loc="outside right upper")
    return fig


def site_queues(output: RunOutput) -> Figure:
    """Queue length sampled over time at the sites with the longest mean queue."""
    fig, ax = new_figure()
    table = output.tables.get("site_series")
    name = output.scenario.name
    if table is None or len(table["t"]) == 0:
        ax.set_title(f"{name}: site queues")
        no_data(ax, "compute sites")
        return fig
    shown, total = _busiest(table, "site", "queue", MAX_SERIES)
    t = np.asarray(table["t"], dtype=float)
    queue = np.asarray(table["queue"], dtype=float)
    averages = output.summary.get("sites", {})
    for label, rows in shown:
        # The legend gives the exact time average of the summary, the line the samples.
        mean = averages.get(label, {}).get("mean_queue")
        if mean is None:
            mean = float(np.mean(queue[rows]))
        ax.plot(t[rows], queue[rows], marker="o", markersize=2, linewidth=1,
                label=f"{label} (time average {mean:.3f})")
    ax.set_title(_series_title(f"{name}: queue length per site, sampled", len(shown), total,
                               "longest"))
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("queue length (jobs)")
    ax.set_ylim(bottom=0.0)
    ax.grid(True, alpha=0.3)
    fig.legend(title="site", fontsize="small", loc="outside right upper")
    return fig


PLOTS: dict[str, Callable[[RunOutput], Figure]] = {
    "latency_cdf": latency_cdf,
    "link_utilisation": link_utilisation,
    "site_queues": site_queues,
}
"""File stem -> figure builder; write_plots draws each one."""


def write_plots(output: RunOutput, directory: Path) -> list[Path]:
    """Draw every plot of the run as ``directory/<name>.png``; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    # A live run (streaming/webrtc) has frames only: no requests, links or sites.
    builders = {} if output.summary.get("mode") == "live" else dict(PLOTS)
    if "cell_series" in output.tables:  # a run with radio cells: SINR map and cell load too
        from sim.radio.plots import RADIO_PLOTS

        builders.update(RADIO_PLOTS)
    from sim.run.workload import workload_plots

    builders.update({stem: build for stem, (table, build) in workload_plots().items()
                     if table in output.tables})
    for stem, build in builders.items():
        fig = build(output)
        path = directory / f"{stem}.png"
        fig.savefig(path, dpi=DPI, format="png", metadata=_PNG_METADATA)
        written.append(path)
    return written
