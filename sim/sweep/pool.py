"""The local process pool's start method, importable before anything heavy.

Workers are forked from a fork server that has imported the simulator once
(``spawn`` where there is no fork server, e.g. on Windows): ``fork`` from the
parent would copy whatever threads it holds (rich's refresh thread) into the
children, and ``spawn`` makes every worker import scipy, pyarrow and pydantic
again, which takes a second or two each.

This module imports nothing of the simulator, so that the CLI can start the fork
server (:func:`start_workers_early`) before it imports the simulator itself:
the fork server's imports then overlap the CLI's own imports and planning,
instead of delaying the first run by that much.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import forkserver
from multiprocessing.context import BaseContext

from sim.plugins import BUILTIN_MODULES

__all__ = ["PRELOAD", "pool_context", "start_workers_early"]

PRELOAD = ("sim.run.forkserver_guard", "sim.sweep.execute", *BUILTIN_MODULES, "pandas")
"""What the fork server imports once for all workers: its guard (it dies with the
command that started it), the run's modules, and pandas,
which pyarrow imports on its first array conversion when it is installed (half a
second per worker otherwise).  Modules that are not installed are skipped."""


def pool_context() -> BaseContext:
    """A fork server that imports :data:`PRELOAD`, or plain ``spawn`` (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def start_workers_early(workers: int, dask: str | None = None) -> None:
    """Start the fork server now, if a local pool will be used; it preloads meanwhile.

    Optional: the pool starts it anyway.  ``ensure_running`` returns at once; the
    server imports in its own process while this one goes on.
    """
    if dask is None and workers > 1 and "forkserver" in multiprocessing.get_all_start_methods():
        pool_context()
        forkserver.ensure_running()
