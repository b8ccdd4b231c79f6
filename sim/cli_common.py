"""What the CLI commands share: run options, running one scenario, reporting problems."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from sim.scenario.problems import ScenarioError

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_INTERRUPT", "EXIT_OK", "EXIT_QOS",
           "add_run_options", "overrides", "print_problems", "progress", "run_one"]

EXIT_OK, EXIT_QOS, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPT = 0, 1, 2, 3, 130


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, help="master random seed (overrides the scenario)")
    p.add_argument("--duration", help='simulated time, e.g. "60 s" (overrides the scenario)')
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="results root directory (default: ./results)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario key, e.g. --set links[0].bandwidth='1 Gbps'")
    p.add_argument("--no-plots", action="store_true", help="do not draw plots")
    p.add_argument("--no-tables", action="store_true", help="do not write Parquet tables")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")


def overrides(ns: argparse.Namespace) -> list[str]:
    extra = list(ns.overrides)
    if getattr(ns, "seed", None) is not None:
        extra.append(f"seed={ns.seed}")
    if getattr(ns, "duration", None) is not None:
        extra.append(f"duration={ns.duration}")
    return extra


@contextmanager
def progress(console: Console, label: str, total: float, quiet: bool) -> Iterator[Any]:
    """A progress bar over simulated time, on a terminal only."""
    if quiet or not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}% of simulated time"),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda now: bar.update(task, completed=now)


def run_one(path: str, ns: argparse.Namespace, console: Console) -> tuple[dict[str, Any], Path]:
    from sim.results import write_run
    from sim.run import prepared_run
    from sim.scenario.loader import load_scenario

    loaded = load_scenario(path, overrides(ns))
    run = prepared_run(loaded)
    scn = loaded.scenario
    with progress(console, scn.name, scn.duration, ns.quiet) as tick:
        output = run.execute(tick)
    folder = write_run(output, ns.out, tables=scn.output.tables and not ns.no_tables,
                       plots=scn.output.plots and not ns.no_plots)
    return output.summary, folder


def print_problems(exc: ScenarioError) -> None:
    for problem in exc.problems:
        sys.stderr.write(problem.format() + "\n")
    count = len(exc.problems)
    sys.stderr.write(f"{count} problem{'s' if count != 1 else ''} found; nothing was run\n")
