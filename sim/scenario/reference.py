"""The reference of every scenario key, generated from the schema.

``python -m sim.scenario.reference`` prints Markdown: one section per mapping
(pydantic model) reachable from :class:`~sim.scenario.schema.Scenario`, with a
table of its keys, their types in the user's terms, whether they are required or
their default, and their description.  ``docs/scenario.md`` embeds this output
between marker comments; a test keeps the two equal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast, get_args

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.scenario.plugin_name import PluginName
from sim.scenario.quantities import QuantityInfo
from sim.scenario.schema import Scenario
from sim.scenario.spec_base import Name
from sim.scenario.typetree import (
    DictNode,
    FieldEntry,
    ListNode,
    LiteralNode,
    ModelNode,
    ScalarNode,
    TaggedNode,
    TypeNode,
    UnionNode,
    model_fields,
)

__all__ = [
    "BEGIN_MARKER", "END_MARKER", "REGENERATE", "Row", "Section", "extract", "main", "render",
    "sections",
    "splice",
]

BEGIN_MARKER: Final = "<!-- BEGIN GENERATED -->"
END_MARKER: Final = "<!-- END GENERATED -->"
REGENERATE: Final = "python -m sim.scenario.reference --write docs/scenario.md"

_BASE_UNITS: Final = {"rate": "bps", "size": "B", "duration": "s", "frequency": "Hz",
                      "length": "m", "speed": "m/s", "angle": "deg", "decibel": "dB",
                      "power": "dBm"}


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    description: str


@dataclass
class Section:
    title: str
    level: int
    intro: str
    model: type[BaseModel] | None = None
    rows: list[Row] = field(default_factory=list)


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def _number(value: object) -> str:
    """A bound as a reader writes it: powers of two as ``2**63``, large counts with commas."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 10**6:
        if value & (value - 1) == 0:
            return f"2**{value.bit_length() - 1}"
        return f"{value:,}"
    return str(value)


def _bounds(meta: tuple[object, ...]) -> str:
    parts = []
    for item in meta:
        if isinstance(item, Ge):
            parts.append(f">= {_number(item.ge)}")
        elif isinstance(item, Gt):
            parts.append(f"> {_number(item.gt)}")
        elif isinstance(item, Le):
            parts.append(f"<= {_number(item.le)}")
        elif isinstance(item, Lt):
            parts.append(f"< {_number(item.lt)}")
    return ", ".join(parts)


def _scalar_text(node: ScalarNode) -> str:
    for item in node.meta:
        if isinstance(item, QuantityInfo):
            return f"{item.kind} {item.bounds}"
        if isinstance(item, PluginName):
            listed = ", ".join(f'`"{name}"`' for name in item.names())
            return f"name of a {item.resolve().kind} plug-in: {listed}"
    if node.py is str:
        return "name" if any(m in node.meta for m in get_args(Name)[1:]) else "string"
    names = {int: "int", float: "number", bool: "bool"}
    base = names.get(cast(Any, node.py), getattr(node.py, "__name__", str(node.py)))
    bounds = _bounds(node.meta)
    return f"{base} {bounds}" if bounds else base


def _quantity(node: TypeNode) -> QuantityInfo | None:
    if isinstance(node, ScalarNode):
        for item in node.meta:
            if isinstance(item, QuantityInfo):
                return item
    return None


def _default_text(entry: FieldEntry) -> str:
    info = entry.info
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = cast(Callable[[], object], info.default_factory)()
    else:
        value = info.default
    if value is None or value is PydanticUndefined:
        return "absent"
    if isinstance(value, BaseModel):
        return "all defaults"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list | dict):
        return f"`{value!r}`"
    quantity = _quantity(entry.node)
    if isinstance(value, float) and quantity is not None:
        unit = _BASE_UNITS.get(quantity.kind, "")
        return f"`{value:g} {unit}`" if value and unit else f"`{value:g}`"
    return f"`{value!r}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_Job = Callable[[], None]


class _Builder:
    """Builds sections depth first; a mapping's nested mappings follow its section
    (for a one-of, all its alternatives come first)."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.titles: dict[object, str] = {}

    @staticmethod
    def run(jobs: list[_Job]) -> None:
        for job in jobs:
            job()

    def model_section(
        self, cls: type[BaseModel], path: str, title: str, *, level: int, jobs: list[_Job],
        tag_key: str | None = None,
    ) -> None:
        section = Section(title, level, _first_paragraph(cls.__doc__), cls)
        self.sections.append(section)
        for entry in model_fields(cls):
            child = f"{path}.{entry.key}" if path else entry.key
            description = entry.info.description or ""
            if not description and entry.key == tag_key:
                description = "Selects this alternative."
            if not description and isinstance(entry.node, ModelNode):
                description = _first_paragraph(entry.node.cls.__doc__)
            section.rows.append(Row(
                entry.key, self.type_text(entry.node, child, jobs), _default_text(entry),
                description,
            ))

    def model(self, cls: type[BaseModel], path: str, jobs: list[_Job]) -> str:
        if cls not in self.titles:
            title = self.titles[cls] = f"`{path}`"

            def job() -> None:
                children: list[_Job] = []
                self.model_section(cls, path, title, level=3, jobs=children)
                self.run(children)

            jobs.append(job)
        return self.titles[cls]

    def tagged(self, node: TaggedNode, path: str, jobs: list[_Job]) -> str:
        if node.key is None:
            return " or ".join(self.type_text(alt, path, jobs) for _, alt in node.alternatives)
        key = node.key
        ident = (key, *(
            (tag, alt.cls) if isinstance(alt, ModelNode) else (tag,)
            for tag, alt in node.alternatives
        ))
        if ident not in self.titles:
            title = self.titles[ident] = f"`{path}`"

            def job() -> None:
                tags = ", ".join(f"`{tag}`" for tag in node.tags)
                self.sections.append(Section(
                    title, 3, f"One of the following, chosen by the value of `{key}`: {tags}."
                ))
                children: list[_Job] = []
                for tag, alt in node.alternatives:
                    if isinstance(alt, ModelNode):
                        self.model_section(
                            alt.cls, path, f"`{path} {key}: {tag}`", level=4, jobs=children,
                            tag_key=key,
                        )
                self.run(children)

            jobs.append(job)
        return f"one of, by `{key}` (see {self.titles[ident]})"

    def type_text(self, node: TypeNode, path: str, jobs: list[_Job]) -> str:
        if isinstance(node, ScalarNode):
            return _scalar_text(node)
        if isinstance(node, LiteralNode):
            if len(node.values) == 1:
                return f'`"{node.values[0]}"`'
            return "one of " + ", ".join(f'`"{v}"`' for v in node.values)
        if isinstance(node, ListNode):
            item = self.type_text(node.item, f"{path}[]", jobs)
            at_least = [m.min_length for m in node.meta if isinstance(m, MinLen)]
            if not at_least or at_least[0] == 0:
                return f"list of {item}"
            if at_least[0] == 1:
                return f"non-empty list of {item}"
            return f"list of at least {at_least[0]} of {item}"
        if isinstance(node, DictNode):
            key = self.type_text(node.key, path, jobs)
            value = self.type_text(node.value, f"{path}.<{key}>", jobs)
            return f"mapping of {key} to {value}"
        if isinstance(node, UnionNode):
            return " or ".join(self.type_text(m, path, jobs) for m in node.members)
        if isinstance(node, TaggedNode):
            return self.tagged(node, path, jobs)
        return f"mapping (see {self.model(node.cls, path, jobs)})"


def sections(root: type[BaseModel] = Scenario) -> list[Section]:
    """All sections of the reference of ``root`` (a scenario, or another input file such
    as a sweep file), in document order (the top level first)."""
    builder = _Builder()
    jobs: list[_Job] = []
    builder.titles[root] = "Top level"
    builder.model_section(root, "", "Top level", level=3, jobs=jobs)
    builder.run(jobs)
    return builder.sections


def render(root: type[BaseModel] = Scenario) -> str:
    """The generated Markdown of ``root``'s keys (without the marker comments)."""
    out: list[str] = []
    for section in sections(root):
        out.append(f"{'#' * section.level} {section.title}\n")
        if section.intro:
            out.append(f"{section.intro}\n")
        if section.model is not None:
            out.append("| key | type | required / default | description |")
            out.append("|---|---|---|---|")
            out.extend(
                f"| `{row.key}` | {_cell(row.type)} | {_cell(row.default)} "
                f"| {_cell(row.description)} |"
                for row in section.rows
            )
            out.append("")
    return "\n".join(out)


def extract(document: str) -> str | None:
    """The generated text between the markers of ``document`` (None without markers)."""
    if BEGIN_MARKER not in document or END_MARKER not in document:
        return None
    inner = document.partition(BEGIN_MARKER)[2].partition(END_MARKER)[0]
    return inner.removeprefix("\n").removesuffix("\n")


def splice(document: str, generated: str) -> str:
    """``document`` with the text between the markers replaced by ``generated``."""
    head, _, rest = document.partition(BEGIN_MARKER)
    _, _, tail = rest.partition(END_MARKER)
    return f"{head}{BEGIN_MARKER}\n{generated}\n{END_MARKER}{tail}"


def generator_main(render_text: Callable[[], str], usage: str, argv: list[str] | None) -> int:
    """A generated doc's command line: print it, or with ``--write FILE`` splice it into FILE.

    Shared by every generated reference so that each one is refreshed the same way.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--write":
        target = Path(args[1])
        document = target.read_text(encoding="utf-8")
        if BEGIN_MARKER not in document or END_MARKER not in document:
            print(f"{args[1]}: no {BEGIN_MARKER} / {END_MARKER} markers", file=sys.stderr)
            return 2
        target.write_text(splice(document, render_text()), encoding="utf-8")
        return 0
    if args:
        print(f"usage: {usage}", file=sys.stderr)
        return 2
    sys.stdout.write(render_text())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Print the reference; with ``--write FILE`` update FILE between the markers."""
    return generator_main(render, "python -m sim.scenario.reference [--write docs/scenario.md]",
                          argv)


if __name__ == "__main__":
    raise SystemExit(main())
