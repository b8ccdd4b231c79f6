"""What a capacity search leaves behind: ``size.parquet`` and ``size.png``.

The table is tidy, one row per probed value, replication and target metric
(``parameter``, ``value``, ``replication``, ``metric``, ``metric_value``,
``verdict``); the verdict is that of the target at the probed value, judged on
all its replications, so it repeats over them.  The plot shows each target
metric's replication mean against the value with its 95% CI band, the target's
bound as a line and the answer as a vertical line: it shows why the boundary is
where it is, and for a floor how far above the target the easy end stays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.plots.sweep import metric_axis, new_figure, save_figure
from sim.qos.targets import flatten
from sim.sweep.capacity import SearchResult

__all__ = ["SIZE_PLOT", "SIZE_TABLE", "size_table", "write_size_outputs"]

SIZE_TABLE, SIZE_PLOT = "size.parquet", "size"


def size_table(result: SearchResult) -> pa.Table:
    rows: dict[str, list[object]] = {k: [] for k in (
        "value", "replication", "metric", "metric_value", "verdict")}
    for probe in sorted(result.probes, key=lambda p: p.value):
        verdict: dict[str, bool] = {}
        for v in probe.verdicts:  # a target with min and max passes only if both do
            verdict[v.metric] = verdict.get(v.metric, True) and v.passed
        for r, summary in enumerate(probe.summaries):
            flat = flatten(summary)
            for metric, passed in verdict.items():
                raw = flat.get(metric)
                for key, item in (("value", probe.value), ("replication", r),
                                  ("metric", metric),
                                  ("metric_value", None if raw is None else float(raw)),
                                  ("verdict", "PASS" if passed else "FAIL")):
                    rows[key].append(item)
    n = len(rows["value"])
    return pa.table({
        "parameter": pa.array([result.vary.key] * n, pa.string()),
        "value": pa.array(rows["value"], pa.float64()),
        "replication": pa.array(rows["replication"], pa.int64()),
        "metric": pa.array(rows["metric"], pa.string()),
        "metric_value": pa.array(rows["metric_value"], pa.float64()),
        "verdict": pa.array(rows["verdict"], pa.string()),
    })


def _plot(result: SearchResult, folder: Path) -> list[Path]:
    probes = sorted(result.probes, key=lambda p: p.value)
    metrics = list(dict.fromkeys(v.metric for v in probes[0].verdicts))
    fig, axes = new_figure((8.0, 3.2 * len(metrics)), rows=len(metrics), sharex=True)
    x = np.array([p.value for p in probes], dtype=float)
    for ax, metric in zip(axes, metrics, strict=True):
        factor, label = metric_axis(metric)
        mean, low, high = [], [], []
        for probe in probes:
            verdict = next(v for v in probe.verdicts if v.metric == metric)
            value = np.nan if verdict.value is None else verdict.value
            ci = verdict.ci or (value, value)
            mean.append(value * factor)
            low.append(ci[0] * factor)
            high.append(ci[1] * factor)
        ax.plot(x, mean, marker="o", label="mean")
        ax.fill_between(x, low, high, alpha=0.25, label="95% CI")
        for v in probes[0].verdicts:
            if v.metric == metric:
                ax.axhline(v.limit * factor, color="tab:red", linestyle="--",
                           label=f"target {v.op} {v.bound}")
        if result.answer is not None:
            ax.axvline(result.answer, color="tab:green", linestyle=":",
                       label=f"answer {result.vary.shown(result.answer)}")
        ax.set_ylabel(label, fontsize=8)
        ax.legend(fontsize=7, loc="best")
        if result.vary.kind != "integer":
            ax.set_xscale("log")
    axes[-1].set_xlabel(result.vary.key)
    return save_figure(fig, folder, SIZE_PLOT)


def write_size_outputs(result: SearchResult) -> list[Path]:
    """size.parquet and size.png in the search's sweep folder."""
    folder = result.sweep_folder
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / SIZE_TABLE
    pq.write_table(size_table(result), table, compression="zstd")
    return [table, *_plot(result, folder)]
