"""Command line: ``run``, ``validate``, ``check``, ``sweep``, ``plot``, ``live``, ``calibrate``,
``size`` and ``show``
(``python run_sim.py`` or ``edgestream``).

Exit codes are part of the interface, for CI pipelines: 0 success, 1 a QoS target
missed (or a calibration out of tolerance), 2 bad input (scenario or arguments, or a
command whose extra is not installed), 3 an
internal error, 4 a live run that failed (a peer process crashed or timed out),
130 interrupted (Ctrl-C, or SIGTERM for ``run``, ``check``, ``sweep`` and
``calibrate``).
Bad input never shows a traceback; an internal error shows one only with
``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console

from sim.cli import help_text
from sim.cli.common import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPT,
    EXIT_OK,
    add_run_options,
    print_problems,
    run_one,
)
from sim.extras import MissingExtraError
from sim.run.process_guard import terminate_as_interrupt
from sim.scenario.problems import ScenarioError

__all__ = ["main"]


def _default_scenario() -> Path:
    """scenarios/default.yaml, found as package data: in an installed wheel as in a checkout
    (an installed package is a folder, so this is a real file)."""
    try:
        return Path(str(resources.files("scenarios").joinpath("default.yaml")))
    except ModuleNotFoundError:  # an editable install made before scenarios/ was a package
        return Path(__file__).resolve().parents[2] / "scenarios" / "default.yaml"


DEFAULT_SCENARIO = _default_scenario()
"""Run when no scenario is given."""
COMMAND_MODULES = {"check": "sim.cli.check", "plot": "sim.cli.plot", "sweep": "sim.cli.sweep",
                   "live": "sim.cli.live", "calibrate": "sim.cli.calibrate",
                   "report": "sim.cli.report", "size": "sim.cli.size", "show": "sim.cli.show"}
"""Commands that live in their own module: ``add_parser(subparsers)`` and ``run(ns, console)``."""
COMMANDS = ("run", "validate", *COMMAND_MODULES)
INTERRUPTIBLE = frozenset({"run", "check", "sweep", "calibrate", "size"})
"""Commands for which SIGTERM is Ctrl-C: partial results removed, exit 130 (``live`` has
its own supervisor, which stops its peers on SIGTERM)."""


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our code for bad input (2) and says so plainly."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="edgestream", description=(
        "Simulate 5G edge computing for education streaming. With no command, runs "
        "scenarios/default.yaml."))
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO), help="YAML file")
    add_run_options(run)
    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", nargs="+", help="YAML files")
    val.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="PATH=VALUE", help="override a scenario key")
    val.add_argument("--force", action="store_true",
                     help="accept work estimates over the limits (docs/scenario.md)")
    for module in COMMAND_MODULES.values():
        importlib.import_module(module).add_parser(sub)
    help_text.attach(parser, sub)
    return parser


def _normalise(argv: Sequence[str]) -> list[str]:
    """`edgestream` alone runs the default; `edgestream x.yaml` means `run x.yaml`."""
    args = list(argv)
    first = next((a for a in args if a != "--debug"), None)
    if first is None or (first not in COMMANDS and first not in ("-h", "--help")):
        at = args.index(first) if first is not None else len(args)
        args.insert(at, "run")
    return args


def _cmd_run(ns: argparse.Namespace, console: Console) -> int:
    from sim.qos.overview import summary_table

    started = time.perf_counter()
    summary, folder = run_one(ns.scenario, ns, console)
    if not ns.quiet:
        console.print(summary_table(summary))
    # Plain text, never wrapped: scripts and users copy this path.
    console.print(f"results: {folder}  ({time.perf_counter() - started:.1f} s)",
                  soft_wrap=True, markup=False)
    return EXIT_OK


def _cmd_validate(ns: argparse.Namespace, console: Console) -> int:
    from sim.run.builder import prepared_run
    from sim.run.input_warnings import print_warnings
    from sim.scenario.loader import load_scenario

    failed = False
    for path in ns.files:
        try:
            loaded = load_scenario(path, ns.overrides)
            prepared_run(loaded, force=ns.force)
        except ScenarioError as exc:
            failed = True
            print_problems(exc)
            continue
        console.file.flush()
        print_warnings(loaded)
        console.print(f"{path}: ok")
    return EXIT_INPUT if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``run_sim.py`` and the ``edgestream`` console script."""
    args = _normalise(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    console = Console(stderr=False, highlight=False)
    try:
        ns = build_parser().parse_args(args)
        if ns.command in INTERRUPTIBLE:
            terminate_as_interrupt()
        if ns.command in COMMAND_MODULES:
            result: int = importlib.import_module(COMMAND_MODULES[ns.command]).run(ns, console)
            return result
        handler = {"run": _cmd_run, "validate": _cmd_validate}[ns.command]
        return handler(ns, console)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INPUT
    except ScenarioError as exc:
        print_problems(exc)
        return EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; no partial results were kept\n")
        return EXIT_INTERRUPT
    except MissingExtraError as exc:
        sys.stderr.write(f"edgestream: {exc}\n")
        return EXIT_INPUT
    except MemoryError:  # only with --force: the work estimate refuses such runs
        sys.stderr.write("edgestream: out of memory; the scenario asks for more than this "
                         "machine has (without --force the work estimate refuses it)\n")
        return EXIT_INPUT
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            sys.stderr.write(f"edgestream: internal error: {type(exc).__name__}: {exc}\n"
                             "re-run with --debug for the traceback, and please report it\n")
        return EXIT_INTERNAL
