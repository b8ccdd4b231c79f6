"""Imported by the sweep's fork server only (:data:`sim.sweep.pool.PRELOAD`): the fork
server dies with the ``edgestream`` process that started it.

Importing it anywhere else does nothing: the fork server is the only process whose
command line is ``python -c 'from multiprocessing.forkserver import main; ...'``.
"""

from __future__ import annotations

import sys

from sim.run.process_guard import die_with_parent

__all__: list[str] = []

if sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules:
    die_with_parent()
