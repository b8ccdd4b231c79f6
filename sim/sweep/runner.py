"""Sweeps: many runs of one base scenario over parameter values and replications.

A sweep file (see :mod:`sim.sweep.spec`) names a base scenario, parameters as
key paths with value lists (a grid of every combination, or zipped lists) and
the replications per point.  :func:`load_sweep` checks the whole sweep — every
point's scenario — before anything runs; :func:`run_sweep` runs what is not
finished yet and aggregates:

>>> plan = load_sweep("scenarios/sweeps/users_latency.yaml", "results")  # doctest: +SKIP
>>> result = run_sweep(plan, workers=2)  # doctest: +SKIP
>>> pandas.read_parquet(result.runs_table)  # doctest: +SKIP

Every run is an ordinary run folder ``<root>/<scenario>/<run id>``, the same one
``run`` writes for the same scenario and seed; replication ``r`` uses seed
``seed + r`` at every point.  A run counts as finished when its folder has a
``summary.json`` (folders are written atomically), so a sweep killed at any
moment resumes by running only what is missing, and ends with the same tables.
The pieces: :mod:`sim.sweep.spec` (file), :mod:`sim.sweep.plan` (runs, run ids),
:mod:`sim.sweep.execute` (serial, process pool, Dask), :mod:`sim.sweep.tables`
(manifest and tables).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.sweep.execute import (
    Done,
    Job,
    RunCrashedError,
    RunInputError,
    SweepRunError,
    execute_runs,
)
from sim.sweep.plan import PlannedRun, SweepPlan, load_sweep, plan_sweep
from sim.sweep.pool import start_workers_early
from sim.sweep.spec import Parameter, Point, SweepSpec, expand_points, read_sweep_file
from sim.sweep.tables import MANIFEST, POINTS, RUNS, write_manifest, write_tables

__all__ = [
    "MANIFEST",
    "POINTS",
    "RUNS",
    "Parameter",
    "PlannedRun",
    "Point",
    "RunCrashedError",
    "RunInputError",
    "SweepPlan",
    "SweepResult",
    "SweepRunError",
    "SweepSpec",
    "expand_points",
    "load_sweep",
    "plan_sweep",
    "read_sweep_file",
    "run_sweep",
    "start_workers_early",
]


@dataclass(frozen=True)
class SweepResult:
    """What a finished sweep did and where its tables are."""

    plan: SweepPlan
    executed: list[PlannedRun]
    """Runs executed now, in the order they finished."""
    skipped: list[PlannedRun]
    """Runs already finished before (resumed)."""
    runs_table: Path
    points_table: Path
    wall_s: float

    @property
    def folder(self) -> Path:
        return self.plan.folder


def run_sweep(plan: SweepPlan, *, workers: int = 1, dask: str | None = None,
              tables: bool = True, plots: bool = False,
              on_start: Callable[[int, int], None] | None = None,
              on_done: Done | None = None) -> SweepResult:
    """Run the unfinished runs of `plan`, then write sweep.json, runs.parquet, points.parquet.

    ``workers`` > 1 runs a local process pool; ``dask`` is "local" (a LocalCluster
    of ``workers`` processes) or a scheduler address.  ``on_start(total, skipped)``
    is called once before the runs, ``on_done(run, folder)`` after each run, in
    this process (progress bars; tests use it to stop a sweep midway).  Raises
    :class:`SweepRunError` when a run fails; finished runs stay and a rerun resumes.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    started = time.perf_counter()
    write_manifest(plan)
    pending = plan.pending()
    pending_ids = {run.run_id for run in pending}
    skipped = [run for run in plan.runs if run.run_id not in pending_ids]
    if on_start is not None:
        on_start(len(plan.runs), len(skipped))
    job = Job(str(plan.file.base.resolve()), str(plan.root.resolve()), tables=tables,
              plots=plots)
    executed = execute_runs(job, pending, workers=workers, dask=dask, on_done=on_done)
    runs_path, points_path = write_tables(plan)
    return SweepResult(plan, executed, skipped, runs_path, points_path,
                       time.perf_counter() - started)
