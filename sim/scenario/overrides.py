"""``--set PATH=VALUE``: change any key of a scenario from the command line.

``PATH`` is a key path as printed in error messages: ``duration``,
``links[2].bandwidth``, ``network.tcp.window``; an index that is not a number
selects the list element whose ``name`` is that text (``nodes[mec1].compute``).
``VALUE`` is YAML, so ``seed=3`` is a number and ``duration=30 s`` a string.
Missing mappings on the way are created; anything else that does not fit is a
:class:`~sim.scenario.problems.Problem` naming the ``--set`` argument.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.scenario.problems import Loc, Problem, format_loc
from sim.scenario.yaml_source import YamlError, parse_value

__all__ = ["Applied", "FlagValue", "Override", "apply_overrides", "parse_override"]

_KEY = re.compile(r"[^.\[\]=\s][^.\[\]=]*")
_INDEX = re.compile(r"\[([^\[\]]*)\]")


@dataclass(frozen=True)
class Override:
    """A parsed ``--set`` argument; ``steps`` are keys (str) and indices (int) or names."""

    argument: str
    steps: tuple[tuple[str, str | int], ...]
    """("key", name) or ("index", position) or ("name", element name)."""
    value: Any


@dataclass(frozen=True)
class FlagValue:
    """A command-line flag that sets one top-level key (``--seed 3``, ``--duration 60s``).

    Applied like ``--set key=text``, but its problems name the flag the user typed.
    """

    flag: str
    key: str
    text: str

    @property
    def argument(self) -> str:
        return f"{self.key}={self.text}"

    @property
    def shown(self) -> str:
        return f"{self.flag} {self.text}"


@dataclass(frozen=True)
class Applied:
    """Where an override landed: the concrete key path, names resolved to indices."""

    loc: Loc
    argument: str
    shown: str = ""
    """How the user wrote it, for messages: ``--set PATH=VALUE`` or the flag."""

    @property
    def where(self) -> str:
        return self.shown or f"--set {self.argument}"


class _OverrideError(Exception):
    pass


def _fail(shown: str, message: str) -> Problem:
    return Problem((), message, file=shown)


def _parse_path(path: str) -> tuple[tuple[str, str | int], ...]:
    steps: list[tuple[str, str | int]] = []
    pos = 0
    expect_key = True
    while pos < len(path):
        if expect_key:
            match = _KEY.match(path, pos)
            if match is None:
                raise _OverrideError(f"expected a key at position {pos + 1} of {path!r}")
            steps.append(("key", match.group().strip()))
            pos = match.end()
            expect_key = False
        elif path[pos] == ".":
            pos += 1
            expect_key = True
        elif path[pos] == "[":
            match = _INDEX.match(path, pos)
            if match is None or not match.group(1).strip():
                raise _OverrideError(f"expected [index] or [name] at position {pos + 1}")
            inner = match.group(1).strip()
            steps.append(("index", int(inner)) if inner.isdigit() else ("name", inner))
            pos = match.end()
        else:
            raise _OverrideError(f"unexpected {path[pos]!r} at position {pos + 1}")
    if expect_key:
        raise _OverrideError("the path is empty" if not steps else "the path ends with '.'")
    return tuple(steps)


def parse_override(argument: str) -> Override:
    """Parse ``PATH=VALUE``; raises :class:`ValueError` with a message for the user."""
    path, sep, text = argument.partition("=")
    if not sep:
        raise ValueError("expected PATH=VALUE, e.g. --set duration=60s")
    try:
        steps = _parse_path(path.strip())
    except _OverrideError as exc:
        raise ValueError(f"bad key path: {exc}") from None
    try:
        value = parse_value(text)
    except YamlError as exc:
        raise ValueError(f"value is not valid YAML: {exc}") from None
    return Override(argument, steps, value)


def _describe(loc: Loc) -> str:
    return format_loc(loc) if loc else "the top level"


def _apply(root: dict[str, Any], override: Override) -> Loc:
    """Set the value, copying each container on the way (YAML aliases may share them)."""
    loc: list[str | int] = []
    container: Any = root
    for number, (kind, step) in enumerate(override.steps):
        slot = _slot(container, kind, step, tuple(loc))
        loc.append(slot)
        if number == len(override.steps) - 1:
            container[slot] = override.value
            break
        if isinstance(container, dict):
            child = container.get(slot)
            child = {} if child is None else _copy(child)
        else:
            child = _copy(container[slot])
        container[slot] = child
        container = child
    return tuple(loc)


def _slot(container: Any, kind: str, step: str | int, loc: Loc) -> str | int:
    """Where one step of a path lands in `container` (at `loc`): a key or a list index."""
    if kind == "key":
        if not isinstance(container, dict):
            raise _OverrideError(f"{_describe(loc)} is not a mapping")
        return str(step)
    if not isinstance(container, list):
        raise _OverrideError(f"{_describe(loc)} is not a list")
    if kind == "index":
        assert isinstance(step, int)
        if step >= len(container):
            count = len(container)
            raise _OverrideError(
                f"{_describe(loc)} has {count} element{'' if count == 1 else 's'}"
                f", no index {step}"
            )
        return step
    matches = [
        i for i, item in enumerate(container)
        if isinstance(item, dict) and item.get("name") == step
    ]
    if not matches:
        raise _OverrideError(f'no element of {_describe(loc)} has name "{step}"')
    if len(matches) > 1:
        raise _OverrideError(f'{len(matches)} elements of {_describe(loc)} have name "{step}"')
    return matches[0]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def apply_overrides(
    data: dict[str, Any], arguments: Sequence[str | FlagValue]
) -> tuple[dict[str, Any], list[Applied], list[Problem]]:
    """The data with all overrides applied (the input is not modified)."""
    result = dict(data)
    applied: list[Applied] = []
    problems: list[Problem] = []
    for given in arguments:
        argument = given if isinstance(given, str) else given.argument
        shown = f"--set {given}" if isinstance(given, str) else given.shown
        try:
            override = parse_override(argument)
        except ValueError as exc:
            problems.append(_fail(shown, str(exc)))
            continue
        try:
            loc = _apply(result, override)
        except _OverrideError as exc:
            problems.append(_fail(shown, str(exc)))
            continue
        applied.append(Applied(loc, argument, shown))
    return result, applied, problems
