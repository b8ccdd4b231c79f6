"""`size SCENARIO --vary KEY=LOW..HIGH`: the smallest design that meets every qos target.

Bisection over the range (see :mod:`sim.sweep.capacity`), each probe judged on
its replications by ``check``'s CI rule.  Prints each probe as it finishes and
the answer; when no value in the range meets the targets, the targets missed at
the easy end of the range and their values there (the floor the parameter cannot
push below).  Writes ``size.parquet`` and ``size.png`` into
``<out>/sweeps/size-<scenario>-<key>/``, beside the probes' sweep tables.

Exit codes: 0 a value was found, 1 no value in the range meets the targets,
2 bad input (the scenario, or a ``--vary`` that is not a range of the scenario).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from sim.cli.check import _replications
from sim.cli.common import EXIT_INTERRUPT, EXIT_OK, EXIT_QOS, check_out_dir, seed_arg
from sim.scenario.units import UnitError, parse_fraction

__all__ = ["add_parser", "run"]


def _resolution(text: str) -> float:
    try:
        return parse_fraction(text)
    except UnitError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "size", help="find the smallest value of a parameter that meets every qos target",
        description="Bisect a parameter's range for the boundary of the scenario's qos "
                    "targets, judged like check --replications (95% CI of the mean). "
                    "Exit 0 when a value meets them, 1 when none in the range does.")
    p.add_argument("scenario", help="YAML file with qos targets")
    p.add_argument("--vary", required=True, metavar="KEY=LOW..HIGH",
                   help="the parameter and its range: nodes[mec1].compute.servers=1..64 "
                        "(whole numbers), or links[0].bandwidth=10Mbps..10Gbps (a geometric "
                        "grid, see --resolution)")
    p.add_argument("--replications", type=_replications, default=3, metavar="N",
                   help="runs per value (seeds seed..seed+N-1); default 3")
    p.add_argument("--direction", choices=("up", "down"),
                   help="up: targets get easier as the value grows (servers, bandwidth), "
                        "the answer is the smallest passing value; down: as it shrinks "
                        "(users), the answer is the largest. Default: from the two ends")
    p.add_argument("--resolution", type=_resolution, default=0.1, metavar="STEP",
                   help="largest step of the geometric grid of a quantity range, e.g. 5%% "
                        "(default 10%%); the answer is within that factor of the boundary")
    p.add_argument("--seed", type=seed_arg, help="seed of replication 0 (default: the scenario's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario key in every run")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="parallel runs of a probe's replications (default 1)")
    p.add_argument("--tables", action="store_true",
                   help="write the runs' Parquet tables (off: summaries suffice)")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="results root directory (default: ./results)")


def _targets_text(probe: Any) -> str:
    return "; ".join(f"{v.metric} {v.value_text()} {v.op} {v.bound} "
                     f"{'PASS' if v.passed else 'FAIL'}" for v in probe.verdicts)


def run(ns: argparse.Namespace, console: Console) -> int:
    from sim.cli.sweep import _report_failure
    from sim.plots.size import write_size_outputs
    from sim.sweep.capacity import parse_vary, search
    from sim.sweep.runner import SweepRunError

    vary = parse_vary(ns.vary, ns.resolution)  # ScenarioError -> located line, exit 2
    check_out_dir(ns.out)
    if ns.workers < 1:
        sys.stderr.write("edgestream size: error: --workers must be at least 1\n")
        return 2

    def shown(probe: Any) -> None:
        verdict = "PASS" if probe.passed else "FAIL"
        console.print(f"{vary.key}={vary.shown(probe.value)}: {verdict}  ({_targets_text(probe)})",
                      soft_wrap=True, markup=False)

    try:
        result = search(ns.scenario, vary, fixed=ns.overrides, replications=ns.replications,
                        seed=ns.seed, root=ns.out, direction=ns.direction,
                        workers=ns.workers, tables=ns.tables, on_probe=shown)
    except SweepRunError as exc:  # a probe's run refused (exit 2) or crashed (exit 3)
        return _report_failure(exc, ns.debug)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; finished runs are kept, run size again to resume\n")
        return EXIT_INTERRUPT
    written = write_size_outputs(result)
    how = "detected from the two ends" if result.direction_detected else "given"
    sense = "grows" if result.direction == "up" else "shrinks"
    console.print(f"direction: targets get easier as {vary.key} {sense} ({how}); "
                  f"{len(result.probes)} values x {ns.replications} replications",
                  soft_wrap=True, markup=False)
    for path in written:
        console.print(f"written: {path}", soft_wrap=True, markup=False)
    if result.answer is not None:
        which = "smallest" if result.direction == "up" else "largest"
        console.print(f"answer: {vary.key}={vary.shown(result.answer)} is the {which} value "
                      "that meets every target", soft_wrap=True, markup=False)
        return EXIT_OK
    end = vary.shown(result.top.value)
    console.print(f"no value in {vary.shown(vary.low)}..{vary.shown(vary.high)} meets every "
                  f"target; at {vary.key}={end} (the easy end) the floor:",
                  soft_wrap=True, markup=False)
    for v in result.binding:
        console.print(f"  binding: {v.message()}", soft_wrap=True, markup=False)
    return EXIT_QOS
