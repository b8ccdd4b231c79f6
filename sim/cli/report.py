"""`report PATH`: the self-contained HTML report of a finished run or sweep."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from sim.cli.common import EXIT_INPUT, EXIT_OK

__all__ = ["add_parser", "run", "write_report"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="write the HTML report of a run or sweep folder",
        description="Write PATH/report.html: one self-contained page (no network needed) with "
                    "the QoS verdicts, the summary per workload, the topology with link "
                    "utilisation, every plot and the scenario as run; for a sweep, a verdict "
                    "grid per point and metric-vs-parameter figures with CI bands.")
    p.add_argument("path", type=Path, metavar="PATH", help="a run folder or a sweep folder")


def write_report(path: Path) -> Path | None:
    """The report of the run or sweep in `path`, or None if it is neither."""
    if (path / "points.parquet").is_file():
        from sim.report.sweep_report import write_sweep_report

        return write_sweep_report(path)
    if (path / "summary.json").is_file() and (path / "scenario.yaml").is_file():
        from sim.report.run_report import write_run_report

        return write_run_report(path)
    return None


def run(ns: argparse.Namespace, console: Console) -> int:
    written = write_report(ns.path)
    if written is None:
        print(f"{ns.path}: not a run folder (summary.json, scenario.yaml) or a sweep folder "
              "(points.parquet)", file=sys.stderr)
        return EXIT_INPUT
    console.print(f"report: {written}", markup=False, soft_wrap=True)
    return EXIT_OK
