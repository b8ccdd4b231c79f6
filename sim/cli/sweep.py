"""`sweep SWEEP.yaml`: run a sweep file's runs (resuming) and aggregate their results.

The whole sweep is checked first — the sweep file and the base scenario at every
point — and problems are reported like a scenario's (``file:line:col``, exit 2)
before any run starts.  Runs go to a local process pool (``--workers N``), or to
Dask (``--dask local`` for a LocalCluster of N processes, ``--dask ADDRESS`` for
a running scheduler).  Exit codes are the CLI's: 2 when a run's scenario is
refused, 3 when a run crashes, 130 on Ctrl-C; in each case the finished runs
stay and running the same command again resumes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim.cli.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPT, EXIT_OK, check_out_dir
from sim.cli.progress_log import ProgressLog
from sim.extras import require_extra

if TYPE_CHECKING:  # the simulator is imported only once the fork server is started
    from sim.sweep.runner import SweepPlan, SweepRunError

__all__ = ["add_parser", "run"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("give at least 1 worker")
    return value


def add_parser(sub: Any) -> None:
    swp = sub.add_parser(
        "sweep", help="run a sweep file: parameter values x replications, resumable",
        description="Run every point and replication of a sweep file that is not finished "
                    "yet, then write <out>/sweeps/<name>/ (sweep.json, runs.parquet, "
                    "points.parquet).")
    swp.add_argument("sweep", help="sweep YAML file")
    swp.add_argument("--workers", type=_positive, default=1, metavar="N",
                     help="parallel runs: a local process pool, or the processes of "
                          "--dask local (default 1: serial, in this process)")
    swp.add_argument("--dask", metavar="ADDRESS|local",
                     help="run on Dask distributed: 'local' starts a LocalCluster of N worker "
                          "processes, an address (tcp://host:8786) uses a running scheduler "
                          "whose workers share this file system")
    swp.add_argument("--out", type=Path, default=Path("results"),
                     help="results root directory (default: ./results)")
    swp.add_argument("--plots", action="store_true",
                     help="draw each run's plots (off by default in sweeps)")
    swp.add_argument("--no-tables", action="store_true",
                     help="do not write the runs' Parquet tables (summaries suffice)")
    swp.add_argument("--dry-run", action="store_true",
                     help="check the sweep and list its runs without running them")
    swp.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


class _Bar:
    """Progress over runs (finished ones count from the start): a bar on a terminal,
    progress lines in a log (:mod:`sim.cli.progress_log`)."""

    def __init__(self, progress: Progress | None, label: str,
                 log: Console | None = None) -> None:
        self.progress = progress
        self.label = label
        self.log = log
        self.task: Any = None
        self.lines: ProgressLog | None = None
        self.finished = 0

    def start(self, total: int, skipped: int) -> None:
        if self.progress is not None:
            self.task = self.progress.add_task(self.label, total=total, completed=skipped)
        if self.log is not None and total > skipped:
            from sim.cli.progress_log import ProgressLog

            self.lines = ProgressLog(self.log, self.label, total - skipped, "runs")

    def done(self, *_: Any) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)
        if self.lines is not None:
            self.finished += 1
            self.lines(self.finished)


@contextmanager
def _bar(console: Console, label: str, quiet: bool) -> Iterator[_Bar]:
    if quiet or not console.is_terminal:
        yield _Bar(None, label, None if quiet else console)
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("runs"), TimeElapsedColumn(), TextColumn("eta"),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        yield _Bar(progress, label)


def _dry_run(plan: SweepPlan, console: Console, out: Path) -> int:
    """The planned runs as a table that keeps within the terminal (80 columns in a log).

    Folders are shown relative to the results root, printed once below the table.
    """
    from rich.table import Table

    pending = {run.run_id for run in plan.pending()}
    table = Table(title=f"sweep {plan.name}", title_justify="left", box=None)
    table.add_column("state", no_wrap=True)
    table.add_column("run", overflow="ellipsis")
    table.add_column(f"folder (in {out})", no_wrap=True, overflow="ellipsis")
    for run in plan.runs:
        state = "todo" if run.run_id in pending else "done"
        try:
            folder = str(run.folder.relative_to(out))
        except ValueError:
            folder = str(run.folder)
        table.add_row(state, run.describe(), folder)
    console.print(table)
    console.print(f"{len(plan.runs)} runs, {len(pending)} to run; tables in", markup=False)
    console.print(f"  {plan.folder}", soft_wrap=True, markup=False)
    return EXIT_OK


def _report_failure(exc: SweepRunError, debug: bool) -> int:
    from sim.sweep.runner import RunInputError

    cause = exc.cause
    sys.stderr.write(f"sweep: {exc}\n  overrides: {' '.join(exc.run.overrides)}\n")
    if isinstance(cause, RunInputError):
        for line in cause.lines:
            sys.stderr.write(line + "\n")
        code = EXIT_INPUT
    else:
        sys.stderr.write(f"  {cause.message}\n")
        if debug and cause.trace:
            sys.stderr.write(cause.trace)
        code = EXIT_INTERNAL
    sys.stderr.write("finished runs are kept; run the sweep again to resume\n")
    return code


def run(ns: argparse.Namespace, console: Console) -> int:
    from sim.sweep.pool import start_workers_early

    if ns.dask is not None:
        require_extra("dask", "sweep --dask")  # before any run starts
    if not ns.dry_run:
        check_out_dir(ns.out)  # a results root that cannot be written: exit 2 before any run
        # Before the simulator's imports below, to overlap with them.
        start_workers_early(ns.workers, ns.dask)
    from sim.sweep.runner import SweepRunError, load_sweep, run_sweep

    plan = load_sweep(ns.sweep, ns.out)  # ScenarioError -> located problems, exit 2
    if ns.dry_run:
        return _dry_run(plan, console, ns.out)
    try:
        with _bar(console, plan.name, ns.quiet) as bar:
            result = run_sweep(plan, workers=ns.workers, dask=ns.dask,
                               tables=not ns.no_tables, plots=ns.plots,
                               on_start=bar.start, on_done=bar.done)
    except SweepRunError as exc:
        return _report_failure(exc, ns.debug)
    except ConnectionError as exc:
        sys.stderr.write(f"sweep: {exc}\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; finished runs are kept, run the sweep again to resume\n")
        return EXIT_INTERRUPT
    # Plain text, never wrapped: scripts and users copy this path.
    console.print(f"sweep {plan.name}: {len(plan.runs)} runs ({len(result.executed)} run, "
                  f"{len(result.skipped)} skipped) in {result.wall_s:.1f} s; "
                  f"tables: {result.folder}", soft_wrap=True, markup=False)
    return EXIT_OK
