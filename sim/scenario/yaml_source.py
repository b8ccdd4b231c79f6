"""Reading YAML with positions: data exactly as ``yaml.safe_load`` gives it, plus nodes.

The node tree from the composer keeps the line and column of every key and value,
so a problem found later on the data (by key path) can be shown where the user has
to edit.  Only :class:`yaml.SafeLoader` constructors are used: tags such as
``!!python/object`` are refused like ``yaml.safe_load`` refuses them.  Every
failure, including ones PyYAML does not anticipate (integers too long to convert,
impossible dates, nesting deep enough to exhaust the stack), becomes a
:class:`~sim.scenario.problems.Problem` with a position.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.scenario.limits import MAX_YAML_NODES
from sim.scenario.problems import Loc, Problem

__all__ = ["MERGE_TAG", "Parsed", "Position", "YamlError", "expanded_size", "find",
           "parse_value", "parse_yaml"]

MERGE_TAG = "tag:yaml.org,2002:merge"
Position = tuple[int, int]
"""1-based (line, column)."""


class YamlError(Exception):
    """The text is not a YAML document we can read; ``problems`` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class _Loader(yaml.SafeLoader):
    """SafeLoader that turns stray exceptions of constructors into marked YAML errors."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from None


@dataclass(frozen=True)
class Parsed:
    node: Node | None
    data: Any


def _position(mark: yaml.Mark | None) -> Position | None:
    if mark is None:
        return None
    return mark.line + 1, mark.column + 1


def _offset_position(text: str, offset: int) -> Position:
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def _yaml_problem(exc: yaml.YAMLError, text: str) -> Problem:
    if isinstance(exc, yaml.constructor.ConstructorError):
        where = _position(exc.problem_mark) or (1, 1)
        problem = exc.problem or "cannot read this value"
        unknown_tag = "could not determine a constructor for the tag "
        if problem.startswith(unknown_tag):
            tag = problem.removeprefix(unknown_tag).strip("'")
            problem = (
                f'unsupported tag "{tag}" (scenario files are plain YAML; '
                "tags that construct objects are refused)"
            )
        return Problem((), problem, line=where[0], column=where[1])
    if isinstance(exc, yaml.MarkedYAMLError):
        where = _position(exc.problem_mark) or _position(exc.context_mark) or (1, 1)
        message = exc.problem or exc.context or "invalid YAML"
        context_at = _position(exc.context_mark)
        if exc.context and exc.problem and exc.problem.startswith("but "):
            message = f"{exc.context}, {exc.problem}"
        elif exc.context and exc.problem:
            at = f" at line {context_at[0]}" if context_at else ""
            message = f"{exc.problem} ({exc.context}{at})"
        return Problem((), f"YAML syntax: {message}", line=where[0], column=where[1])
    if isinstance(exc, yaml.reader.ReaderError):
        line, column = _offset_position(text, exc.position)
        return Problem(
            (), f"YAML syntax: unacceptable character #x{exc.character:04x}: {exc.reason}",
            line=line, column=column,
        )
    return Problem((), f"YAML syntax: {exc}", line=1, column=1)


_COMPLEX = object()
"""Stands for a key that is a list or mapping (never equal to a path part)."""


def _key_value(loader: _Loader, node: Node) -> object:
    """The constructed value of a scalar key (``_COMPLEX`` for others)."""
    if not isinstance(node, ScalarNode):
        return _COMPLEX
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        return node.value


def _duplicates(loader: _Loader, root: Node) -> list[Problem]:
    """Keys given twice in one mapping (``yaml.safe_load`` would keep the last)."""
    problems: list[Problem] = []
    seen_nodes: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, MappingNode):
            first: dict[Hashable, int] = {}
            for key_node, value_node in node.value:
                stack.append(value_node)
                stack.append(key_node)
                if key_node.tag == MERGE_TAG:
                    continue
                key = _key_value(loader, key_node)
                if key is _COMPLEX or not isinstance(key, Hashable):
                    continue
                line = key_node.start_mark.line + 1
                try:
                    if key in first:
                        shown = f'"{key_node.value}"' if isinstance(key_node, ScalarNode) else "?"
                        problems.append(Problem(
                            (), f"duplicate key {shown} (first at line {first[key]})",
                            line=line, column=key_node.start_mark.column + 1,
                        ))
                    else:
                        first[key] = line
                except TypeError:
                    continue
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def parse_yaml(text: str) -> Parsed:
    """Compose and construct one document; raise :class:`YamlError` on any problem."""
    try:
        return _parse(text)
    except yaml.YAMLError as exc:
        raise YamlError([_yaml_problem(exc, text)]) from None
    except RecursionError:
        raise YamlError(
            [Problem((), "the document is nested too deeply", line=1, column=1)]
        ) from None


def expanded_size(root: Node, limit: int = MAX_YAML_NODES) -> int:
    """Nodes of the tree with every alias expanded, counting no further than ``limit + 1``.

    An alias is the same node object as its anchor, so the tree is a DAG; sizes are
    memoised by node, which makes this linear in the *distinct* nodes even when the
    expansion (``&a [*b, *b, ...]`` nested eight deep) would be billions.  A recursive
    alias counts once.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            total = 1 + sum(sizes.get(id(child), 1) for child in children)
            sizes[id(node)] = min(total, limit + 1)
            continue
        if id(node) in sizes:
            continue
        sizes[id(node)] = 1  # in progress: a child that leads back here counts once
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _parse(text: str) -> Parsed:
    loader = _Loader(text)  # checks for unprintable characters already
    try:
        node = loader.get_single_node()
        if node is None:
            return Parsed(None, None)
        if expanded_size(node) > MAX_YAML_NODES:
            raise YamlError([Problem(
                (), f"the document has more than {MAX_YAML_NODES:,} values once its aliases "
                "(*name) are expanded; that is the limit", line=1, column=1)])
        duplicates = _duplicates(loader, node)
        if duplicates:
            raise YamlError(duplicates)
        return Parsed(node, loader.construct_document(node))
    finally:
        loader.dispose()


def parse_value(text: str) -> Any:
    """A ``--set`` value: YAML like ``yaml.safe_load``; raises :class:`YamlError`."""
    return parse_yaml(text).data


def _child(loader: _Loader, node: Node, part: str | int) -> tuple[Node, Node] | None:
    """(key node or item node, value node) of ``part`` inside ``node``."""
    if isinstance(node, SequenceNode):
        if isinstance(part, int) and not isinstance(part, bool) and 0 <= part < len(node.value):
            item: Node = node.value[part]
            return item, item
        return None
    if isinstance(node, MappingNode):
        found: tuple[Node, Node] | None = None
        for key_node, value_node in node.value:  # last wins, as merge keys are overridden
            key = _key_value(loader, key_node)
            if type(key) is type(part) and key == part:
                found = (key_node, value_node)
        return found
    return None


def find(root: Node, loc: Loc, *, on_key: bool = False) -> tuple[Position, int]:
    """Position for ``loc`` and how many parts of it were found in the tree.

    When all of ``loc`` is found, the position is the value's (or with ``on_key`` the
    key's); otherwise it is the position of the deepest node found.
    """
    loader = _Loader("")
    try:
        node = root
        key_node: Node | None = None
        depth = 0
        for part in loc:
            pair = _child(loader, node, part)
            if pair is None:
                break
            key_node, node = pair
            depth += 1
        target = key_node if on_key and depth == len(loc) and key_node is not None else node
        return (target.start_mark.line + 1, target.start_mark.column + 1), depth
    finally:
        loader.dispose()
