"""Pydantic validation errors, restated as problems in the YAML author's terms.

A pydantic error location contains labels that are not YAML keys: the tag of the
chosen alternative of a discriminated union (``nodes[1]`` -> ``users``), the
member label of a plain union, ``[key]`` for an error in a mapping key.  They are
removed by walking the schema's type tree alongside the location, which also tells
which keys were allowed where an unknown key was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.scenario.limits import MAX_SHOWN
from sim.scenario.problems import Loc, Problem, did_you_mean
from sim.scenario.spec_base import Name
from sim.scenario.typetree import (
    DictNode,
    ListNode,
    LiteralNode,
    ModelNode,
    ScalarNode,
    TaggedNode,
    TypeNode,
    UnionNode,
    model_fields,
)
from sim.scenario.units import show

__all__ = ["problems_from_validation"]

_MAX_SHOWN = MAX_SHOWN

_FRIENDLY: Mapping[str, str] = {
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "invalid_key": "keys must be strings",
}


def _show(value: object) -> str:
    """A user's value as it looks in YAML, cut (before formatting) to a short length."""
    return show(value, _MAX_SHOWN)


@dataclass
class _Walk:
    """A pydantic location translated to YAML terms."""

    loc: list[str | int] = field(default_factory=list)
    node: TypeNode | None = None
    parent_model: type[BaseModel] | None = None
    on_key: bool = False
    via_union: bool = False


def _union_member(node: UnionNode, label: str) -> TypeNode | None:
    for member in node.members:
        if isinstance(member, ModelNode) and member.cls.__name__ == label:
            return member
    for member in node.members:
        if isinstance(member, ScalarNode):
            name = getattr(member.py, "__name__", None)
            if name is not None and label.split("[", maxsplit=1)[0] == name:
                return member
    return None


def _walk(loc: Sequence[str | int], root: TypeNode) -> _Walk:
    walk = _Walk(node=root)
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        node = walk.node
        if part == "[key]":
            walk.on_key = True
            i += 1
            continue
        if isinstance(node, TaggedNode) and isinstance(part, str) and node.get(part):
            walk.node = node.get(part)
            i += 1
            continue
        if isinstance(node, UnionNode) and isinstance(part, str):
            walk.node = _union_member(node, part)
            walk.via_union = True
            i += 1
            continue
        walk.loc.append(part)
        i += 1
        if isinstance(node, ModelNode):
            walk.parent_model = node.cls
            walk.node = next((f.node for f in model_fields(node.cls) if f.key == part), None)
        elif isinstance(node, ListNode) and isinstance(part, int):
            walk.node = node.item
        elif isinstance(node, DictNode):
            if i < len(parts) and parts[i] == "[key]":
                walk.node = node.key
            else:
                walk.node = node.value
        else:
            walk.node = None
    return walk


def _keys_of(cls: type[BaseModel] | None) -> list[str]:
    return [f.key for f in model_fields(cls)] if cls is not None else []


def _one_of(values: Iterable[object]) -> str:
    return ", ".join(sorted(str(v) for v in values))


_Message = tuple[list[str | int], str, bool]
"""(YAML path, message, whether the message already shows the value)."""


def _message(error: ErrorDetails, walk: _Walk) -> _Message:
    """One pydantic error in the scenario's words, at its YAML path."""
    kind = error["type"]
    value = error.get("input")
    loc = walk.loc
    if kind in ("extra_forbidden", "invalid_key"):
        walk.on_key = True  # point at the key itself, not at its value
    if kind == "extra_forbidden":
        return _unknown_key(walk)
    if kind == "missing":
        return loc[:-1], f"missing required key {_show(loc[-1] if loc else '')}", True
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _bad_tag(kind, value, walk)
    if kind == "literal_error":
        return _bad_literal(error, walk)
    if kind == "value_error":
        return loc, error["msg"].removeprefix("Value error, "), True
    if kind in ("quantity", "range"):
        return loc, error["msg"], True
    if kind == "string_pattern_mismatch" and _is_name(walk.node):
        return loc, (
            f"{_show(value)} is not a valid name "
            "(a letter, then letters, digits, _ or -)"
        ), True
    bound = _bound_message(kind, error.get("ctx") or {})
    if bound is not None:
        return loc, bound if kind.startswith("too_") else f"{_show(value)} {bound}", True
    return loc, _FRIENDLY.get(kind, error["msg"]), False


def _unknown_key(walk: _Walk) -> _Message:
    """A key the model does not have: the nearest one, else every key it has."""
    loc = walk.loc
    key = loc[-1] if loc else ""
    allowed = _keys_of(walk.parent_model)
    hint = did_you_mean(key, allowed)
    if not hint and allowed:
        hint = f" (expected one of: {', '.join(allowed)})"
    return loc, f"unknown key {_show(key)}{hint}", True


def _bad_tag(kind: str, value: object, walk: _Walk) -> _Message:
    """A tagged union whose tag key is missing or names no member: list the members."""
    loc, node = walk.loc, walk.node
    key = node.key if isinstance(node, TaggedNode) and node.key else "kind"
    tags = node.tags if isinstance(node, TaggedNode) else ()
    expected = f"expected one of: {_one_of(tags)}"
    if kind == "union_tag_not_found" or not isinstance(value, dict) or key not in value:
        if not isinstance(value, dict):
            return loc, f"expected a mapping with a {_show(key)} key (got {_show(value)})", True
        return loc, f"missing required key {_show(key)} ({expected})", True
    tag = value[key]
    hint = did_you_mean(tag, tags).removeprefix(" (").removesuffix(")")
    hint = f"{hint}; " if hint else ""
    return [*loc, key], f"{_show(tag)} is not a valid {key} ({hint}{expected})", True


def _bad_literal(error: ErrorDetails, walk: _Walk) -> _Message:
    """A value outside a fixed set, named after its key, with the set (nearest first)."""
    loc, value = walk.loc, error.get("input")
    allowed_values: tuple[object, ...] = (
        walk.node.values if isinstance(walk.node, LiteralNode) else ()
    )
    what = loc[-1] if loc and isinstance(loc[-1], str) else "value"
    hint = did_you_mean(value, [str(v) for v in allowed_values])
    hint = hint.removeprefix(" (").removesuffix(")") + "; " if hint else ""
    expected = _one_of(allowed_values) if allowed_values else error["ctx"]["expected"]
    message = f"{_show(value)} is not a valid {what} ({hint}expected one of: {expected})"
    return loc, message, True


def _bound_message(kind: str, ctx: Mapping[str, Any]) -> str | None:
    """Range and length errors in the same words as the quantity checks."""
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if kind == "too_short":
        least = ctx.get("min_length")
        return "must not be empty" if least == 1 else f"must have at least {least} entries"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} entries"
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')} characters)"
    return None


def _is_name(node: TypeNode | None) -> bool:
    """Whether a string node is the schema's ``Name`` (judged by its constraints)."""
    return isinstance(node, ScalarNode) and any(m in node.meta for m in get_args(Name)[1:])


@dataclass
class _Entry:
    loc: Loc
    on_key: bool
    messages: list[str]
    value: Any
    shows_value: bool

    def problem(self) -> Problem:
        if all(m.startswith("expected ") for m in self.messages):
            text = "expected " + " or ".join(m.removeprefix("expected ") for m in self.messages)
        else:
            text = "; or ".join(self.messages)
        if not self.shows_value:
            text += f" (got {_show(self.value)})"
        return Problem(self.loc, text, on_key=self.on_key)


def problems_from_validation(error: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """One problem per distinct error; the failed members of a plain union are merged."""
    entries: list[_Entry] = []
    unions: dict[tuple[Loc, bool], _Entry] = {}
    seen: set[tuple[Loc, bool, str]] = set()
    for details in error.errors(include_url=False):
        walk = _walk(details["loc"], ModelNode(root))
        path, message, shows_value = _message(details, walk)
        loc = tuple(path)
        if walk.via_union:
            entry = unions.get((loc, walk.on_key))
            if entry is not None:
                if message not in entry.messages:
                    entry.messages.append(message)
                    entry.shows_value = entry.shows_value and shows_value
                continue
        elif (loc, walk.on_key, message) in seen:
            continue
        seen.add((loc, walk.on_key, message))
        entry = _Entry(loc, walk.on_key, [message], details.get("input"), shows_value)
        entries.append(entry)
        if walk.via_union:
            unions[(loc, walk.on_key)] = entry
    return [entry.problem() for entry in entries]
