"""The reference of every sweep-file key, generated from the sweep schema.

``python -m sim.sweep.reference --write docs/sweep.md`` rewrites the part of
``docs/sweep.md`` between the marker comments with the tables
:mod:`sim.scenario.reference` builds for the scenario schema, here from
:class:`sim.sweep.spec.SweepSpec`; a test keeps the two equal.
"""

from __future__ import annotations

from typing import Final

from sim.scenario.reference import generator_main
from sim.scenario.reference import render as render_model
from sim.sweep.spec import SweepSpec

__all__ = ["REGENERATE", "main", "render"]

REGENERATE: Final = "python -m sim.sweep.reference --write docs/sweep.md"


def render() -> str:
    """The generated Markdown (without the marker comments)."""
    return render_model(SweepSpec)


def main(argv: list[str] | None = None) -> int:
    """Print the reference; with ``--write FILE`` update FILE between the markers."""
    return generator_main(render, "python -m sim.sweep.reference [--write docs/sweep.md]", argv)


if __name__ == "__main__":
    raise SystemExit(main())
