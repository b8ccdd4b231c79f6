"""docs/scenario.md documents every key of the schema and matches the generator."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from scenario_helpers import reachable_models

from sim.scenario.reference import BEGIN_MARKER, END_MARKER, REGENERATE, extract, render

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scenario.md"


def doc_sections(text: str) -> dict[str, list[list[str]]]:
    """Heading -> table rows (cells) of each section of the Markdown."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            current = sections.setdefault(line.lstrip("#").strip(), [])
        elif line.startswith("| `") and current is not None:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            current.append(cells)
    return sections


def test_generated_part_is_up_to_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN_MARKER in text and END_MARKER in text
    assert extract(text) == render(), (
        f"docs/scenario.md is out of date with the schema; run `{REGENERATE}`"
    )


def test_every_field_of_every_model_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    generated = extract(text)
    assert generated is not None
    sections = doc_sections(generated)
    models = reachable_models()
    assert len(models) >= 20
    for model in models:
        keys = [info.alias or name for name, info in model.model_fields.items()]
        matching = [
            heading for heading, rows in sections.items()
            if [row[0].strip("`") for row in rows] == keys
        ]
        assert matching, f"no section of docs/scenario.md documents {model.__name__} {keys}"
        for heading in matching:
            for row in sections[heading]:
                assert len(row) == 4 and all(row), f"incomplete row in {heading}: {row}"


def test_alternatives_are_named_by_tag() -> None:
    generated = render()
    for heading in ("`nodes[] kind: mec`", "`nodes[] kind: users`",
                    "`workloads[] kind: request_response`",
                    "`nodes[].compute.service.<name> dist: lognormal`",
                    "`workloads[].arrivals process: poisson`"):
        assert f"\n#### {heading}\n" in f"\n{generated}", heading


def test_units_in_user_terms() -> None:
    rows = {
        (heading, row[0]): row for heading, table in doc_sections(render()).items()
        for row in table
    }
    assert rows[("`links[]`", "`bandwidth`")][1].startswith("rate > 0 or mapping")
    assert rows[("`links[]`", "`loss`")][1] == "fraction 0 to below 1"
    assert rows[("Top level", "`duration`")][1:3] == ["duration > 0", "required"]
    assert rows[("Top level", "`sample_interval`")][2] == "`1 s`"
    assert rows[("`nodes[].compute`", "`servers`")][1:3] == ["int >= 1", "`1`"]
    assert rows[("Top level", "`nodes`")][1].startswith("non-empty list of one of, by `kind`")


def test_module_prints_the_reference() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sim.scenario.reference"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert result.stdout == render()


def test_write_updates_between_markers(tmp_path: Path) -> None:
    target = tmp_path / "doc.md"
    target.write_text(f"intro\n\n{BEGIN_MARKER}\nstale\n{END_MARKER}\n\nend\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "sim.scenario.reference", "--write", str(target)],
        cwd=ROOT, check=True,
    )
    text = target.read_text(encoding="utf-8")
    assert text.startswith("intro\n\n") and text.endswith(f"{END_MARKER}\n\nend\n")
    assert extract(text) == render()
