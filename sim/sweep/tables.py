"""The sweep's own files: the manifest and the two aggregated tables.

``<root>/sweeps/<name>/`` holds

* ``sweep.json``: the sweep as planned (parameters, mode, replications, and per
  run its point, replication, seed, values, overrides and folder, relative to
  the sweep folder) — written before any run, so an interrupted sweep has it;
* ``runs.parquet``: one row per run and numeric summary metric, tidy, with the
  parameter columns, so one ``pandas.read_parquet`` call gives every result;
* ``points.parquet``: per point and metric the mean over replications with a
  95% Student t interval (null with fewer than two replications).

The tables are rebuilt from the run folders' ``summary.json`` files, never from
results held in memory, so a resumed sweep and an uninterrupted one write the
same bytes: rows sorted by point, replication and metric, Arrow arrays built
without pandas metadata, fixed Parquet settings, written to a temporary file
and renamed into place.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim.qos.point_verdict import judge_point
from sim.qos.targets import flatten
from sim.run.results import read_summary
from sim.stats import t_interval
from sim.sweep.plan import PlannedRun, SweepPlan
from sim.sweep.spec import yaml_text

__all__ = ["MANIFEST", "POINTS", "RUNS", "manifest", "points_table", "runs_table",
           "write_manifest", "write_tables"]

MANIFEST, RUNS, POINTS = "sweep.json", "runs.parquet", "points.parquet"
SCHEMA = "edgestream.sweep/1"
_NOT_METRICS = frozenset({"seed"})
"""Numeric summary keys that are run labels (columns of their own), not metrics."""


def _atomic(path: Path, write: Any) -> None:
    """``write(tmp)`` then rename over ``path``: readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_parquet(table: pa.Table, path: Path) -> None:
    _atomic(path, lambda tmp: pq.write_table(
        table, tmp, compression="zstd", use_dictionary=True, write_statistics=True,
        row_group_size=1 << 20))


# ----------------------------------------------------------------------- manifest


def manifest(plan: SweepPlan) -> dict[str, Any]:
    """The sweep as planned, with each run's folder relative to the sweep folder."""
    spec = plan.file.spec
    return {
        "schema": SCHEMA,
        "name": spec.name,
        "base": spec.base,
        "mode": spec.mode,
        "replications": spec.replications,
        "seed": plan.base_seed,
        "set": list(spec.fixed),
        "parameters": [{"name": p.column, "paths": p.key_paths, "values": list(p.values)}
                       for p in spec.parameters],
        "runs": [{
            "run_id": run.run_id, "point": run.point, "replication": run.replication,
            "seed": run.seed, "scenario": run.scenario, "params": run.params,
            "overrides": list(run.overrides),
            "folder": Path(os.path.relpath(run.folder, plan.folder)).as_posix(),
        } for run in plan.runs],
    }


def write_manifest(plan: SweepPlan) -> Path:
    path = plan.folder / MANIFEST
    text = json.dumps(manifest(plan), indent=2, ensure_ascii=False, default=str) + "\n"
    _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


# ------------------------------------------------------------------------ tables


def _parameter_array(values: Sequence[Any]) -> pa.Array:
    """A parameter column: its own Arrow type if the values share one, else YAML text."""
    if all(v is None or isinstance(v, int | float | str | bool) for v in values):
        try:
            return pa.array(list(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([yaml_text(v) for v in values], pa.string())


def _metrics(summary: dict[str, Any]) -> list[tuple[str, float | None]]:
    flat = flatten(summary)
    return [(key, None if value is None else float(value))
            for key, value in sorted(flat.items()) if key not in _NOT_METRICS]


def runs_table(plan: SweepPlan) -> pa.Table:
    """One row per run and metric, read from the run folders (all must be finished)."""
    rows: dict[str, list[Any]] = {k: [] for k in (
        "run_id", "seed", "scenario", "replication", "point", "metric", "value")}
    params: dict[str, list[Any]] = {c: [] for c in plan.columns}
    for run in sorted(plan.runs, key=lambda r: (r.point, r.replication)):
        for metric, value in _metrics(read_summary(run.folder)):
            for key, item in (("run_id", run.run_id), ("seed", run.seed),
                              ("scenario", run.scenario), ("replication", run.replication),
                              ("point", run.point), ("metric", metric), ("value", value)):
                rows[key].append(item)
            for column in plan.columns:
                params[column].append(run.params[column])
    arrays: dict[str, pa.Array] = {
        "run_id": pa.array(rows["run_id"], pa.string()),
        "seed": pa.array(rows["seed"], pa.int64()),
        "scenario": pa.array(rows["scenario"], pa.string()),
        "replication": pa.array(rows["replication"], pa.int64()),
        "point": pa.array(rows["point"], pa.int64()),
    }
    arrays.update({column: _parameter_array(values) for column, values in params.items()})
    arrays["metric"] = pa.array(rows["metric"], pa.string())
    arrays["value"] = pa.array(rows["value"], pa.float64())
    return pa.table(arrays)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _targets(plan: SweepPlan) -> list[Any]:
    """The qos targets of the sweep's runs (read from a finished run's scenario)."""
    from sim.scenario.schema import Scenario

    for run in plan.runs:
        path = run.folder / "scenario.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return list(Scenario.model_validate(data).qos)
    return []


def points_table(plan: SweepPlan, runs: pa.Table) -> pa.Table:
    """Per point and metric: replications with a value, their mean and 95% t interval,
    and for a metric with ``qos:`` targets the bounds and whether the point meets them
    (:func:`sim.qos.point_verdict.judge_point`; null for other metrics)."""
    groups: dict[tuple[int, str], list[float]] = {}
    for point, metric, value in zip(runs.column("point").to_pylist(),
                                    runs.column("metric").to_pylist(),
                                    runs.column("value").to_pylist(), strict=True):
        values = groups.setdefault((point, metric), [])
        if value is not None and math.isfinite(value):
            values.append(value)
    at_point: dict[int, PlannedRun] = {}
    for run in plan.runs:
        at_point.setdefault(run.point, run)
    out: dict[str, list[Any]] = {k: [] for k in ("point", "metric", "n", "mean", "low", "high")}
    params: dict[str, list[Any]] = {c: [] for c in plan.columns}
    for (point, metric), values in sorted(groups.items()):
        samples = np.asarray(values, dtype=np.float64)
        low, high = t_interval(samples, 0.95)
        for key, item in (("point", point), ("metric", metric), ("n", len(values)),
                          ("mean", float(np.mean(samples)) if len(values) else None),
                          ("low", _finite(low)), ("high", _finite(high))):
            out[key].append(item)
        for column in plan.columns:
            params[column].append(at_point[point].params[column])
    arrays: dict[str, pa.Array] = {"point": pa.array(out["point"], pa.int64())}
    arrays.update({column: _parameter_array(values) for column, values in params.items()})
    arrays["metric"] = pa.array(out["metric"], pa.string())
    arrays["n"] = pa.array(out["n"], pa.int64())
    arrays["mean"] = pa.array(out["mean"], pa.float64())
    arrays["ci95_low"] = pa.array(out["low"], pa.float64())
    arrays["ci95_high"] = pa.array(out["high"], pa.float64())
    targets = _targets(plan)
    judged = [judge_point(targets, metric, mean, low, high) for metric, mean, low, high
              in zip(out["metric"], out["mean"], out["low"], out["high"], strict=True)]
    arrays["target"] = pa.array([", ".join(b for b, _ in v) if v else None for v in judged],
                                pa.string())
    arrays["met"] = pa.array([all(m for _, m in v) if v else None for v in judged], pa.bool_())
    return pa.table(arrays)


def write_tables(plan: SweepPlan) -> tuple[Path, Path]:
    """Aggregate the finished runs into runs.parquet and points.parquet (atomically)."""
    runs = runs_table(plan)
    runs_path, points_path = plan.folder / RUNS, plan.folder / POINTS
    _write_parquet(runs, runs_path)
    _write_parquet(points_table(plan, runs), points_path)
    return runs_path, points_path
