"""Planning a sweep: every run's overrides, seed, run id and folder, checked before any runs.

The base scenario is loaded once per point (with the point's overrides), so a
bad value anywhere in the sweep is reported before the first run starts,
at the line of the sweep file where the value is written.  Replications differ
only by their seed: replication ``r`` of every point uses ``seed + r``, the same
seeds at every point (common random numbers), so differences between points
are not blurred by different random draws.

The run id of each run is computed here exactly as ``run`` computes it (seed
plus a hash of the effective scenario), which is what makes a sweep resumable:
a run is finished when ``<root>/<scenario>/<run id>/summary.json`` exists, and a
run folder is only ever written complete (see :mod:`sim.run.results`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.run.builder import route_problems, run_id_of
from sim.run.results import SUMMARY, run_folder
from sim.run.work_estimate import estimate_problems
from sim.scenario.limits import MAX_SWEEP_RUNS
from sim.scenario.loader import load_scenario
from sim.scenario.problems import Loc, Problem, ScenarioError
from sim.scenario.schema import Scenario
from sim.sweep.spec import Point, SweepFile, expand_points, read_sweep_file, yaml_text

__all__ = ["PlannedRun", "SweepPlan", "load_sweep", "plan_sweep", "run_cost"]

SWEEPS = "sweeps"


def run_cost(scenario: Scenario) -> float:
    """Users x simulated seconds: the events of a run grow with both, so this orders
    runs by expected length well enough to hand the longest to workers first."""
    users = sum(getattr(node, "count", 0) for node in scenario.nodes if node.kind == "users")
    return float(max(users, 1)) * scenario.duration
"""Sweep tables go to ``<root>/sweeps/<sweep name>/``."""


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: what to run (base + overrides) and where it lands."""

    point: int
    replication: int
    seed: int
    params: dict[str, Any] = field(hash=False)
    """Parameter column -> value at this point."""
    overrides: tuple[str, ...]
    """``--set`` arguments in the order applied: fixed ones, the point's, the seed."""
    scenario: str
    run_id: str
    folder: Path
    cost: float = field(default=0.0, compare=False)
    """Rough relative cost (users x simulated seconds), to start the longest runs first."""

    @property
    def finished(self) -> bool:
        return (self.folder / SUMMARY).is_file()

    def describe(self) -> str:
        """How a message names this run: point, replication and the point's values."""
        values = ", ".join(f"{k}={yaml_text(v)}" for k, v in self.params.items())
        return f"point {self.point} ({values}), replication {self.replication}, seed {self.seed}"


@dataclass(frozen=True)
class SweepPlan:
    """A checked sweep: its file and every run, in point-then-replication order."""

    file: SweepFile
    root: Path
    runs: tuple[PlannedRun, ...]
    base_seed: int

    @property
    def name(self) -> str:
        return self.file.spec.name

    @property
    def columns(self) -> list[str]:
        """Parameter columns of the tables, in the order of the sweep file."""
        return [p.column for p in self.file.spec.parameters]

    @property
    def folder(self) -> Path:
        return self.root / SWEEPS / self.name

    def pending(self) -> list[PlannedRun]:
        """Runs without a finished folder (resume skips the others)."""
        return [run for run in self.runs if not run.finished]


class _Locator:
    """Moves problems of ``--set`` arguments made by the sweep to the sweep file's lines."""

    def __init__(self, sweep: SweepFile) -> None:
        self.sweep = sweep
        self.origin: dict[str, tuple[Loc, Loc]] = {}
        """argument -> (where its path is written, where its value is written)."""
        for k, argument in enumerate(sweep.spec.fixed):
            self.origin.setdefault(argument, (("set", k), ("set", k)))

    def arguments(self, point: Point) -> list[str]:
        out: list[str] = []
        for i, (param, value) in enumerate(zip(self.sweep.spec.parameters, point.values,
                                               strict=True)):
            value_loc: Loc = ("parameters", i, "values", point.value_index[i])
            many = param.paths is not None
            for m, path in enumerate(param.key_paths):
                argument = f"{path}={yaml_text(value)}"
                path_loc: Loc = ("parameters", i, *(("paths", m) if many else ("path",)))
                self.origin.setdefault(argument, (path_loc, value_loc))
                out.append(argument)
        return out

    def locate(self, problem: Problem) -> Problem:
        """A scenario problem; ones caused by a sweep override point into the sweep file."""
        where = problem.file or ""
        origin = self.origin.get(where[len("--set "):]) if where.startswith("--set ") else None
        if origin is None:
            return problem
        loc = origin[1] if problem.loc else origin[0]
        located = self.sweep.document.locate(Problem(loc, problem.message))
        return Problem(problem.loc, problem.message, located.file, located.line, located.column)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _load_point(base: Path, arguments: list[str]) -> Scenario:
    """The point's scenario, with routing checked too (what ``validate`` checks)."""
    from sim.net.topology import Topology
    from sim.plugins import load_builtin_plugins

    loaded = load_scenario(base, arguments)
    too_much = estimate_problems(loaded.scenario, loaded.source_dir)  # before Topology
    if too_much:
        raise ScenarioError(loaded.document.locate_all(too_much))
    load_builtin_plugins()
    problems = route_problems(loaded.scenario, Topology(loaded.scenario), loaded.source_dir)
    if problems:
        raise ScenarioError(loaded.document.locate_all(problems))
    return loaded.scenario


def plan_sweep(sweep: SweepFile, root: Path | str = "results") -> SweepPlan:
    """Every run of the sweep, each point's scenario checked; raises one ScenarioError."""
    spec = sweep.spec
    base = sweep.base
    if not base.is_file():
        raise ScenarioError(sweep.document.locate_all(
            [Problem(("base",), f"no such scenario file: {base}")]))
    root = Path(root)
    lengths = [len(p.values) for p in spec.parameters]
    points = min(lengths, default=1) if spec.mode == "zip" else math.prod(lengths)
    if points * spec.replications > MAX_SWEEP_RUNS:
        raise ScenarioError(sweep.document.locate_all([Problem(("parameters",), (
            f"the sweep has {points:,} points x {spec.replications:,} replications = "
            f"{points * spec.replications:,} runs; the limit is {MAX_SWEEP_RUNS:,}"))]))
    locator = _Locator(sweep)
    problems: list[Problem] = []
    runs: list[PlannedRun] = []
    base_seed = spec.seed
    owner: dict[str, PlannedRun] = {}
    for point in expand_points(spec):
        arguments = [*spec.fixed, *locator.arguments(point)]
        try:
            scenario = _load_point(base, arguments)
        except ScenarioError as exc:
            problems += [locator.locate(p) for p in exc.problems]
            continue
        if base_seed is None:
            base_seed = scenario.seed
        params = {p.column: v for p, v in zip(spec.parameters, point.values, strict=True)}
        for r in range(spec.replications):
            seed = base_seed + r
            run_id = run_id_of(scenario.model_copy(update={"seed": seed}))
            run = PlannedRun(point.index, r, seed, params, (*arguments, f"seed={seed}"),
                             scenario.name, run_id, run_folder(root, scenario.name, run_id),
                             run_cost(scenario))
            if run_id in owner:
                other = owner[run_id]
                problems.append(sweep.document.locate(Problem(("parameters",), (
                    f"points {other.point} and {point.index} are the same scenario "
                    f"(run {run_id}); remove the duplicate values"))))
                break
            owner[run_id] = run
            runs.append(run)
    if problems:
        raise ScenarioError(_unique(problems))
    assert base_seed is not None
    return SweepPlan(sweep, root, tuple(runs), base_seed)


def load_sweep(path: str | os.PathLike[str], root: Path | str = "results") -> SweepPlan:
    """Read, check and plan a sweep file (nothing runs); raises one ScenarioError."""
    return plan_sweep(read_sweep_file(path), root)
