"""Loading a scenario file: YAML -> validated :class:`~sim.scenario.schema.Scenario`.

Nothing runs until the whole file has been checked.  Every problem found — YAML
syntax, duplicate keys, schema violations, dangling references — is reported with
``file:line:column``, the key path and what was expected, all of them at once, as
one :class:`~sim.scenario.problems.ScenarioError`; no other exception escapes.
The reference checks also run on the items that passed the schema when others
did not (:mod:`sim.scenario.partial_check`), and a whole-document rule is shown
at the flag or ``--set`` that caused it, else at the key it names.

>>> loaded = load_scenario("scenarios/campus.yaml", ["duration=60 s"])  # doctest: +SKIP
>>> loaded.scenario.duration  # doctest: +SKIP
60.0
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from yaml.nodes import MappingNode, Node

from sim.scenario.input_file import read_input
from sim.scenario.limits import MAX_FILE_BYTES
from sim.scenario.overrides import Applied, FlagValue, apply_overrides
from sim.scenario.problems import Problem, ScenarioError
from sim.scenario.references import check_references
from sim.scenario.schema import Scenario
from sim.scenario.validation_errors import problems_from_validation
from sim.scenario.yaml_source import YamlError, find, parse_yaml

__all__ = ["Document", "LoadedScenario", "load_scenario", "read_document"]


@dataclass(frozen=True)
class Document:
    """A parsed scenario file: its data (after ``--set``) and where each key is."""

    path: str
    """The file name as the user gave it; used in messages."""
    data: dict[str, Any]
    root: Node | None = None
    overrides: tuple[Applied, ...] = ()

    def _override_for(self, loc: tuple[str | int, ...], exact_prefix: bool) -> Applied | None:
        for applied in reversed(self.overrides):
            if exact_prefix and loc[: len(applied.loc)] == applied.loc:
                return applied
            if not exact_prefix and applied.loc[: len(loc)] == loc:
                return applied
        return None

    def locate(self, problem: Problem) -> Problem:
        """The problem with file, line and column filled in (if not already)."""
        if problem.file is not None:
            return problem
        applied = self._override_for(problem.loc, exact_prefix=True)
        if applied is not None:
            return problem.at(applied.where, None, None)
        if self.root is None:
            return problem.at(self.path, None, None)
        (line, column), depth = find(self.root, problem.loc, on_key=problem.on_key)
        if depth < len(problem.loc):
            # The YAML lacks this key; if a --set created it, the --set is to blame.
            applied = self._override_for(problem.loc[: depth + 1], exact_prefix=False)
            if applied is not None:
                return problem.at(applied.where, None, None)
        return problem.at(self.path, line, column)

    def locate_all(self, problems: Iterable[Problem]) -> list[Problem]:
        return [self.locate(p) for p in problems]


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    document: Document

    @property
    def source_dir(self) -> str:
        """Directory of the scenario file: data files it names are relative to it."""
        return str(Path(self.document.path).resolve().parent)


def _in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))


def _position_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset].decode("utf-8", errors="replace")
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _read_text(path: str | os.PathLike[str], shown: str) -> str:
    raw = read_input(path, MAX_FILE_BYTES, "the scenario file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position_of_byte(raw, exc.start)
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        raise ScenarioError([Problem((), message, shown, line, column)]) from None


def _kind_of(value: object) -> str:
    kinds: list[tuple[type, str]] = [
        (list, "a list"), (str, "a string"), (bool, "true/false"), (int, "a number"),
        (float, "a number"),
    ]
    if value is None:
        return "null"
    return next((name for tp, name in kinds if isinstance(value, tp)), "a single value")


def read_document(
    path: str | os.PathLike[str], overrides: Sequence[str | FlagValue] = ()
) -> Document:
    """Read and parse a scenario file and apply ``--set`` overrides (not yet validated)."""
    shown = os.fspath(path)
    text = _read_text(path, shown)
    try:
        parsed = parse_yaml(text)
    except YamlError as exc:
        raise ScenarioError([p.at(shown, p.line, p.column) for p in exc.problems]) from None
    if parsed.node is None:
        raise ScenarioError([Problem(
            (), "empty document (expected a mapping with keys such as name, duration, nodes)",
            shown, 1, 1,
        )])
    if not isinstance(parsed.data, dict) or not isinstance(parsed.node, MappingNode):
        mark = parsed.node.start_mark
        raise ScenarioError([Problem(
            (), "the top level must be a mapping of keys (name: ..., nodes: ...), "
            f"not {_kind_of(parsed.data)}",
            shown, mark.line + 1, mark.column + 1,
        )])
    data, applied, problems = apply_overrides(parsed.data, overrides)
    if problems:
        raise ScenarioError(problems)
    return Document(shown, data, parsed.node, tuple(applied))


def load_scenario(
    path: str | os.PathLike[str], overrides: Sequence[str | FlagValue] = ()
) -> LoadedScenario:
    """Read, override, validate and cross-check a scenario; raise one ScenarioError."""
    document = read_document(path, overrides)
    try:
        scenario = Scenario.model_validate(document.data)
    except ValidationError as exc:
        from sim.scenario.partial_check import references_of_what_parsed

        problems = _placed(document, problems_from_validation(exc, Scenario))
        problems += references_of_what_parsed(document.data, problems)
        raise ScenarioError(_in_file_order(document.locate_all(problems))) from None
    except RecursionError:
        raise ScenarioError(
            [document.locate(Problem((), "the document is nested too deeply"))]
        ) from None
    problems = check_references(scenario)
    if not problems:
        problems = _trace_file_problems(scenario, str(Path(document.path).resolve().parent))
    if not problems and scenario.radio is not None:
        from sim.radio.references import trace_problems

        problems = trace_problems(scenario, str(Path(document.path).resolve().parent))
    if problems:
        raise ScenarioError(_in_file_order(document.locate_all(problems)))
    return LoadedScenario(scenario, document)


def _placed(document: Document, problems: list[Problem]) -> list[Problem]:
    """Whole-document problems (``warmup < duration``) placed at a key they name.

    Such a rule has no key path, so it was shown at 1:1.  A top-level key named
    in its message that a flag or ``--set`` gave is the likely cause, so the
    problem is shown there (``--duration 5 s: warmup (5 s) must be ...``);
    otherwise at the first key it names that the file has.
    """
    keys = sorted((k for k in Scenario.model_fields if k in document.data),
                  key=len, reverse=True)
    out: list[Problem] = []
    for problem in problems:
        named = [k for k in keys if re.search(rf"\b{k}\b", problem.message)] if \
            not problem.loc else []
        given = [a for a in document.overrides if len(a.loc) == 1 and a.loc[0] in named]
        if given:
            out.append(problem.at(given[-1].where, None, None))
        elif named:
            first = min(named, key=problem.message.index)
            out.append(Problem((first,), problem.message, on_key=True))
        else:
            out.append(problem)
    return out


def _trace_file_problems(scenario: Scenario, base_dir: str) -> list[Problem]:
    """Link traces that are missing or malformed (read here once, to check)."""
    problems: list[Problem] = []
    for i, link in enumerate(scenario.links):
        if link.trace is None:
            continue
        from sim.net.linktrace import read_trace  # only scenarios with traces need it

        loc = ("links", i, "trace", "file")
        path = Path(base_dir) / link.trace.file
        if not path.is_file():
            problems.append(Problem(loc, f'trace file "{link.trace.file}" not found'))
            continue
        try:
            read_trace(path)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(loc, f"bad trace: {exc}"))
    return problems
