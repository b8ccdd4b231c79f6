"""`show PATH`: a finished run's or sweep's tables and verdicts again, without simulating.

A run folder (``summary.json`` beside ``scenario.yaml``) shows the summary table
``run`` prints and the verdict table ``check`` prints, judged from the stored
summary against the targets of the stored effective scenario.  A sweep folder
(``sweep.json``) shows, per point, its values and the verdicts over its
replications by ``check``'s CI rule, read from the run folders the manifest
lists.  Nothing is recomputed beyond the judging, so ``show`` takes a moment
where the run took minutes.  Anything else is bad input (exit 2).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape

from sim.cli.common import EXIT_OK
from sim.scenario.problems import Problem, ScenarioError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("show", help="reprint a finished run's or sweep's tables and verdicts",
                       description="Reprint the tables and qos verdicts of a run folder or a "
                                   "sweep folder (results/sweeps/NAME) without simulating.")
    p.add_argument("path", type=Path, help="run folder, its summary.json, or a sweep folder")


def _targets(folder: Path) -> list[Any]:
    """The qos targets of the run's effective scenario ([] if the folder has none)."""
    from sim.scenario.schema import Scenario

    path = folder / "scenario.yaml"
    if not path.is_file():
        return []
    return list(Scenario.model_validate(yaml.safe_load(path.read_text("utf-8"))).qos)


def _show_run(folder: Path, console: Console) -> None:
    from sim.qos.overview import summary_table
    from sim.qos.targets import evaluate, verdict_table
    from sim.run.results import read_summary

    summary = read_summary(folder)
    console.print(summary_table(summary))
    targets = _targets(folder)
    if targets:
        console.print(verdict_table(evaluate(targets, summary), title=escape(str(folder))))
    else:
        console.print(f"{folder}: no qos targets", soft_wrap=True, markup=False)


def _show_sweep(folder: Path, console: Console) -> None:
    from sim.qos.gate import evaluate_replicated
    from sim.qos.targets import verdict_table
    from sim.run.results import SUMMARY, read_summary

    manifest = json.loads((folder / "sweep.json").read_text("utf-8"))
    points: dict[int, list[dict[str, Any]]] = {}
    for entry in manifest["runs"]:
        points.setdefault(entry["point"], []).append(entry)
    finished = 0
    for point, entries in sorted(points.items()):
        runs = [folder / e["folder"] for e in sorted(entries, key=lambda e: e["replication"])]
        done = [r for r in runs if (r / SUMMARY).is_file()]
        finished += len(done)
        values = ", ".join(f"{k}={v}" for k, v in entries[0]["params"].items())
        title = f"point {point} ({values}): {len(done)} of {len(runs)} runs"
        targets = _targets(done[0]) if done else []
        if not done or not targets:
            console.print(f"{title}{'' if done else ', none finished'}; no verdicts",
                          soft_wrap=True, markup=False)
            continue
        verdicts = evaluate_replicated(targets, [read_summary(r) for r in done])
        console.print(verdict_table(verdicts, title=escape(title)))
    console.print(f"sweep {manifest['name']}: {finished} of {len(manifest['runs'])} runs "
                  f"finished; tables: {folder}", soft_wrap=True, markup=False)


def run(ns: argparse.Namespace, console: Console) -> int:
    path: Path = ns.path
    folder = path.parent if path.name == "summary.json" else path
    if (folder / "summary.json").is_file():
        _show_run(folder, console)
    elif (folder / "sweep.json").is_file():
        _show_sweep(folder, console)
    else:
        what = "no such file or folder" if not path.exists() else \
            "not a run folder (no summary.json) nor a sweep folder (no sweep.json)"
        raise ScenarioError([Problem((), what, file=str(path))])
    return EXIT_OK
