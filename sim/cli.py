"""Command line: ``run``, ``validate`` and ``check`` (``python run_sim.py`` or ``edgestream``).

Exit codes are part of the interface, for CI pipelines: 0 success, 1 a QoS target
missed, 2 bad input (scenario or arguments), 3 an internal error, 130 interrupted.
Bad input never shows a traceback; an internal error shows one only with
``--debug``.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from sim.scenario.problems import ScenarioError

__all__ = ["main"]

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "default.yaml"
COMMANDS = ("run", "validate", "check")

EXIT_OK, EXIT_QOS, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPT = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our code for bad input (2) and says so plainly."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, help="master random seed (overrides the scenario)")
    p.add_argument("--duration", help='simulated time, e.g. "60 s" (overrides the scenario)')
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="results root directory (default: ./results)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario key, e.g. --set links[0].bandwidth='1 Gbps'")
    p.add_argument("--no-plots", action="store_true", help="do not draw plots")
    p.add_argument("--no-tables", action="store_true", help="do not write Parquet tables")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="edgestream", description=(
        "Simulate 5G edge computing for education streaming. With no command, runs "
        "scenarios/default.yaml."))
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO), help="YAML file")
    _add_run_options(run)
    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", nargs="+", help="YAML files")
    val.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="PATH=VALUE", help="override a scenario key")
    chk = sub.add_parser(
        "check", help="run scenarios and judge their qos targets (exit 1 on a miss)")
    chk.add_argument("scenarios", nargs="+", help="YAML files")
    _add_run_options(chk)
    return parser


def _normalise(argv: Sequence[str]) -> list[str]:
    """`edgestream` alone runs the default; `edgestream x.yaml` means `run x.yaml`."""
    args = list(argv)
    first = next((a for a in args if a != "--debug"), None)
    if first is None or (first not in COMMANDS and first not in ("-h", "--help")):
        at = args.index(first) if first is not None else len(args)
        args.insert(at, "run")
    return args


def _overrides(ns: argparse.Namespace) -> list[str]:
    extra = list(ns.overrides)
    if getattr(ns, "seed", None) is not None:
        extra.append(f"seed={ns.seed}")
    if getattr(ns, "duration", None) is not None:
        extra.append(f"duration={ns.duration}")
    return extra


@contextmanager
def _progress(console: Console, label: str, total: float, quiet: bool) -> Iterator[Any]:
    """A progress bar over simulated time, on a terminal only."""
    if quiet or not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}% of simulated time"),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda now: bar.update(task, completed=now)


def _run_one(path: str, ns: argparse.Namespace, console: Console) -> tuple[dict[str, Any], Path]:
    from sim.qos import check_targets, flatten
    from sim.results import write_run
    from sim.run import Run
    from sim.scenario.loader import load_scenario

    loaded = load_scenario(path, _overrides(ns))
    try:
        run = Run(loaded.scenario)
        problems = check_targets(loaded.scenario.qos, flatten(run.summary()))
        if problems:
            raise ScenarioError(problems)
    except ScenarioError as exc:
        raise ScenarioError(loaded.document.locate_all(exc.problems)) from None
    scn = loaded.scenario
    with _progress(console, scn.name, scn.duration, ns.quiet) as tick:
        output = run.execute(tick)
    folder = write_run(output, ns.out, tables=scn.output.tables and not ns.no_tables,
                       plots=scn.output.plots and not ns.no_plots)
    return output.summary, folder


def _cmd_run(ns: argparse.Namespace, console: Console) -> int:
    from sim.qos import summary_table

    started = time.perf_counter()
    summary, folder = _run_one(ns.scenario, ns, console)
    if not ns.quiet:
        console.print(summary_table(summary))
    # Plain text, never wrapped: scripts and users copy this path.
    console.print(f"results: {folder}  ({time.perf_counter() - started:.1f} s)",
                  soft_wrap=True, markup=False)
    return EXIT_OK


def _cmd_validate(ns: argparse.Namespace, console: Console) -> int:
    from sim.qos import check_targets, flatten
    from sim.run import Run
    from sim.scenario.loader import load_scenario

    failed = False
    for path in ns.files:
        try:
            loaded = load_scenario(path, ns.overrides)
            try:
                run = Run(loaded.scenario)
                problems = check_targets(loaded.scenario.qos, flatten(run.summary()))
                if problems:
                    raise ScenarioError(problems)
            except ScenarioError as exc:
                raise ScenarioError(loaded.document.locate_all(exc.problems)) from None
        except ScenarioError as exc:
            failed = True
            _print_problems(exc)
            continue
        console.print(f"{path}: ok")
    return EXIT_INPUT if failed else EXIT_OK


def _cmd_check(ns: argparse.Namespace, console: Console) -> int:
    from sim.qos import evaluate, verdict_table

    missed = False
    bad_input = False
    for path in ns.scenarios:
        try:
            summary, folder = _run_one(path, ns, console)
        except ScenarioError as exc:
            _print_problems(exc)
            bad_input = True
            continue
        from sim.scenario.loader import load_scenario

        targets = load_scenario(path, _overrides(ns)).scenario.qos
        if not targets:
            console.print(f"{path}: no qos targets to check")
            continue
        verdicts = evaluate(targets, summary)
        console.print(verdict_table(verdicts, title=f"{path}  ({folder})"))
        missed |= not all(v.passed for v in verdicts)
    if bad_input:
        return EXIT_INPUT
    return EXIT_QOS if missed else EXIT_OK


def _print_problems(exc: ScenarioError) -> None:
    for problem in exc.problems:
        sys.stderr.write(problem.format() + "\n")
    count = len(exc.problems)
    sys.stderr.write(f"{count} problem{'s' if count != 1 else ''} found; nothing was run\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``run_sim.py`` and the ``edgestream`` console script."""
    args = _normalise(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    console = Console(stderr=False, highlight=False)
    try:
        ns = build_parser().parse_args(args)
        handler = {"run": _cmd_run, "validate": _cmd_validate, "check": _cmd_check}[ns.command]
        return handler(ns, console)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INPUT
    except ScenarioError as exc:
        _print_problems(exc)
        return EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; no partial results were kept\n")
        return EXIT_INTERRUPT
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            sys.stderr.write(f"edgestream: internal error: {type(exc).__name__}: {exc}\n"
                             "re-run with --debug for the traceback, and please report it\n")
        return EXIT_INTERNAL
