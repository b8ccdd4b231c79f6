"""Plots of the streams of one run: playback, QoE, frame latency, deadline misses.

They read the ``segments``, ``video_sessions`` and ``frames`` tables (schemas in
results/README.md), not the streaming models, so the engine package keeps its
dependency direction.  Like :mod:`sim.plots.figure`, each figure reduces its data
first: a few sampled sessions, quantiles for CDFs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sim.plots.figure import groups_of, no_data, workload_cdfs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.run.builder import RunOutput

__all__ = [
    "FRAME_PLOTS",
    "SAMPLED_SESSIONS",
    "VIDEO_PLOTS",
    "deadline_misses",
    "frame_latency_cdf",
    "playback",
    "qoe_distribution",
]

SAMPLED_SESSIONS = 6
"""Sessions drawn in the playback plot (the first ones to start, in a stable order)."""

Tables = Mapping[str, Mapping[str, NDArray[Any]]]


def _figure(rows: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(8.0, 3.0 + 2.2 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def playback_figure(tables: Tables, title: str) -> Figure:
    """Buffer level and bitrate over time for a few sampled video sessions."""
    fig, (buf_ax, rate_ax) = _figure(2)
    buf_ax.set_title(f"{title}: playback of {SAMPLED_SESSIONS} sampled sessions")
    seg = tables.get("segments")
    if seg is None or len(seg["t_done"]) == 0:
        no_data(buf_ax, "video segments")
        return fig
    keys = [f"{w}/{g}[{u}]" for w, g, u in zip(seg["workload"], seg["group"], seg["user"],
                                              strict=True)]
    first: dict[str, float] = {}
    for key, t in zip(keys, seg["t_request"], strict=True):
        first.setdefault(key, float(t))
    chosen = sorted(first, key=lambda k: (first[k], k))[:SAMPLED_SESSIONS]
    key_arr = np.array(keys, dtype=object)
    for key in chosen:
        rows = np.flatnonzero(key_arr == key)
        t = np.asarray(seg["t_done"], dtype=float)[rows]
        buf_ax.plot(t, np.asarray(seg["buffer_after"], dtype=float)[rows], marker="o",
                    markersize=2, linewidth=1, label=key)
        rate_ax.step(t, np.asarray(seg["bitrate_bps"], dtype=float)[rows] / 1e6, where="post",
                     linewidth=1)
    buf_ax.set_ylabel("buffer after segment (s)")
    buf_ax.set_ylim(bottom=0.0)
    rate_ax.set_ylabel("segment bitrate (Mbit/s)")
    rate_ax.set_xlabel("simulated time (s)")
    for ax in (buf_ax, rate_ax):
        ax.grid(True, alpha=0.3)
    fig.legend(title="session", fontsize="small", loc="outside right upper")
    return fig


def qoe_figure(tables: Tables, title: str) -> Figure:
    """Distribution of the per-session QoE score, one line per video workload."""
    fig, (ax,) = _figure()
    ax.set_title(f"{title}: QoE per session (Yin et al. linear QoE)")
    sessions = tables.get("video_sessions")
    drawn = [] if sessions is None else workload_cdfs(
        ax, np.asarray(sessions["qoe"], dtype=float), sessions["workload"])
    if not drawn:
        no_data(ax, "video sessions")
        return fig
    ax.set_xlabel("QoE score of a session")
    ax.set_ylabel("fraction of sessions ≤ score")
    ax.set_ylim(0.0, 1.01)
    ax.grid(True, alpha=0.3)
    ax.legend(title="workload", loc="lower right")
    return fig


def frame_latency_figure(tables: Tables, title: str, warmup: float = 0.0) -> Figure:
    """CDF of motion-to-photon (VR) or glass-to-glass (live) latency, with deadlines."""
    fig, (ax,) = _figure()
    ax.set_title(f"{title}: frame latency (displayed frames)")
    frames = tables.get("frames")
    drawn = []
    if frames is not None:
        counted = np.asarray(frames["t_capture"], dtype=float) >= warmup
        latency = np.where(counted, np.asarray(frames["latency_s"], dtype=float) * 1e3, np.nan)
        deadline = np.asarray(frames["deadline_s"], dtype=float) * 1e3
        drawn = workload_cdfs(ax, latency, frames["workload"])
        for line, rows in drawn:
            ax.axvline(float(deadline[rows][0]), color=line.get_color(), linestyle="--",
                       linewidth=1)
    if not drawn:
        no_data(ax, "displayed frames")
        return fig
    ax.set_xlabel("latency (ms); dashed: the workload's deadline")
    ax.set_ylabel("fraction of frames ≤ latency")
    ax.set_ylim(0.0, 1.01)
    ax.grid(True, alpha=0.3)
    ax.legend(title="workload", loc="lower right")
    return fig


def deadline_miss_figure(tables: Tables, title: str, warmup: float = 0.0) -> Figure:
    """Deadline-miss ratio per site (rendering, streaming or relay), per workload."""
    fig, (ax,) = _figure()
    ax.set_title(f"{title}: frames that missed their deadline, per site")
    frames = tables.get("frames")
    if frames is None or len(frames["frame"]) == 0:
        no_data(ax, "frames")
        return fig
    counted = np.asarray(frames["t_capture"], dtype=float) >= warmup
    missed = np.asarray(frames["missed"], dtype=bool)
    labels: list[str] = []
    ratios: list[float] = []
    for workload, rows in groups_of(frames["workload"]):
        sites = np.asarray(frames["site"], dtype=object)[rows]
        for site, sub in groups_of(sites):
            picked = rows[sub][counted[rows[sub]]]
            if len(picked):
                labels.append(f"{workload}\n@{site}")
                ratios.append(float(missed[picked].mean()))
    bars = ax.bar(range(len(labels)), [100 * r for r in ratios], color="tab:red")
    ax.bar_label(bars, fmt="%.2f%%", fontsize="small")
    ax.set_xticks(range(len(labels)), labels, fontsize="small")
    ax.set_ylabel("deadline-miss ratio (%)")
    ax.set_ylim(0.0, max(5.0, 110 * max(ratios, default=0.0)))
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def playback(output: RunOutput) -> Figure:
    return playback_figure(output.tables, output.scenario.name)


def qoe_distribution(output: RunOutput) -> Figure:
    return qoe_figure(output.tables, output.scenario.name)


def frame_latency_cdf(output: RunOutput) -> Figure:
    return frame_latency_figure(output.tables, output.scenario.name, output.scenario.warmup)


def deadline_misses(output: RunOutput) -> Figure:
    return deadline_miss_figure(output.tables, output.scenario.name, output.scenario.warmup)


VIDEO_PLOTS: dict[str, tuple[str, Callable[[RunOutput], Figure]]] = {
    "playback": ("segments", playback),
    "qoe": ("video_sessions", qoe_distribution),
}
"""Plots of video on demand: file stem -> (the table it needs, figure builder)."""
FRAME_PLOTS: dict[str, tuple[str, Callable[[RunOutput], Figure]]] = {
    "frame_latency_cdf": ("frames", frame_latency_cdf),
    "deadline_misses": ("frames", deadline_misses),
}
"""Plots of real-time frames (VR lessons, live classes)."""
