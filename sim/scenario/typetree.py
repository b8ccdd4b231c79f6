"""The shape of the scenario schema as a small tree of type nodes.

Pydantic annotations mix several layers (``Annotated`` metadata, ``Optional``,
discriminated unions with string or callable discriminators, ``Tag`` markers).
:func:`resolve` and :func:`model_fields` flatten them into the few shapes a YAML author sees —
mapping, list, mapping of names, one-of-by-key, scalar — so that the loader can
translate pydantic error locations into YAML key paths and the reference
generator can document every key, both without hard-coding any class or tag.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag
from pydantic.fields import FieldInfo

__all__ = [
    "DictNode",
    "FieldEntry",
    "ListNode",
    "LiteralNode",
    "ModelNode",
    "ScalarNode",
    "TaggedNode",
    "TypeNode",
    "UnionNode",
    "model_fields",
    "resolve",
]


@dataclass(frozen=True)
class ModelNode:
    """A mapping with fixed keys (a pydantic model)."""

    cls: type[BaseModel]


@dataclass(frozen=True)
class ListNode:
    item: TypeNode
    meta: tuple[object, ...] = ()


@dataclass(frozen=True)
class DictNode:
    key: TypeNode
    value: TypeNode
    meta: tuple[object, ...] = ()


@dataclass(frozen=True)
class TaggedNode:
    """One of several alternatives, chosen by the value of ``key``.

    ``key`` is ``None`` when a function picks the alternative (e.g. by the shape of
    the value); pydantic still names the chosen tag in error locations.
    """

    key: str | None
    alternatives: tuple[tuple[str, TypeNode], ...]

    def get(self, tag: object) -> TypeNode | None:
        for name, node in self.alternatives:
            if name == tag:
                return node
        return None

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.alternatives)


@dataclass(frozen=True)
class UnionNode:
    """A plain union: pydantic tries each member and labels each member's errors."""

    members: tuple[TypeNode, ...]


@dataclass(frozen=True)
class LiteralNode:
    values: tuple[object, ...]


@dataclass(frozen=True)
class ScalarNode:
    """A leaf value: ``py`` is the Python type, ``meta`` its Annotated metadata."""

    py: object
    meta: tuple[object, ...] = ()


TypeNode = ModelNode | ListNode | DictNode | TaggedNode | UnionNode | LiteralNode | ScalarNode


@dataclass(frozen=True)
class FieldEntry:
    """One key of a model as written in YAML."""

    key: str
    name: str
    info: FieldInfo
    node: TypeNode


def _is_model(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _strip_annotated(tp: object, meta: Sequence[object]) -> tuple[object, list[object]]:
    collected = list(meta)
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        collected = [*args[1:], *collected]
    return tp, collected


def _discriminator_of(meta: Sequence[object]) -> str | Discriminator | None:
    for item in meta:
        if isinstance(item, Discriminator):
            return item
        if isinstance(item, FieldInfo) and item.discriminator is not None:
            return item.discriminator
    return None


def _field_key(cls: type[BaseModel], name: str) -> str:
    """The key a YAML author writes for field ``name`` (its alias, if it has one)."""
    info = cls.model_fields[name]
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    return info.alias or name


def _tags_by_key(member: object, key: str) -> tuple[str, list[str]]:
    """(YAML key, tag values) of a model alternative discriminated by field ``key``."""
    tp, _ = _strip_annotated(member, ())
    if not _is_model(tp):
        raise TypeError(f"discriminated alternative {tp!r} is not a model")
    assert isinstance(tp, type) and issubclass(tp, BaseModel)
    for name, info in tp.model_fields.items():
        yaml_key = _field_key(tp, name)
        if key in (name, yaml_key):
            return yaml_key, [str(v) for v in get_args(info.annotation)]
    raise TypeError(f"{tp.__name__} has no discriminator field {key!r}")


def _tag_of(member: object) -> str:
    _, meta = _strip_annotated(member, ())
    for item in meta:
        if isinstance(item, Tag):
            return item.tag
    raise TypeError(f"alternative {member!r} of a callable discriminator has no Tag")


def _tagged(members: Sequence[object], disc: str | Discriminator) -> TaggedNode:
    key_spec = disc.discriminator if isinstance(disc, Discriminator) else disc
    alternatives: list[tuple[str, TypeNode]] = []
    if isinstance(key_spec, str):
        yaml_key = key_spec
        for member in members:
            yaml_key, tags = _tags_by_key(member, key_spec)
            node = resolve(member)
            alternatives.extend((tag, node) for tag in tags)
        return TaggedNode(yaml_key, tuple(alternatives))
    for member in members:
        alternatives.append((_tag_of(member), resolve(member)))
    return TaggedNode(None, tuple(alternatives))


def resolve(
    tp: object, meta: Sequence[object] = (), discriminator: str | Discriminator | None = None
) -> TypeNode:
    """The type node of an annotation (with extra metadata from the field, if any)."""
    tp, collected = _strip_annotated(tp, meta)
    for item in collected:  # alternatives from a plug-in registry (plugin_union.PluginUnion)
        expanded = getattr(item, "expanded", None)
        if callable(expanded):
            return resolve(expanded())
    disc = discriminator if discriminator is not None else _discriminator_of(collected)
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        members = [m for m in get_args(tp) if m is not type(None)]
        if disc is not None:
            return _tagged(members, disc)
        if len(members) == 1:
            return resolve(members[0], collected)
        return UnionNode(tuple(resolve(m) for m in members))
    if disc is not None:
        return _tagged([tp], disc)
    kept = tuple(m for m in collected if not isinstance(m, FieldInfo | Discriminator))
    if origin is list:
        (item,) = get_args(tp)
        return ListNode(resolve(item), kept)
    if origin is dict:
        key, value = get_args(tp)
        return DictNode(resolve(key), resolve(value), kept)
    if origin is Literal:
        return LiteralNode(get_args(tp))
    if _is_model(tp):
        assert isinstance(tp, type) and issubclass(tp, BaseModel)
        return ModelNode(tp)
    return ScalarNode(tp, kept)


@cache
def model_fields(cls: type[BaseModel]) -> tuple[FieldEntry, ...]:
    """The keys of a model in declaration order, with their resolved types."""
    entries = []
    for name, info in cls.model_fields.items():
        node = resolve(info.annotation, info.metadata, info.discriminator)
        entries.append(FieldEntry(_field_key(cls, name), name, info, node))
    return tuple(entries)
