"""Executing a sweep's runs: in this process, in a local process pool, or on Dask.

A run is a pure function of (base scenario, overrides, results root): it loads
the scenario, runs it and writes its folder, and only the folder's path travels
back.  The parent reads the results from the folders, so every backend gives
the same files, and a run finished by any of them counts for a resumed sweep.

* ``workers == 1`` runs serially in this process (no start-up cost, and a
  debugger or profiler sees the run);
* ``workers > 1`` uses a :class:`~concurrent.futures.ProcessPoolExecutor`
  whose workers fork from a fork server that has imported the simulator
  (:mod:`sim.sweep.pool` says why);
* ``dask="local"`` starts a ``distributed.LocalCluster`` of ``workers``
  single-threaded processes; any other ``dask`` value is the address of an
  existing scheduler, whose workers must see the same files and the code.

Failures: the first failed run stops the sweep (pending runs are cancelled,
running ones may finish) and is reported as :class:`SweepRunError` naming the run.
Runs finished before stay on disk, so the sweep resumes from there.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from sim.extras import require_extra
from sim.run.process_guard import GRACE_S, die_with
from sim.scenario.problems import ScenarioError
from sim.sweep.plan import PlannedRun
from sim.sweep.pool import pool_context

EXIT_INTERRUPT = 130
"""Exit code of an idle worker ended by SIGTERM (the CLI's code for an interrupt)."""

__all__ = ["Job", "RunCrashedError", "RunInputError", "SweepRunError", "execute_run",
           "execute_runs"]


@dataclass(frozen=True)
class Job:
    """What every run of one sweep shares; plain values, so it pickles anywhere."""

    base: str
    """Absolute path of the base scenario."""
    root: str
    """Absolute results root."""
    tables: bool = True
    """Write Parquet tables (if the scenario asks for them)."""
    plots: bool = False
    """Draw plots (if the scenario asks for them); off by default: a sweep compares runs."""


class RunInputError(Exception):
    """A run's scenario was refused (e.g. a route problem); the located problem lines."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines)
        self.lines = lines


class RunCrashedError(Exception):
    """A run raised; its exception as text, since not every exception pickles."""

    def __init__(self, message: str, trace: str) -> None:
        super().__init__(message, trace)
        self.message = message
        self.trace = trace


class SweepRunError(Exception):
    """A run of the sweep failed; ``cause``: :class:`RunInputError` or :class:`RunCrashedError`."""

    def __init__(self, run: PlannedRun, cause: RunInputError | RunCrashedError) -> None:
        super().__init__(f"run failed: {run.describe()}")
        self.run = run
        self.cause = cause


_RUNNING = threading.Event()
"""In a pool worker: set while a run executes (Ctrl-C interrupts runs, not idle waits)."""

Completions = Generator[tuple[PlannedRun, str], None, None]


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _RUNNING.is_set():
        raise KeyboardInterrupt


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if _RUNNING.is_set():
        raise KeyboardInterrupt
    os._exit(EXIT_INTERRUPT)  # idle: nothing to clean up, and no traceback


def _pool_worker_init(parent: int) -> None:
    """Pool workers see Ctrl-C too (same terminal); idle ones must not die noisily.

    A running run is interrupted (write_run removes its partial files), an idle
    worker ignores the signal and is shut down by the parent.  A sweep started
    with SIGINT ignored (a background job of a script) keeps ignoring it.  SIGTERM
    (sent by the parent when it is interrupted) ends a worker the same way, and a
    worker ends by itself when the ``edgestream`` process ``parent`` is gone.
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _on_sigint)
    signal.signal(signal.SIGTERM, _on_sigterm)
    die_with(parent)


def execute_run(job: Job, overrides: Sequence[str]) -> str:
    """Load, run and write one run; returns its folder.  The worker entry point."""
    from sim.run.builder import Run
    from sim.run.results import write_run
    from sim.scenario.loader import load_scenario

    _RUNNING.set()
    try:
        loaded = load_scenario(job.base, list(overrides))
        try:
            run = Run(loaded.scenario, loaded.source_dir)
        except ScenarioError as exc:
            raise ScenarioError(loaded.document.locate_all(exc.problems)) from None
        output = run.execute()
        scn = loaded.scenario
        folder = write_run(output, Path(job.root), tables=job.tables and scn.output.tables,
                           plots=job.plots and scn.output.plots)
    except ScenarioError as exc:
        raise RunInputError([p.format() for p in exc.problems]) from None
    except Exception as exc:
        raise RunCrashedError(f"{type(exc).__name__}: {exc}", traceback.format_exc()) from None
    finally:
        _RUNNING.clear()
    return str(folder)


Done = Callable[[PlannedRun, Path], None]


def _check(run: PlannedRun, folder: str) -> Path:
    path = Path(folder)
    if path.resolve() != run.folder.resolve():
        raise SweepRunError(run, RunCrashedError(
            f"the run wrote {path}, the plan expected {run.folder}", ""))
    return run.folder


def _cause(exc: BaseException | None) -> RunInputError | RunCrashedError:
    """What failed a run in a worker: our own errors, or anything else (a dead worker)."""
    if isinstance(exc, RunInputError | RunCrashedError):
        return exc
    return RunCrashedError(f"{type(exc).__name__}: {exc}", "")


def _serial(job: Job, runs: Sequence[PlannedRun]) -> Completions:
    for run in runs:
        try:
            yield run, execute_run(job, run.overrides)
        except (RunInputError, RunCrashedError) as exc:
            raise SweepRunError(run, exc) from None


def _longest_first(runs: Sequence[PlannedRun]) -> list[PlannedRun]:
    """Largest cost first, plan order among equals: a long run started last would
    leave the other workers idle at the end of the sweep."""
    return sorted(runs, key=lambda r: -r.cost)


def _pool(job: Job, runs: Sequence[PlannedRun], workers: int) -> Completions:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(),
                               initializer=_pool_worker_init, initargs=(os.getpid(),))
    pending: dict[Future[str], PlannedRun] = {}
    complete = False
    try:
        pending = {pool.submit(execute_run, job, run.overrides): run
                   for run in _longest_first(runs)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: (pending[f].point, pending[f].replication)):
                run = pending.pop(future)
                exc = future.exception()
                if exc is not None:
                    raise SweepRunError(run, _cause(exc))
                yield run, future.result()
        complete = True
    except (KeyboardInterrupt, GeneratorExit):
        # Ctrl-C reached the workers too, but SIGTERM (or an exception of the caller)
        # reached only this process: interrupt the running runs, which remove their
        # staging folders, instead of waiting for them or leaving them behind.
        _terminate_workers(pool)
        raise
    finally:
        # On failure or Ctrl-C pending runs are dropped and running ones end (Ctrl-C
        # reached them too, or they finish), so only complete run folders are left.
        # After success the idle workers exit while the tables are written: tearing
        # down an interpreter that has run a simulation takes a while.
        pool.shutdown(wait=not complete, cancel_futures=True)


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM to each worker, then wait (bounded) for them to finish cleaning up."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    deadline = time.monotonic() + GRACE_S + 1
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()


def _distributed() -> Any:
    """The ``distributed`` module, imported only for --dask (it has no type hints)."""
    require_extra("dask", "the Dask backend (--dask)")
    return importlib.import_module("distributed")


def _dask_client(address: str, workers: int) -> tuple[Any, Any]:
    """(client, cluster or None): a LocalCluster for "local", else a connection."""
    dask = _distributed()
    if address == "local":
        cluster = dask.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                    dashboard_address=None)
        return dask.Client(cluster), cluster
    try:
        return dask.Client(address, timeout="10s"), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _dask(job: Job, runs: Sequence[PlannedRun], address: str, workers: int) -> Completions:
    client, cluster = _dask_client(address, workers)
    futures: dict[Any, PlannedRun] = {}
    try:
        for rank, run in enumerate(_longest_first(runs)):
            future = client.submit(execute_run, job, run.overrides, pure=False,
                                   key=f"edgestream-{run.scenario}-{run.run_id}",
                                   priority=-rank)
            futures[future] = run
        for future in _distributed().as_completed(list(futures)):
            run = futures[future]
            if future.status == "error":
                raise SweepRunError(run, _cause(future.exception()))
            if future.status != "finished":
                raise SweepRunError(run, RunCrashedError(f"the Dask task was {future.status}", ""))
            yield run, future.result()
    finally:
        client.cancel(list(futures))
        client.close()
        if cluster is not None:
            cluster.close()


def execute_runs(job: Job, runs: Sequence[PlannedRun], *, workers: int = 1,
                 dask: str | None = None, on_done: Done | None = None) -> list[PlannedRun]:
    """Run `runs` and call ``on_done(run, folder)`` in this process as each finishes.

    Returns the runs in the order they finished.  Raises :class:`SweepRunError` for the
    first failed run; an exception raised by ``on_done`` (or Ctrl-C) stops the
    sweep the same way, leaving finished runs on disk.
    """
    if not runs:
        return []
    if dask is not None:
        completions = _dask(job, runs, dask, workers)
    elif workers > 1:
        completions = _pool(job, runs, workers)
    else:
        completions = _serial(job, runs)
    finished: list[PlannedRun] = []
    try:
        for run, folder in completions:
            path = _check(run, folder)
            finished.append(run)
            if on_done is not None:
                on_done(run, path)
    finally:
        completions.close()
    return finished
