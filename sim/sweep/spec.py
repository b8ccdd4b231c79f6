"""The sweep file: a base scenario, swept parameters, replications — read and checked.

A sweep file is YAML like a scenario, and its mistakes are reported the same
way: every problem at once, each at ``file:line:column``, as one
:class:`~sim.scenario.problems.ScenarioError` (exit code 2).  This module only
reads the file and checks what can be checked without the base scenario;
:mod:`sim.sweep.plan` loads the base scenario for every point.

.. code-block:: yaml

    name: users_latency
    base: ../bench/peer_workload.yaml        # relative to this file
    parameters:
      - name: users_per_group                # column name; default: the (first) path
        paths: [nodes[users0].count, nodes[users1].count]
        values: [5, 10, 20, 40]
      - path: workloads[request].forward_fraction
        values: [5%, 10%]
    mode: grid                               # or zip
    replications: 3
    seed: 1                                  # default: the scenario's seed
    set: ["duration=60 s"]                   # fixed overrides for every run

Values are YAML, passed to the base scenario as ``--set PATH=VALUE`` overrides,
so a value means exactly what it would mean on the command line.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from yaml.nodes import MappingNode

from sim.scenario.input_file import read_input
from sim.scenario.limits import MAX_FILE_BYTES, MAX_REPLICATIONS, MAX_SEED
from sim.scenario.loader import Document
from sim.scenario.overrides import parse_override
from sim.scenario.problems import Loc, Problem, ScenarioError
from sim.scenario.spec_base import Name
from sim.scenario.validation_errors import problems_from_validation
from sim.scenario.yaml_source import YamlError, parse_value, parse_yaml

__all__ = ["RESERVED_COLUMNS", "Parameter", "Point", "SweepFile", "SweepSpec", "expand_points",
           "read_sweep_file", "yaml_text"]

RESERVED_COLUMNS = frozenset({"run_id", "seed", "scenario", "replication", "point", "metric",
                              "value", "n", "mean", "ci95_low", "ci95_high"})
"""Columns of runs.parquet and points.parquet that a parameter may not be named."""

StrictInt = Annotated[int, Field(strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Model):
    """One swept parameter: one key path (or several changed together) and its values."""

    path: str | None = Field(None, description="Key path, as for --set: nodes[users0].count.")
    paths: list[str] | None = Field(
        None, min_length=1, description="Several key paths that take the same value together.")
    name: Name | None = Field(
        None, description="Column name in the tables; default: the path (the first of paths).")
    values: list[Any] = Field(min_length=1, description="Values (YAML, as after --set PATH=).")

    @property
    def key_paths(self) -> list[str]:
        return [self.path] if self.path is not None else list(self.paths or [])

    @property
    def column(self) -> str:
        return self.name or self.key_paths[0]


class SweepSpec(_Model):
    """The sweep file as validated data."""

    name: Name = Field(description="Sweep name; its tables go to <root>/sweeps/<name>/.")
    base: str = Field(description="Base scenario file, relative to the sweep file.")
    parameters: list[Parameter] = Field(min_length=1)
    mode: Literal["grid", "zip"] = Field(
        "grid", description="grid: every combination; zip: the i-th values together.")
    replications: StrictInt = Field(1, ge=1, le=MAX_REPLICATIONS,
                                    description="Runs per point (seeds seed..seed+r-1).")
    seed: StrictInt | None = Field(None, ge=0, lt=MAX_SEED,
                                   description="Seed of replication 0 (below 2**63).")
    fixed: list[str] = Field(default_factory=list, alias="set",
                             description="Fixed overrides PATH=VALUE applied to every run.")


@dataclass(frozen=True)
class SweepFile:
    """A checked sweep file, with the YAML positions of its keys for later problems."""

    spec: SweepSpec
    document: Document
    path: Path

    @property
    def base(self) -> Path:
        """The base scenario's path (relative to the cwd when the sweep file's is)."""
        return Path(os.path.normpath(self.path.parent / self.spec.base))


@dataclass(frozen=True)
class Point:
    """One combination of parameter values; ``index`` is its position in the expansion."""

    index: int
    values: tuple[Any, ...]
    """One value per parameter, in the order of ``parameters``."""
    value_index: tuple[int, ...]
    """Position of each value in its parameter's list (to locate problems)."""


def yaml_text(value: Any) -> str:
    """``value`` as the YAML text of a ``--set`` value that reads back as the same value.

    Going through YAML (not ``str``) keeps the type: the string "5" stays a
    string ('5'), a float keeps its dot (1.0e-05), a list stays a list.
    """
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and bool(a == b)


def expand_points(spec: SweepSpec) -> list[Point]:
    """The points of a sweep: the grid (first parameter slowest) or the zipped lists."""
    lists = [list(enumerate(p.values)) for p in spec.parameters]
    if spec.mode == "zip":
        combos: Sequence[tuple[tuple[int, Any], ...]] = list(zip(*lists, strict=True))
    else:
        combos = list(itertools.product(*lists))
    return [Point(i, tuple(v for _, v in combo), tuple(j for j, _ in combo))
            for i, combo in enumerate(combos)]


def _read(path: Path) -> tuple[Any, MappingNode]:
    shown = os.fspath(path)
    try:
        text = read_input(path, MAX_FILE_BYTES, "the sweep file").decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([Problem((), "not UTF-8 text", file=shown)]) from None
    try:
        parsed = parse_yaml(text)
    except YamlError as exc:
        raise ScenarioError([p.at(shown, p.line, p.column) for p in exc.problems]) from None
    if not isinstance(parsed.data, dict) or not isinstance(parsed.node, MappingNode):
        line = parsed.node.start_mark.line + 1 if parsed.node is not None else 1
        raise ScenarioError([Problem(
            (), "a sweep file is a mapping with keys name, base, parameters, ...", shown, line, 1)])
    return parsed.data, parsed.node


def _path_problem(path: str, loc: Loc) -> Problem | None:
    try:
        override = parse_override(f"{path}=null")
    except ValueError as exc:
        return Problem(loc, str(exc))
    if override.steps == (("key", "seed"),):
        return Problem(loc, "the seed is not a parameter: it is seed + replication "
                            "(use the keys seed and replications)")
    return None


def _parameter_problems(spec: SweepSpec) -> list[Problem]:
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    for i, param in enumerate(spec.parameters):
        at: Loc = ("parameters", i)
        if (param.path is None) == (param.paths is None):
            problems.append(Problem(at, "give either path (one key path) or paths (a list)"))
            continue
        if param.path is not None:
            problem = _path_problem(param.path, (*at, "path"))
            problems += [problem] if problem else []
        for m, path in enumerate(param.paths or []):
            problem = _path_problem(path, (*at, "paths", m))
            problems += [problem] if problem else []
        where: Loc = (*at, "name") if param.name else (*at, "path" if param.path else "paths")
        if param.column in RESERVED_COLUMNS:
            problems.append(Problem(where, f'"{param.column}" is a column of the sweep tables; '
                                           "give the parameter another name"))
        elif param.column in columns:
            problems.append(Problem(where, f'column "{param.column}" is already parameters'
                                           f"[{columns[param.column]}]; give a distinct name"))
        columns.setdefault(param.column, i)
        problems += _value_problems(param, at, spec.mode == "grid")
    if spec.mode == "zip":
        problems += _zip_problems(spec)
    return problems


def _value_problems(param: Parameter, at: Loc, grid: bool) -> list[Problem]:
    """Values that would not survive the trip through ``--set``; repeats in a grid."""
    problems: list[Problem] = []
    for j, value in enumerate(param.values):
        if not _same(parse_value(yaml_text(value)), value):
            problems.append(Problem((*at, "values", j), "this value cannot be passed on"))
        first = next(k for k, v in enumerate(param.values) if _same(v, value))
        if first < j and grid:
            problems.append(Problem((*at, "values", j),
                                    f"duplicate value (same as values[{first}])"))
    return problems


def _zip_problems(spec: SweepSpec) -> list[Problem]:
    """Zip mode pairs the i-th values: every parameter needs as many as the first."""
    counts = [len(p.values) for p in spec.parameters]
    return [Problem(("parameters", i, "values"),
                    f"has {count} values, parameters[0] has {counts[0]}: "
                    "zip mode takes the i-th value of every parameter")
            for i, count in enumerate(counts) if count != counts[0]]


def _fixed_problems(spec: SweepSpec) -> list[Problem]:
    problems: list[Problem] = []
    for k, argument in enumerate(spec.fixed):
        path, sep, _ = argument.partition("=")
        if not sep:
            problems.append(Problem(("set", k), 'expected PATH=VALUE, e.g. "duration=60 s"'))
            continue
        problem = _path_problem(path.strip(), ("set", k))
        problems += [problem] if problem else []
    return problems


def _in_file_order(document: Document, problems: list[Problem]) -> list[Problem]:
    located = document.locate_all(problems)
    return sorted(located, key=lambda p: (p.line is None, p.line or 0, p.column or 0))


def read_sweep_file(path: str | os.PathLike[str]) -> SweepFile:
    """Read and validate a sweep file; every problem is raised in one ScenarioError."""
    shown = Path(path)
    data, node = _read(shown)
    document = Document(os.fspath(shown), data, node)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, SweepSpec)
        raise ScenarioError(_in_file_order(document, problems)) from None
    problems = _parameter_problems(spec) + _fixed_problems(spec)
    if problems:
        raise ScenarioError(_in_file_order(document, problems))
    return SweepFile(spec, document, shown)
