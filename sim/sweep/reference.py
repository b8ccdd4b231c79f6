"""The reference of every sweep-file key, generated from the sweep schema.

``python -m sim.sweep.reference --write docs/sweep.md`` rewrites the part of
``docs/sweep.md`` between the marker comments with the tables
:mod:`sim.scenario.reference` builds for the scenario schema, here from
:class:`sim.sweep.spec.SweepSpec`; a test keeps the two equal.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from sim.scenario.reference import BEGIN_MARKER, END_MARKER, splice
from sim.scenario.reference import render as render_model
from sim.sweep.spec import SweepSpec

__all__ = ["REGENERATE", "main", "render"]

REGENERATE: Final = "python -m sim.sweep.reference --write docs/sweep.md"


def render() -> str:
    """The generated Markdown (without the marker comments)."""
    return render_model(SweepSpec)


def main(argv: list[str] | None = None) -> int:
    """Print the reference; with ``--write FILE`` update FILE between the markers."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--write":
        target = Path(args[1])
        document = target.read_text(encoding="utf-8")
        if BEGIN_MARKER not in document or END_MARKER not in document:
            print(f"{args[1]}: no {BEGIN_MARKER} / {END_MARKER} markers", file=sys.stderr)
            return 2
        target.write_text(splice(document, render()), encoding="utf-8")
        return 0
    if args:
        print("usage: python -m sim.sweep.reference [--write docs/sweep.md]", file=sys.stderr)
        return 2
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
