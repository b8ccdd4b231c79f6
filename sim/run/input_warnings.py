"""Warnings about valid scenarios that probably do not say what their author meant.

Two defaults surprised planners (issue 16) without being errors:

* ``start_spread: 0`` (the default) starts every session of a frame workload
  (one whose spec names its ``lock_step_users``, such as VR lessons and live
  classes) at the same instant, so all headsets pose, render and send their frames
  in lock-step and queue behind each other at every frame: the p95 latency of a
  lock-stepped classroom can be far above that of one whose starts are spread
  over a frame interval.  The default stays (results of existing scenarios must
  not change), and the lock-step is named.
* a bare number as a bound of a time, size or rate metric is read in SI units,
  so ``max: 20`` on a latency is 20 s, not 20 ms.

They are :class:`~sim.scenario.problems.Problem` values located like errors
(file:line), printed as warnings by ``validate``, ``run`` and ``check``; they
never fail a command.
"""

from __future__ import annotations

import sys

from sim.qos.targets import unit_of
from sim.scenario.loader import LoadedScenario
from sim.scenario.problems import Problem

__all__ = ["print_warnings", "scenario_warnings"]

_SI_UNIT = {"duration": "s", "size": "B", "rate": "bps", "frequency": "/s"}
_EXAMPLE = {"duration": "ms", "size": "kB", "rate": "Mbps", "frequency": "/s"}


def _lock_step(loaded: LoadedScenario) -> list[Problem]:
    scn = loaded.scenario
    counts = {node.name: getattr(node, "count", 0) for node in scn.nodes if node.kind == "users"}
    out: list[Problem] = []
    for i, workload in enumerate(scn.workloads):
        field = type(workload).lock_step_users  # each kind says which sessions run in step
        if field is None or getattr(workload, "start_spread", None) != 0:
            continue
        sessions = sum(counts.get(group, 0) for group in getattr(workload, field))
        if sessions < 2:
            continue
        interval = 1.0 / float(getattr(workload, "frame_rate", 60.0))
        out.append(Problem(("workloads", i, "kind"), (
            f"warning: the {sessions} sessions of {workload.kind} \"{workload.name}\" all start "
            f"at the same instant (start_spread: 0): their frames run in lock-step and queue "
            f"behind each other; set start_spread (e.g. \"{interval * 1e3:.3g} ms\", one frame "
            "interval) unless that is what you want")))
    return out


def _bare_bounds(loaded: LoadedScenario) -> list[Problem]:
    out: list[Problem] = []
    for i, target in enumerate(loaded.scenario.qos):
        kind = unit_of(target.metric)
        if kind not in _SI_UNIT:
            continue
        for side in ("max", "min"):
            value = getattr(target, side)
            if isinstance(value, int | float) and not isinstance(value, bool) and value != 0:
                out.append(Problem(("qos", i, side), (
                    f"warning: the bare number {value:g} is read as {value:g} {_SI_UNIT[kind]} "
                    f"({target.metric} is a {kind}); write the unit, e.g. "
                    f"\"{value:g} {_EXAMPLE[kind]}\", to say which you mean")))
    return out


def scenario_warnings(loaded: LoadedScenario) -> list[Problem]:
    """The located warnings of a loaded scenario, in file order."""
    located = loaded.document.locate_all(_lock_step(loaded) + _bare_bounds(loaded))
    return sorted(located, key=lambda p: (p.line is None, p.line or 0, p.column or 0))


def print_warnings(loaded: LoadedScenario) -> None:
    for problem in scenario_warnings(loaded):
        sys.stderr.write(problem.format() + "\n")
