"""Plots of finished run folders: latency CDFs across runs, time series, heat map, topology.

:mod:`sim.plots.figure` draws one run while it is still in memory; these read what a
run wrote (``summary.json``, ``tables/*.parquet``, ``scenario.yaml``), so they
work on any run folder, long after the run, and on runs of different
scenarios or seeds side by side (the use of ``run_sim.py plot``).  Each figure
has a function returning the data behind it, which the tests check.

Requests count from the end of the warm-up, as in the summary, so a CDF here
agrees with the percentiles in ``summary.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib as mpl
import networkx as nx
import numpy as np
import pyarrow.parquet as pq
import yaml
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sim.plots.figure import MAX_SERIES, cdf_points, groups_of
from sim.plots.sweep import new_figure
from sim.run.results import read_summary

__all__ = [
    "Cdf",
    "cdf_overlay",
    "latency_cdfs",
    "layered_layout",
    "run_label",
    "throughput_series",
    "time_series",
    "topology_figure",
    "topology_graph",
    "utilisation_heatmap",
    "utilisation_matrix",
]

_LAYERS = {"cloud": 4, "core": 3, "router": 2, "mec": 1, "users": 0}
"""Rows of the topology drawing, top to bottom: the cloud above, users below."""
_NODE_STYLE = {"cloud": ("s", "tab:blue"), "core": ("D", "tab:purple"),
               "router": ("h", "tab:gray"), "mec": ("o", "tab:green"),
               "users": ("^", "tab:orange")}


def run_label(folder: Path, summary: dict[str, Any] | None = None) -> str:
    """``<scenario>/<run id>``: what tells runs apart in a legend."""
    summary = summary if summary is not None else read_summary(folder)
    return f"{summary.get('scenario', folder.parent.name)}/{summary.get('run_id', folder.name)}"


def _table(folder: Path, name: str, columns: Sequence[str]) -> dict[str, NDArray[Any]] | None:
    path = folder / "tables" / f"{name}.parquet"
    if not path.is_file():
        return None
    table = pq.read_table(path, columns=list(columns))
    return {c: table.column(c).to_numpy(zero_copy_only=False) for c in columns}


def _no_data(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what}", ha="center", va="center", transform=ax.transAxes,
            color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def _labels(folders: Sequence[Path], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        if len(labels) != len(folders):
            raise ValueError(f"{len(labels)} labels for {len(folders)} runs")
        return list(labels)
    return [run_label(f) for f in folders]


# ------------------------------------------------------------------------- CDFs


class Cdf(NamedTuple):
    """The empirical latency CDF of one run (at most CDF_POINTS points, by quantiles)."""

    label: str
    x: NDArray[np.float64]
    """Latency in seconds."""
    y: NDArray[np.float64]
    """Fraction of requests with latency <= x."""
    requests: int
    """Requests behind the curve (completed, sent after the warm-up)."""


def latency_cdfs(run_folders: Sequence[Path], labels: Sequence[str] | None = None
                 ) -> list[Cdf]:
    """The latency CDF of each run that has completed requests."""
    out: list[Cdf] = []
    for folder, label in zip(run_folders, _labels(run_folders, labels), strict=True):
        table = _table(folder, "requests", ("t_send", "latency"))
        if table is None:
            continue
        warmup = float(read_summary(folder).get("warmup_s") or 0.0)
        latency = np.asarray(table["latency"], dtype=float)
        values = latency[(np.asarray(table["t_send"], dtype=float) >= warmup)
                         & np.isfinite(latency)]
        if len(values) == 0:
            continue
        x, probs = cdf_points(values)  # quantiles: more points are invisible, files big
        out.append(Cdf(label, x, probs, len(values)))
    return out


def cdf_overlay(run_folders: Sequence[Path], labels: Sequence[str] | None = None) -> Figure:
    """Request latency CDF of each run on one plot (all workloads of a run together)."""
    fig, (ax,) = new_figure()
    ax.set_title("request latency per run (sent after the warm-up)")
    curves = latency_cdfs(run_folders, labels)
    if not curves:
        _no_data(ax, "completed requests in these runs (or no tables written)")
        return fig
    for curve in curves:
        ax.plot(curve.x * 1e3, curve.y, drawstyle="steps-post",
                label=f"{curve.label} (n={curve.requests})")
    positive = [float(c.x[c.x > 0][0]) for c in curves if (c.x > 0).any()]
    high = max(float(c.x[-1]) for c in curves)
    if positive and high / min(positive) > 100:
        ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of requests ≤ latency")
    ax.set_ylim(0.0, 1.01)
    ax.grid(True, which="both", alpha=0.3)
    if len(curves) <= 2 * MAX_SERIES:
        ax.legend(title="run", fontsize="small", loc="lower right")
    return fig


# ------------------------------------------------------------------ time series


def _scenario_facts(folder: Path) -> tuple[float, float, float]:
    """(duration, warm-up, sample interval) of a run, in seconds."""
    summary = read_summary(folder)
    interval = 1.0
    scenario_file = folder / "scenario.yaml"
    if scenario_file.is_file():
        data = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("sample_interval"), int | float):
            interval = float(data["sample_interval"])
    return float(summary.get("duration_s") or 0.0), float(summary.get("warmup_s") or 0.0), interval


def throughput_series(run_folder: Path) -> dict[str, tuple[NDArray[np.float64],
                                                             NDArray[np.float64]]]:
    """Per workload: (bin edges in s, completed requests per second in each bin).

    A request counts when its response arrives; bins are the run's sample interval.
    """
    duration, _, interval = _scenario_facts(run_folder)
    table = _table(run_folder, "requests", ("workload", "t_response"))
    if table is None or duration <= 0:
        return {}
    edges = np.arange(0.0, duration, interval)
    edges = np.append(edges, duration)
    done = np.asarray(table["t_response"], dtype=float)
    out = {}
    for label, rows in groups_of(table["workload"]):
        counts, _ = np.histogram(done[rows][np.isfinite(done[rows])], bins=edges)
        out[label] = (edges, counts / np.diff(edges))
    return out


def time_series(run_folder: Path) -> Figure:
    """Completed requests per second, and utilisation of the busiest links, over time."""
    fig, (top, bottom) = new_figure((8.0, 6.4), rows=2, sharex=True)
    name = run_label(run_folder)
    duration, warmup, interval = _scenario_facts(run_folder)
    fig.suptitle(f"{name}: throughput and link utilisation")
    series = throughput_series(run_folder)
    for label, (edges, rate) in series.items():
        top.plot(edges, np.append(rate, rate[-1]), drawstyle="steps-post", label=label)
    if series:
        top.set_ylabel("completed requests (1/s)")
        top.legend(title="workload", fontsize="small", loc="upper right")
        top.set_ylim(bottom=0.0)
    else:
        _no_data(top, "requests table")
    links = _table(run_folder, "link_series", ("t", "link", "utilisation"))
    if links is not None and len(links["t"]):
        util = np.asarray(links["utilisation"], dtype=float) * 100.0
        t = np.asarray(links["t"], dtype=float)
        groups = groups_of(links["link"])
        groups.sort(key=lambda g: -float(np.nanmean(util[g[1]])) if len(g[1]) else 0.0)
        for label, rows in groups[:MAX_SERIES]:
            bottom.plot(np.append(t[rows], min(float(t[rows][-1]) + interval, duration)),
                        np.append(util[rows], util[rows][-1]), drawstyle="steps-post",
                        label=label)
        shown = min(len(groups), MAX_SERIES)
        bottom.set_ylabel("link utilisation (%)")
        bottom.set_ylim(bottom=0.0)
        bottom.legend(title=f"link ({shown} busiest of {len(groups)})"
                      if shown < len(groups) else "link", fontsize="small", loc="upper right")
    else:
        _no_data(bottom, "link series table")
    for ax in (top, bottom):
        if warmup > 0:
            ax.axvspan(0.0, warmup, color="grey", alpha=0.12, linewidth=0)
        ax.grid(True, alpha=0.3)
    bottom.set_xlabel("simulated time (s)" + (" — shaded: warm-up" if warmup > 0 else ""))
    return fig


# --------------------------------------------------------------------- heat map


def utilisation_matrix(run_folders: Sequence[Path], labels: Sequence[str] | None = None
                       ) -> tuple[list[str], list[str], NDArray[np.float64]]:
    """(row labels, run labels, utilisation as fractions, NaN where absent).

    Rows are every compute site (``site <name>``) and radio cell (``cell <name>``,
    for summaries that have a ``cells`` section) found in any of the runs.
    """
    columns = _labels(run_folders, labels)
    summaries = [read_summary(f) for f in run_folders]
    rows: dict[str, None] = {}
    for summary in summaries:
        for section, prefix in (("sites", "site"), ("cells", "cell")):
            for name, sec in (summary.get(section) or {}).items():
                if isinstance(sec, dict) and "utilisation" in sec:
                    rows[f"{prefix} {name}"] = None
    matrix = np.full((len(rows), len(summaries)), math.nan)
    for j, summary in enumerate(summaries):
        for i, row in enumerate(rows):
            prefix, name = row.split(" ", 1)
            value = ((summary.get("sites" if prefix == "site" else "cells") or {})
                     .get(name, {}).get("utilisation"))
            if isinstance(value, int | float):
                matrix[i, j] = float(value)
    return list(rows), columns, matrix


def utilisation_heatmap(run_folders: Sequence[Path],
                        labels: Sequence[str] | None = None) -> Figure:
    """Utilisation of every site and cell (rows) in every run (columns)."""
    rows, columns, matrix = utilisation_matrix(run_folders, labels)
    width = min(16.0, max(6.0, 2.5 + 1.1 * len(columns)))
    height = min(14.0, max(3.0, 1.5 + 0.45 * len(rows)))
    fig, (ax,) = new_figure((width, height))
    ax.set_title("utilisation per site and cell")
    if not rows:
        _no_data(ax, "sites or cells in these runs")
        return fig
    percent = matrix * 100.0
    image = ax.imshow(np.ma.masked_invalid(percent), cmap="YlOrRd", vmin=0.0, vmax=100.0,
                      aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=30 if len(columns) > 1 else 0,
                  ha="right" if len(columns) > 1 else "center", fontsize="small")
    ax.set_yticks(range(len(rows)), rows)
    if matrix.size <= 400:
        for (i, j), value in np.ndenumerate(percent):
            text = "-" if math.isnan(value) else f"{value:.0f}%"
            ax.text(j, i, text, ha="center", va="center", fontsize="small",
                    color="white" if value > 60 else "black")
    fig.colorbar(image, ax=ax, label="utilisation (%)")
    return fig


# --------------------------------------------------------------------- topology


def _load(summary: dict[str, Any], section: str, key: str, field: str) -> float | None:
    value = (summary.get(section) or {}).get(key, {}).get(field)
    return float(value) if isinstance(value, int | float) else None


def topology_graph(run_folder: Path) -> nx.Graph:
    """The scenario's graph with each edge's utilisation over the statistics window.

    An edge's utilisation is the busier of its two directions; for a user group's
    access edge it is the busier of uplink and downlink, averaged over the users.
    """
    from sim.scenario.schema import Scenario, UserGroup

    data = yaml.safe_load((run_folder / "scenario.yaml").read_text(encoding="utf-8"))
    scenario = Scenario.model_validate(data)
    summary = read_summary(run_folder)
    graph = nx.Graph()
    for node in scenario.nodes:
        count = node.count if isinstance(node, UserGroup) else None
        graph.add_node(node.name, kind=node.kind, layer=_LAYERS.get(node.kind, 2), count=count)
    for link in scenario.links:
        loads = [_load(summary, "links", f"{a}->{b}", "utilisation")
                 for a, b in ((link.a, link.b), (link.b, link.a))]
        known = [u for u in loads if u is not None]
        graph.add_edge(link.a, link.b, kind="link", utilisation=max(known) if known else None)
    for node in scenario.nodes:
        if isinstance(node, UserGroup):
            loads = [_load(summary, "access", f"{node.name}.{d}", "utilisation_mean")
                     for d in ("uplink", "downlink")]
            known = [u for u in loads if u is not None]
            graph.add_edge(node.name, node.attach, kind="access",
                           utilisation=max(known) if known else None)
    return graph


def layered_layout(graph: nx.Graph) -> dict[str, tuple[float, float]]:
    """Positions in rows by node kind (cloud on top, users at the bottom).

    Within a row, nodes are ordered by the mean position of their neighbours in
    the rows above (one barycentre sweep, top down), so a user group sits under
    its MEC site and edges rarely cross; ties keep scenario order.
    """
    layers: dict[int, list[str]] = {}
    for name, layer in graph.nodes(data="layer"):
        layers.setdefault(layer, []).append(name)
    x: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    for row, layer in enumerate(sorted(layers, reverse=True)):
        names = layers[layer]

        def centre(name: str) -> float:
            above = [x[n] for n in graph.neighbors(name) if n in x]
            return float(np.mean(above)) if above else math.inf

        names = sorted(names, key=lambda n: (centre(n), names.index(n)))
        for i, name in enumerate(names):
            x[name] = (i + 0.5) / len(names)
            pos[name] = (x[name], float(len(layers) - row))  # kinds absent leave no gap
    return pos


def topology_figure(run_folder: Path) -> Figure:
    """The topology, edges coloured and widened by utilisation, nodes by kind."""
    graph = topology_graph(run_folder)
    fig, (ax,) = new_figure((9.0, 6.0))
    ax.set_title(f"{run_label(run_folder)}: topology and link utilisation")
    pos = layered_layout(graph)
    cmap = mpl.colormaps["RdYlGn_r"]
    norm = Normalize(0.0, 100.0)
    segments, colours, widths = [], [], []
    for a, b, attrs in graph.edges(data=True):
        util = attrs["utilisation"]
        segments.append([pos[a], pos[b]])
        colours.append(cmap(norm(util * 100.0)) if util is not None else "lightgrey")
        widths.append(1.5 + 6.0 * min(util or 0.0, 1.0))
        if util is not None and graph.number_of_edges() <= 40:
            mid = (np.asarray(pos[a]) + np.asarray(pos[b])) / 2.0
            ax.text(mid[0], mid[1], f"{util * 100:.1f}%", fontsize="x-small", ha="center",
                    va="center", bbox={"boxstyle": "round", "fc": "white", "lw": 0,
                                       "alpha": 0.8})
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=widths, zorder=1))
    for kind, (marker, colour) in _NODE_STYLE.items():
        names = [n for n, k in graph.nodes(data="kind") if k == kind]
        if not names:
            continue
        xy = np.array([pos[n] for n in names])
        ax.scatter(xy[:, 0], xy[:, 1], s=220, marker=marker, color=colour, zorder=2,
                   edgecolors="black", linewidths=0.5, label=kind)
        for n, (x, y) in zip(names, xy, strict=True):
            count = graph.nodes[n]["count"]
            text = f"{n}\n{count} users" if count is not None else n
            ax.annotate(text, (x, y), xytext=(0, -14), textcoords="offset points",
                        ha="center", va="top", fontsize="small")
    ax.margins(0.15)
    ax.set_axis_off()
    ax.legend(title="node kind", fontsize="small", loc="upper left")
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="link utilisation (%), busier direction; access: per user")
    return fig
