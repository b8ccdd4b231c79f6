"""The QoS metric names of every workload kind and of the run itself, generated.

``python -m sim.qos.metric_reference --write docs/metrics.md`` rewrites the part of
``docs/metrics.md`` between the marker comments; a test keeps the two equal.

Workloads declare their metrics by the summary they write: the keys of a run's
``summary.json`` exist before it executes (that is how ``qos:`` names are checked
before a run), so the generator prepares, without running, the run of every shipped
scenario (:data:`SOURCES`) and reads its flattened summary. Under each section a
workload's sections (:class:`sim.run.workload.SummarySection`) hold, the workload's own
name becomes ``<name>``; in the run-wide sections (sites, links, access, radio...) a
mapping whose entries are mappings with the same keys is a mapping of labels (site,
link, cell names) and becomes ``<label>``. The unit is the one
:func:`sim.qos.targets.unit_of` gives a ``qos:`` bound. A workload kind that no shipped
scenario uses is listed as such, so a new kind shows up (and the test asks for an
example scenario).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sim.qos.targets import Kind, flatten, unit_of
from sim.scenario.reference import generator_main

__all__ = ["REGENERATE", "SOURCES", "collect", "main", "render"]

REGENERATE: Final = "python -m sim.qos.metric_reference --write docs/metrics.md"
ROOT: Final = Path(__file__).resolve().parents[2]
SOURCES: Final = tuple(sorted((ROOT / "scenarios").glob("*.yaml")))
"""Shipped scenarios read for the names (the examples of docs/workflow.md and README)."""

UNITS: Final[Mapping[Kind, str]] = {
    "duration": "s", "size": "B", "frequency": "1/s", "rate": "bit/s",
    "fraction": "none: a bare number (or %)", "count": "count",
}
"""SI unit of each kind: the unit of summary.json's values and of a bare-number bound."""


def _generic(summary: Mapping[str, Any], label: str = "<label>") -> dict[str, Any]:
    """``summary`` with label mappings (entries that are mappings sharing one key set)
    folded into one ``<label>`` entry."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, Mapping):
            inner = list(value.values())
            if inner and all(isinstance(v, Mapping) for v in inner) and \
                    len({frozenset(v) for v in inner}) == 1:
                merged: dict[str, Any] = {}
                for v in inner:
                    merged.update(v)
                out[key] = {label: _generic(merged)}
            else:
                out[key] = _generic(value)
        else:
            out[key] = value
    return out


def collect() -> tuple[dict[str, dict[str, Kind]], dict[str, dict[str, Kind]]]:
    """(metric name -> kind, per workload kind; the same for the run-wide sections)."""
    from sim.run.builder import prepared_run
    from sim.run.workload import WORKLOADS, workload_specs
    from sim.scenario.loader import load_scenario

    kinds: dict[str, dict[str, Kind]] = {kind: {} for kind in sorted(workload_specs())}
    run_wide: dict[str, dict[str, Kind]] = {}
    for path in SOURCES:
        loaded = load_scenario(path, [])
        summary = prepared_run(loaded, force=True).summary()
        owned: set[str] = set()
        for spec in loaded.scenario.workloads:
            for section in WORKLOADS.get(spec.kind).sections:
                owned.add(section.name)
                mine = summary.get(section.name, {}).get(spec.name)
                if isinstance(mine, Mapping):
                    for rest in flatten(mine):
                        metric = f"{section.name}.<name>.{rest}"
                        kinds[spec.kind][metric] = unit_of(f"{section.name}.{spec.name}.{rest}")
        for key, value in _generic(summary).items():
            if key in owned or not isinstance(value, Mapping):
                continue
            for rest in flatten(value):
                run_wide.setdefault(key, {})[f"{key}.{rest}"] = unit_of(f"{key}.{rest}")
    return kinds, run_wide


def _table(metrics: Mapping[str, Kind]) -> list[str]:
    rows = ["| metric | unit of a `qos:` bound |", "|---|---|"]
    rows += [f"| `{name}` | {UNITS[kind]} |" for name, kind in sorted(metrics.items())]
    return [*rows, ""]


def render() -> str:
    """The generated Markdown (without the marker comments)."""
    kinds, run_wide = collect()
    out: list[str] = []
    for kind, metrics in kinds.items():
        out.append(f"### Workload `{kind}`\n")
        if metrics:
            out += _table(metrics)
        else:
            out.append("No shipped scenario uses this kind; its names are not listed.\n")
    for section, metrics in sorted(run_wide.items()):
        out.append(f"### Run-wide: `{section}`\n")
        out += _table(metrics)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the list; with ``--write FILE`` update FILE between the markers."""
    return generator_main(render, REGENERATE.replace("--write", "[--write").rstrip() + "]", argv)


if __name__ == "__main__":
    raise SystemExit(main())
