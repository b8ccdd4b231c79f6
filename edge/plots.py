"""Plots of the edge services of one run: cache hit ratio over time, latency breakdown.

They read the ``content`` table and the ``learning`` summary section (schemas in
results/README.md), not the edge models, so the engine package keeps its
dependency direction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sim.plots.figure import groups_of, new_figure, no_data

if TYPE_CHECKING:

    from sim.run.builder import RunOutput

__all__ = ["EDGE_PLOTS", "hit_ratio_figure", "latency_breakdown_figure"]

HIT_BINS = 20
"""Time bins of the hit-ratio plot."""


def hit_ratio_figure(tables: Mapping[str, Mapping[str, NDArray[Any]]], title: str,
                     duration: float) -> Figure:
    """Share of segment requests served from the MEC cache, per workload and site, in
    `HIT_BINS` intervals of the run."""
    fig, ax = new_figure()
    ax.set_title(f"{title}: MEC cache hit ratio over time")
    content = tables.get("content")
    if content is None or len(content["hit"]) == 0:
        no_data(ax, "cached content requests")
        return fig
    edges = np.linspace(0.0, duration, HIT_BINS + 1)
    t = np.asarray(content["t_request"], dtype=float)
    hit = np.asarray(content["hit"], dtype=float)
    labels = np.array([f"{w} @ {s}" for w, s in zip(content["workload"], content["site"],
                                                    strict=True)], dtype=object)
    for label, rows in groups_of(labels):
        which = np.clip(np.searchsorted(edges, t[rows], side="right") - 1, 0, HIT_BINS - 1)
        count = np.bincount(which, minlength=HIT_BINS)
        hits = np.bincount(which, weights=hit[rows], minlength=HIT_BINS)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(count > 0, hits / count, np.nan)
        ax.plot((edges[:-1] + edges[1:]) / 2, 100 * ratio, marker="o", markersize=3,
                label=str(label))
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("hit ratio (% of segment requests)")
    ax.set_ylim(0.0, 100.0)
    ax.grid(True, alpha=0.3)
    ax.legend(title="workload @ site", fontsize="small", loc="lower right")
    return fig


def latency_breakdown_figure(summary: Mapping[str, Any], title: str) -> Figure:
    """Mean recommendation latency per workload, split into network, queue, inference."""
    fig, ax = new_figure()
    ax.set_title(f"{title}: recommendation latency, mean parts")
    sections = summary.get("learning", {})
    names = [n for n, s in sections.items() if s.get("network_s_mean") is not None]
    if not names:
        no_data(ax, "answered recommendations")
        return fig
    bottom = np.zeros(len(names))
    for key, label in (("network_s_mean", "network"), ("queue_s_mean", "queue"),
                       ("inference_s_mean", "inference")):
        values = np.array([1e3 * sections[n][key] for n in names])
        ax.bar(range(len(names)), values, bottom=bottom, label=label)
        bottom += values
    for i, name in enumerate(names):
        p95 = sections[name]["latency_s"]["p95"]
        ax.plot([i - 0.4, i + 0.4], [1e3 * p95] * 2, color="black", linewidth=1.5)
    ax.set_xticks(range(len(names)), names, fontsize="small")
    ax.set_ylabel("latency (ms); black line: p95")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper right")
    return fig


def hit_ratio(output: RunOutput) -> Figure:
    return hit_ratio_figure(output.tables, output.scenario.name, output.scenario.duration)


def latency_breakdown(output: RunOutput) -> Figure:
    return latency_breakdown_figure(output.summary, output.scenario.name)


EDGE_PLOTS: dict[str, tuple[str, Callable[[RunOutput], Figure]]] = {
    "cache_hit_ratio": ("content", hit_ratio),
    "recommendation_latency": ("recommendations", latency_breakdown),
}
"""File stem -> (the table it needs, figure builder)."""
