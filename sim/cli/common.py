"""What the CLI commands share: run options, running one scenario, reporting problems."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from sim.scenario.limits import MAX_SEED
from sim.scenario.overrides import FlagValue, parse_override
from sim.scenario.problems import Problem, ScenarioError

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_INTERRUPT", "EXIT_OK", "EXIT_QOS",
           "add_run_options", "check_out_dir", "overrides", "print_problems", "progress",
           "run_one", "seed_arg", "write_failed"]

EXIT_OK, EXIT_QOS, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPT = 0, 1, 2, 3, 130


def seed_arg(text: str) -> int:
    """``--seed``: a whole number ``0 <= seed < 2**63`` (argparse names the flag)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text[:40]!r}") from None
    if not 0 <= seed < MAX_SEED:
        raise argparse.ArgumentTypeError("must be a whole number from 0 to 2**63 - 1")
    return seed


def check_out_dir(out: Path, flag: str = "--out") -> None:
    """Refuse, before anything runs, a results root that cannot be written.

    It must be a directory that exists or can be created (its nearest existing
    ancestor a directory), and writable; found only after a long run, it would
    waste the run and exit 3.
    """
    where = f"{flag} {out}"
    existing = Path(out)
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link: mkdir would fail on it
            raise ScenarioError([Problem((), "is a broken symbolic link", file=where)])
        existing = existing.parent
    if not existing.is_dir():
        what = "is not a directory" if existing == Path(out) else f"{existing} is not a directory"
        raise ScenarioError([Problem((), what, file=where)])
    try:  # a probe, not os.access: root passes access checks on a read-only mount
        handle, probe = tempfile.mkstemp(prefix=".edgestream-probe-", dir=existing)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError([Problem((), f"{existing} is not writable ({reason})",
                                     file=where)]) from None
    os.close(handle)
    Path(probe).unlink()


def write_failed(out: Path, exc: OSError) -> ScenarioError:
    """A write that failed on the file system (full disk, quota, permissions) as bad input."""
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return ScenarioError([Problem((), f"cannot write the results: {reason}; nothing was kept",
                                  file=f"--out {out}")])


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=seed_arg, help="master random seed, 0 <= seed < 2**63 "
                   "(overrides the scenario)")
    p.add_argument("--duration", help='simulated time, e.g. "60 s" (overrides the scenario; '
                   "giving --set duration too is an error)")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="results root directory (default: ./results)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario key, e.g. --set links[0].bandwidth='1 Gbps'")
    p.add_argument("--force", action="store_true",
                   help="run even when the work estimate exceeds the limits (docs/scenario.md)")
    p.add_argument("--no-plots", action="store_true", help="do not draw plots")
    p.add_argument("--no-tables", action="store_true", help="do not write Parquet tables")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")


def overrides(ns: argparse.Namespace) -> list[str | FlagValue]:
    """``--set`` arguments, then ``--seed`` and ``--duration`` (whose errors name the flag).

    A flag and a ``--set`` of the same key is an error rather than a silent precedence.
    """
    extra: list[str | FlagValue] = list(ns.overrides)
    for key in ("seed", "duration"):
        value = getattr(ns, key, None)
        if value is None:
            continue
        for argument in ns.overrides:
            try:
                same = parse_override(argument).steps == (("key", key),)
            except ValueError:
                continue  # reported when it is applied
            if same:
                raise ScenarioError([Problem(
                    (), f"--{key} and --set {key}=... both set the {key}; give one of them",
                    file=f"--{key} {value}")])
        extra.append(FlagValue(f"--{key}", key, str(value)))
    return extra


@contextmanager
def progress(console: Console, label: str, total: float, quiet: bool) -> Iterator[Any]:
    """A progress bar over simulated time on a terminal; progress lines in a log."""
    if quiet:
        yield None
        return
    if not console.is_terminal:
        from sim.cli.progress_log import ProgressLog
        from sim.scenario.units import format_quantity

        yield ProgressLog(console, label, total, "simulated time",
                          lambda t: format_quantity(t, "duration"))
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}% of simulated time"),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda now: bar.update(task, completed=now)


def run_one(path: str, ns: argparse.Namespace, console: Console) -> tuple[dict[str, Any], Path]:
    from sim.run.builder import prepared_run
    from sim.run.input_warnings import print_warnings
    from sim.run.results import write_run
    from sim.scenario.loader import load_scenario

    loaded = load_scenario(path, overrides(ns))
    check_out_dir(ns.out)
    run = prepared_run(loaded, force=getattr(ns, "force", False))
    if not getattr(ns, "warned", False):  # once for the replications of `check`
        print_warnings(loaded)
        ns.warned = True
    scn = loaded.scenario
    with progress(console, scn.name, scn.duration, ns.quiet) as tick:
        output = run.execute(tick)
    try:
        folder = write_run(output, ns.out, tables=scn.output.tables and not ns.no_tables,
                           plots=scn.output.plots and not ns.no_plots)
    except OSError as exc:
        raise write_failed(ns.out, exc) from None
    for warning in output.summary.get("warnings", []):
        sys.stderr.write(f"warning: {scn.name}: {warning}\n")
    return output.summary, folder


def print_problems(exc: ScenarioError) -> None:
    for problem in exc.problems:
        sys.stderr.write(problem.format() + "\n")
    count = len(exc.problems)
    sys.stderr.write(f"{count} problem{'s' if count != 1 else ''} found; nothing was run\n")
