"""Helpers for the scenario tests: a minimal valid scenario, text edits, a file writer.

Not a conftest.py: tests/conftest.py already provides a module named ``conftest``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.plugin_union import PluginUnion
from sim.scenario.schema import Scenario

# Line numbers matter: tests replace text on one line and assert its position.
BASE = """\
name: demo
duration: 10 s
nodes:
  - name: cloud
    kind: cloud
    compute:
      servers: 4
      service:
        recommend: {dist: exponential, mean: 20 ms}
  - name: mec1
    kind: mec
    compute:
      servers: 2
      service:
        recommend: {dist: exponential, mean: 5 ms}
  - name: students
    kind: users
    count: 10
    attach: mec1
    access:
      bandwidth: 100 Mbps
      delay: 5 ms
links:
  - a: mec1
    b: cloud
    bandwidth: 1 Gbps
    delay: 10 ms
workloads:
  - kind: request_response
    name: recommend
    clients: [students]
    arrivals: {process: poisson, rate: 1 /s}
    request_size: 1 kB
    response_size: 10 kB
"""

def edit(text: str, old: str, new: str) -> str:
    """``text`` with the single occurrence of ``old`` replaced."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def position(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based (line, column) of ``needle`` in ``text``."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(needle, offset + 1)
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def write(directory: Path, content: str | bytes, name: str = "scenario.yaml") -> str:
    """Write YAML text (or bytes) to a file in ``directory``; return its path as a string."""
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def _collect_models(annotation: object, found: dict[type[BaseModel], None]) -> None:
    if get_origin(annotation) is Annotated:
        # A key whose alternatives come from a plug-in registry (PluginUnion): its
        # annotation is the alternatives' base; walk what it validates as instead.
        _, *meta = get_args(annotation)
        union = next((m for m in meta if isinstance(m, PluginUnion)), None)
        if union is not None:
            _collect_models(union.expanded(), found)
            return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found[annotation] = None
        for info in annotation.model_fields.values():
            _collect_models(_annotated(info), found)
        return
    for arg in get_args(annotation):
        _collect_models(arg, found)


def _annotated(info: FieldInfo) -> object:
    """A field's annotation with its metadata (pydantic keeps them apart)."""
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def reachable_models() -> list[type[BaseModel]]:
    """Every model class reachable from Scenario (independent of sim.scenario.typetree)."""
    found: dict[type[BaseModel], None] = {}
    _collect_models(Scenario, found)
    return list(found)
