"""Plots of the streams of one run: playback, QoE, frame latency, deadline misses.

They read the ``segments``, ``video_sessions`` and ``frames`` tables (schemas in
results/README.md), not the streaming models, so the engine package keeps its
dependency direction.  Like :mod:`sim.plots.figure`, each figure reduces its data
first: a few sampled sessions, quantiles for CDFs.  The tables are walked a row
group at a time (:func:`sim.run.records.table_batches`), reading only the groups'
columns, so a long run's frames (tens of millions of rows, kept on disk while the
run ran) are never loaded whole; the latency CDF keeps at most about
:data:`CDF_SAMPLE` frames per workload for that (see :func:`frame_latency_figure`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sim.plots.figure import cdf_points, groups_of, no_data, workload_cdfs
from sim.run.records import table_batches

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.run.builder import RunOutput

__all__ = ["CDF_SAMPLE", "FRAME_PLOTS", "SAMPLED_SESSIONS", "VIDEO_PLOTS", "deadline_misses",
           "frame_latency_cdf", "playback", "qoe_distribution"]

SAMPLED_SESSIONS = 6
"""Sessions drawn in the playback plot (the first ones to start, in a stable order)."""

CDF_SAMPLE = 1 << 20
"""Frames per workload above which the latency CDF is drawn from every 2^j-th one."""

Tables = Mapping[str, Mapping[str, NDArray[Any]]]


class _Decimated:
    """Values seen in order, of which every `stride`-th is kept: whenever more than
    2 x CDF_SAMPLE are kept, every other one is dropped and the stride doubles, so
    the kept ones stay an evenly spaced sample of all seen (exactly all of them up
    to that size)."""

    def __init__(self) -> None:
        self.parts: list[NDArray[np.float64]] = []
        self.kept = 0
        self.seen = 0
        self.stride = 1

    def add(self, values: NDArray[np.float64]) -> None:
        first = (-self.seen) % self.stride  # the next multiple of the stride
        self.seen += len(values)
        taken = values[first::self.stride]
        self.parts.append(taken)
        self.kept += len(taken)
        if self.kept > 2 * CDF_SAMPLE:
            joined = np.concatenate(self.parts)[::2]
            self.parts, self.kept, self.stride = [joined], len(joined), 2 * self.stride

    def values(self) -> NDArray[np.float64]:
        return np.concatenate(self.parts) if self.parts else np.zeros(0)


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
    first: dict[str, float] = {}
    if seg is not None:
        for part in table_batches(seg):  # 1: each session's first request
            for key, t in zip(_session_keys(part), part["t_request"], strict=True):
                first.setdefault(key, float(t))
    if not first:
        no_data(buf_ax, "video segments")
        return fig
    assert seg is not None
    chosen = sorted(first, key=lambda k: (first[k], k))[:SAMPLED_SESSIONS]
    rows: dict[str, list[NDArray[np.float64]]] = {key: [] for key in chosen}
    for part in table_batches(seg):  # 2: the chosen sessions' rows
        keys = np.array(_session_keys(part), dtype=object)
        for key in chosen:
            mine = np.flatnonzero(keys == key)
            if len(mine):
                rows[key].append(np.stack([np.asarray(part[name], dtype=float)[mine] for name
                                           in ("t_done", "buffer_after", "bitrate_bps")]))
    for key in chosen:
        t, buffer, bitrate = np.concatenate(rows[key], axis=1)
        buf_ax.plot(t, buffer, marker="o", markersize=2, linewidth=1, label=key)
        rate_ax.step(t, bitrate / 1e6, where="post", linewidth=1)
    buf_ax.set_ylabel("buffer after segment (s)")
    buf_ax.set_ylim(bottom=0.0)
    rate_ax.set_ylabel("segment bitrate (Mbit/s)")
    rate_ax.set_xlabel("simulated time (s)")
    for ax in (buf_ax, rate_ax):
        ax.grid(True, alpha=0.3)
    fig.legend(title="session", fontsize="small", loc="outside right upper")
    return fig


def _session_keys(part: Mapping[str, NDArray[Any]]) -> list[str]:
    return [f"{w}/{g}[{u}]" for w, g, u in zip(part["workload"], part["group"], part["user"],
                                              strict=True)]


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
    """CDF of motion-to-photon (VR) or glass-to-glass (live) latency, with deadlines.

    Downsampled for long runs: a workload with more than 2 x :data:`CDF_SAMPLE`
    displayed frames is drawn from an evenly spaced sample of them (every 2^j-th
    in table order, at least CDF_SAMPLE frames; the CDF is drawn from at most 1,000
    quantiles anyway); the legend's n counts every frame.
    """
    fig, (ax,) = _figure()
    ax.set_title(f"{title}: frame latency (displayed frames)")
    frames = tables.get("frames")
    samples: dict[str, _Decimated] = {}
    deadlines: dict[str, float] = {}
    if frames is not None:
        for part in table_batches(frames):
            counted = np.asarray(part["t_capture"], dtype=float) >= warmup
            latency = np.asarray(part["latency_s"], dtype=float) * 1e3
            deadline = np.asarray(part["deadline_s"], dtype=float)
            for label, rows in groups_of(part["workload"]):
                deadlines.setdefault(label, 1e3 * float(deadline[rows[0]]))
                mine = latency[rows][counted[rows]]
                samples.setdefault(label, _Decimated()).add(mine[np.isfinite(mine)])
    drawn = []
    for label, sample in samples.items():
        if sample.seen == 0:
            continue
        x, y = cdf_points(sample.values())
        line = ax.plot(x, y, drawstyle="steps-post", label=f"{label} (n={sample.seen})")[0]
        drawn.append((line, deadlines[label]))
    for line, deadline_ms in drawn:
        ax.axvline(deadline_ms, color=line.get_color(), linestyle="--", linewidth=1)
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
    """Deadline-miss ratio per site (rendering, streaming or relay), per workload
    (counts per row group: every frame counts)."""
    fig, (ax,) = _figure()
    ax.set_title(f"{title}: frames that missed their deadline, per site")
    frames = tables.get("frames")
    counts: dict[tuple[str, str], list[int]] = {}  # (workload, site) -> [counted, missed]
    for part in () if frames is None else table_batches(frames):
        counted = np.asarray(part["t_capture"], dtype=float) >= warmup
        missed = np.asarray(part["missed"], dtype=bool)
        for workload, rows in groups_of(part["workload"]):
            sites = np.asarray(part["site"], dtype=object)[rows]
            for site, sub in groups_of(sites):
                picked = rows[sub][counted[rows[sub]]]
                tally = counts.setdefault((workload, site), [0, 0])
                tally[0] += len(picked)
                tally[1] += int(missed[picked].sum())
    if not counts:
        no_data(ax, "frames")
        return fig
    # workloads in order of first appearance, and each one's sites
    order = sorted(counts, key=lambda k: next(i for i, c in enumerate(counts) if c[0] == k[0]))
    labels = [f"{workload}\n@{site}" for workload, site in order if counts[workload, site][0]]
    ratios = [counts[k][1] / counts[k][0] for k in order if counts[k][0]]
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
