"""`check`: run scenarios and judge their `qos:` targets (exit 1 when one is missed)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from sim.cli_common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_QOS,
    add_run_options,
    overrides,
    print_problems,
    run_one,
)
from sim.scenario.problems import ScenarioError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    chk = sub.add_parser(
        "check", help="run scenarios and judge their qos targets (exit 1 on a miss)")
    chk.add_argument("scenarios", nargs="+", help="YAML files")
    add_run_options(chk)


def run(ns: argparse.Namespace, console: Console) -> int:
    from sim.qos import evaluate, verdict_table

    missed = False
    bad_input = False
    for path in ns.scenarios:
        try:
            summary, folder = run_one(path, ns, console)
        except ScenarioError as exc:
            print_problems(exc)
            bad_input = True
            continue
        from sim.scenario.loader import load_scenario

        targets = load_scenario(path, overrides(ns)).scenario.qos
        if not targets:
            console.print(f"{path}: no qos targets to check")
            continue
        verdicts = evaluate(targets, summary)
        console.print(verdict_table(verdicts, title=f"{path}  ({folder})"))
        missed |= not all(v.passed for v in verdicts)
    if bad_input:
        return EXIT_INPUT
    return EXIT_QOS if missed else EXIT_OK
