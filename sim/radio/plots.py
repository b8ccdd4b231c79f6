"""Plots of a run's radio access: best-server SINR map and cell load over time.

Same conventions as :mod:`sim.plots.figure` (Agg canvas, no pyplot, reduced data,
deterministic PNGs); :func:`sim.plots.figure.write_plots` draws :data:`RADIO_PLOTS`
for runs that have a ``radio`` section (a ``cell_series`` table).

The SINR map is :func:`sim.radio.coverage.sinr_map`, the run's own channel
code evaluated on a grid of static UEs; in a run's plots its interference is
weighted by the run's mean cell loads (over the statistics window).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike, NDArray

from sim.plots.figure import groups_of, no_data
from sim.radio.coverage import MAX_POINTS, sinr_map
from sim.radio.references import cell_names

if TYPE_CHECKING:

    from sim.run.builder import RunOutput
    from sim.scenario.schema import Scenario

__all__ = [
    "MAX_CELLS",
    "RADIO_PLOTS",
    "cell_load_figure",
    "run_cell_load",
    "run_cell_loads",
    "run_sinr_map",
    "sinr_map_figure",
]

MAX_CELLS = 10
"""Most cells drawn in the cell-load plot (the busiest ones beyond that)."""
MAX_LABELLED_CELLS = 30
"""Cell names are written on the SINR map up to this many cells."""
MAP_LINK_BUDGET = 4_000_000
"""Most UE-to-cell links of the SINR map grid, which keeps large layouts quick to draw."""
_MAP_SIZE = (7.5, 6.4)
_LOAD_SIZE = (8.0, 6.0)
_BOUNDARY = ListedColormap(["white"])


def _canvas(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself to the figure
    return fig


def _load_note(loads: NDArray[np.float64] | None) -> str:
    if loads is None:
        return "full load (every cell always transmitting: worst case)"
    if len(loads) and np.all(loads == loads[0]):
        return f"cell load {float(loads[0]):.2f} in every cell"
    return f"the given cell loads ({float(loads.min()):.2f} to {float(loads.max()):.2f})"


def sinr_map_figure(scenario: Scenario, loads: ArrayLike | None = None, *,
                    load_note: str | None = None,
                    resolution_m: float | None = None) -> Figure:
    """Heat map of the best-server downlink SINR over the cells' area.

    `loads` weights each cell's interference (in :func:`sim.radio.ran.cells_of`
    order; None: full load).  `load_note` says in the title where the loads come
    from (default: described from the values).  Cell sites are marked and named;
    a short line shows each sector's boresight; thin white lines are the borders
    between best servers.
    """
    weights = None if loads is None else np.asarray(loads, dtype=float)
    fig = _canvas(_MAP_SIZE)
    ax = fig.add_subplot()
    note = load_note if load_note is not None else _load_note(weights)
    ax.set_title(f"{scenario.name}: best-server SINR at {note}", fontsize="medium", wrap=True)
    if scenario.radio is None:
        no_data(ax, "radio cells")
        return fig
    n_cells = len(cell_names(scenario.radio))
    points = int(min(MAX_POINTS, max(21.0, np.sqrt(MAP_LINK_BUDGET / max(n_cells, 1)))))
    cov = sinr_map(scenario, weights, resolution_m, max_points=points)
    finite = cov.sinr_db[np.isfinite(cov.sinr_db)]
    low, high = (np.percentile(finite, [1.0, 99.0]) if len(finite) else (0.0, 1.0))
    vmin = float(np.floor(low))  # colour range: 1st to 99th percentile, whole dB
    vmax = max(float(np.ceil(high)), vmin + 1.0)
    mesh = ax.pcolormesh(cov.x, cov.y, cov.sinr_db, shading="nearest", cmap="viridis",
                         vmin=vmin, vmax=vmax, rasterized=True)
    fig.colorbar(mesh, ax=ax, label="SINR (dB)", extend="both", shrink=0.9)
    best = cov.best_cell
    border = np.zeros(best.shape, dtype=bool)
    border[:, 1:] |= best[:, 1:] != best[:, :-1]
    border[1:, :] |= best[1:, :] != best[:-1, :]
    if border.any():
        ax.pcolormesh(cov.x, cov.y, np.ma.masked_where(~border, border.astype(float)),
                      shading="nearest", cmap=_BOUNDARY, rasterized=True)
    span = max(float(cov.x[-1] - cov.x[0]), float(cov.y[-1] - cov.y[0]))
    reach = 0.06 * span
    xy = cov.cell_xy
    ax.plot(xy[:, 0], xy[:, 1], linestyle="none", marker="^", markersize=7,
            markerfacecolor="red", markeredgecolor="black")
    sectored = ~np.isnan(cov.azimuth)
    rad = np.radians(cov.azimuth)
    tips = xy + reach * np.column_stack([np.cos(rad), np.sin(rad)])
    for i in np.flatnonzero(sectored).tolist():
        ax.plot([xy[i, 0], tips[i, 0]], [xy[i, 1], tips[i, 1]], color="black", linewidth=1.5)
    if len(cov.cell_names) <= MAX_LABELLED_CELLS:
        for i, name in enumerate(cov.cell_names):
            at = tips[i] if sectored[i] else xy[i] + np.array([0.0, 0.4 * reach])
            ax.annotate(name, (float(at[0]), float(at[1])), ha="center", va="bottom",
                        fontsize="small", color="white", fontweight="bold")
    ax.set_xlim(float(cov.x[0]), float(cov.x[-1]))
    ax.set_ylim(float(cov.y[0]), float(cov.y[-1]))
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    handles = [Line2D([], [], linestyle="none", marker="^", markerfacecolor="red",
                      markeredgecolor="black", label="cell site")]
    if sectored.any():
        handles.append(Line2D([], [], color="black", linewidth=1.5, label="sector boresight"))
    if border.any():
        handles.append(Line2D([], [], color="white", linewidth=1.5,
                              label="best-server border"))
    legend = ax.legend(handles=handles, loc="lower right", fontsize="small", framealpha=0.6)
    legend.get_frame().set_facecolor("lightgrey")
    return fig


def cell_load_figure(output_tables: Mapping[str, Mapping[str, NDArray[Any]]], *,
                     name: str | None = None, end: float | None = None) -> Figure:
    """Cell load (fraction of time busy) and downlink throughput over time, per cell.

    One line per cell, the `MAX_CELLS` with the highest mean load when there are
    more.  Each ``cell_series`` row covers the radio interval starting at its t;
    `end` is the end of the last one (default: one interval after it).
    """
    fig = _canvas(_LOAD_SIZE)
    top, bottom = fig.subplots(2, 1, sharex=True)
    title = f"{name}: cell load" if name else "cell load"
    table = output_tables.get("cell_series")
    if table is None or len(table["t"]) == 0:
        top.set_title(title)
        no_data(top, "radio cells")
        no_data(bottom, "radio cells")
        return fig
    t = np.asarray(table["t"], dtype=float)
    load = np.asarray(table["load"], dtype=float)
    mbps = np.asarray(table["allocated_dl_bps"], dtype=float) / 1e6
    groups = groups_of(np.asarray(table["cell"]))
    starts = np.unique(t)
    step = float(np.median(np.diff(starts))) if len(starts) > 1 else 1.0
    stop = float(starts[-1]) + step if end is None else float(end)
    mean_load: dict[str, float] = {}
    for label, rows in groups:  # time average over the rows' intervals
        widths = np.diff(np.append(t[rows], stop))
        total = float(widths.sum())
        mean_load[label] = float(np.dot(load[rows], widths) / total) if total > 0 \
            else float(np.mean(load[rows]))
    busiest = {label for label, _ in
               sorted(groups, key=lambda item: -mean_load[item[0]])[:MAX_CELLS]}
    shown = [g for g in groups if g[0] in busiest]  # in table order: stable colours
    for label, rows in shown:
        times = np.append(t[rows], stop)
        colour = top.plot(times, np.append(load[rows], load[rows][-1]), drawstyle="steps-post",
                          linewidth=1, label=f"{label} ({mean_load[label]:.2f})")[0]
        bottom.plot(times, np.append(mbps[rows], mbps[rows][-1]), drawstyle="steps-post",
                    linewidth=1, color=colour.get_color(), label=label)
    if len(shown) < len(groups):
        title += f" ({len(shown)} busiest of {len(groups)} cells)"
    top.set_title(title)
    top.set_ylabel("load (fraction of time busy)")
    top.set_ylim(-0.02, 1.02)
    bottom.set_ylabel("downlink rate allocated (Mbps)")
    bottom.set_xlabel("simulated time (s)")
    bottom.set_ylim(bottom=0.0)
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    fig.legend(handles=top.get_lines(), title="cell (time-average\nload, whole run)",
               fontsize="small", loc="outside right upper")
    return fig


def run_cell_loads(output: RunOutput) -> NDArray[np.float64] | None:
    """The run's mean load per cell (summary, statistics window), in cell order.

    None when the summary has no per-cell loads (or lacks a cell).
    """
    per_cell = output.summary.get("radio", {}).get("per_cell")
    radio = output.scenario.radio
    if not per_cell or radio is None:
        return None
    names = cell_names(radio)
    if any(n not in per_cell for n in names):
        return None
    return np.asarray([float(per_cell[n]["load"]) for n in names], dtype=float)


def run_sinr_map(output: RunOutput) -> Figure:
    """The run's best-server SINR map at its mean cell loads."""
    loads = run_cell_loads(output)
    note = "the run's mean cell loads" if loads is not None else None
    return sinr_map_figure(output.scenario, loads, load_note=note)


def run_cell_load(output: RunOutput) -> Figure:
    """The run's cell load and downlink throughput over time."""
    return cell_load_figure(output.tables, name=output.scenario.name,
                            end=output.scenario.duration)


RADIO_PLOTS: dict[str, Callable[[RunOutput], Figure]] = {
    "sinr_map": run_sinr_map,
    "cell_load": run_cell_load,
}
"""File stem -> figure builder of the radio plots (runs with cells only)."""
