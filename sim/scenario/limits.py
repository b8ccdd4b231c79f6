"""Upper bounds on what a scenario may ask for, checked before anything is built.

A scenario is input from anyone (a student's file, a CI job, a ``--set`` typed in a
hurry); without bounds a 1 kB file can ask for gigabytes.  Each limit is far above
what the shipped scenarios use, so only hostile or mistyped input meets one.  They
are documented in ``docs/scenario.md`` (section *Limits*) and in the README.
"""

from __future__ import annotations

from typing import Final

__all__ = [
           "MAX_FILE_BYTES",
           "MAX_NAME_CHARS",
           "MAX_SEED",
           "MAX_SHOWN",
           "MAX_TRACE_BYTES",
           "MAX_YAML_NODES",
]

MAX_FILE_BYTES: Final = 16 * 1024 * 1024
"""A scenario or sweep file: 16 MiB (a 20,000-group scenario is about 2 MB)."""
MAX_YAML_NODES: Final = 1_000_000
"""YAML nodes of a document *after* alias expansion, so ``*alias`` bombs stop here."""
MAX_SHOWN: Final = 60
"""Characters of a user's value quoted in a message (cut before formatting)."""
MAX_SEED: Final = 2**63
"""Seeds are ``0 <= seed < 2**63`` (they name the results folder)."""
MAX_REPLICATIONS: Final = 10_000
"""Replications of a sweep point (or of ``check --replications``)."""
MAX_SWEEP_RUNS: Final = 100_000
"""Runs of one sweep (points x replications), checked before the grid is expanded."""
MAX_NAME_CHARS: Final = 100
"""A scenario name (it names the results folder; file systems allow 255 bytes)."""
MAX_LOGNORMAL_CV: Final = 1000.0
"""A lognormal's sd over its mean; beyond it sigma**2 = log(1 + cv**2) drifts toward overflow
and nearly every draw is ~0 while a few are astronomically large."""
MAX_TRACE_BYTES: Final = 16 * 1024 * 1024
"""A link or mobility trace file: 16 MiB (a JSON trace is parsed whole, ~10x in memory)."""
MIN_TRACE_PERIOD_S: Final = 1e-3
"""The shortest period of a link trace: 1 ms (the shipped traces use 100 ms to 1 s)."""
