"""Killing a command with real signals leaves no process and, after the next command,
no partial or hidden folder (issue 14).

Each test starts ``edgestream`` in a session of its own with a marker in its
environment, which every child inherits (the fork server, the resource tracker,
pool and Dask workers); whatever happens, the fixture kills every process that
still carries the marker, so a failing test leaves nothing running either.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scenarios" / "bench" / "peer_workload.yaml"
WAIT_S = 15.0
"""How long orphans may take to notice their parent is gone (a pool worker: ~1 s)."""

Start = Callable[..., subprocess.Popen[bytes]]


def _marked(marker: str) -> list[int]:
    """Pids of the processes whose environment carries ``marker``."""
    pids = []
    needle = f"EDGESTREAM_TEST_MARKER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def start() -> Iterator[Start]:
    """Start ``python -c code`` (or the CLI) marked; kill whatever is left at the end."""
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc to find the children")
    marker = uuid.uuid4().hex
    started: list[subprocess.Popen[bytes]] = []

    def run(args: list[str], code: str | None = None) -> subprocess.Popen[bytes]:
        env = {**os.environ, "EDGESTREAM_TEST_MARKER": marker}
        command = [sys.executable, "-c", code, *args] if code else [
            sys.executable, "run_sim.py", *args]
        process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        return process

    run.marker = marker  # type: ignore[attr-defined]
    try:
        yield run
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        for pid in _marked(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _no_marked_process_left(start: Start) -> None:
    marker: str = start.marker  # type: ignore[attr-defined]
    assert _wait_until(lambda: not _marked(marker), WAIT_S), \
        f"processes left: {_marked(marker)}"


def _hidden(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def _next_command_cleans(start: Start, out: Path) -> None:
    """The next run writing to the same scenario folder leaves nothing hidden or partial."""
    follow = start(["run", str(BENCH), "--duration", "2 s", "-q", "--no-plots", "--out",
                    str(out)])
    assert follow.wait(timeout=120) == 0, follow.stderr.read() if follow.stderr else ""
    assert _hidden(out) == []
    for folder in (out / "peer_workload").iterdir():
        assert (folder / "summary.json").is_file(), f"partial run folder {folder}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_kill_run_during_the_simulation(start: Start, tmp_path: Path, sig: int) -> None:
    run = start(["run", str(BENCH), "--duration", "3000 s", "-q", "--out", str(tmp_path)])
    time.sleep(4)  # past the imports, inside the simulation
    assert run.poll() is None
    run.send_signal(sig)
    code = run.wait(timeout=30)
    assert code == (130 if sig == signal.SIGTERM else -signal.SIGKILL)
    _no_marked_process_left(start)
    assert not list(tmp_path.rglob("summary.json"))
    _next_command_cleans(start, tmp_path)


SLOW_WRITE = textwrap.dedent("""
    import sys, time
    import sim.run.results as results
    real = results._write_parquet
    def slow(*args, **kwargs):
        real(*args, **kwargs)
        time.sleep(60)  # the test kills us here, mid-write
    results._write_parquet = slow
    from sim.cli.main import main
    raise SystemExit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_kill_run_during_the_write(start: Start, tmp_path: Path, sig: int) -> None:
    run = start(["run", str(BENCH), "--duration", "2 s", "-q", "--no-plots", "--out",
                 str(tmp_path)], code=SLOW_WRITE)
    assert _wait_until(lambda: bool(list(tmp_path.rglob(".*.tmp-*/tables/*.parquet"))), 60)
    run.send_signal(sig)
    code = run.wait(timeout=30)
    assert code == (130 if sig == signal.SIGTERM else -signal.SIGKILL)
    _no_marked_process_left(start)
    if sig == signal.SIGTERM:  # cleaned up at once; a SIGKILL's by the next command
        assert _hidden(tmp_path) == []
    _next_command_cleans(start, tmp_path)


def _sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "long_sweep.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: long_sweep
        base: {BENCH}
        parameters:
          - {{path: "nodes[users0].count", values: [50, 100, 150, 200]}}
        replications: 2
        seed: 1
        set: ["duration=3000 s"]
        """))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "sig"), [
    ("pool", signal.SIGKILL), ("pool", signal.SIGTERM), ("dask", signal.SIGKILL)],
    ids=["pool-KILL", "pool-TERM", "dask-KILL"])
def test_kill_sweep_leaves_no_worker(start: Start, tmp_path: Path, sig: int,
                                     backend: str) -> None:
    if backend == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "results"
    extra = ["--dask", "local"] if backend == "dask" else []
    sweep = start(["sweep", str(_sweep_file(tmp_path)), "--workers", "2", "-q", "--out",
                   str(out), *extra])
    marker: str = start.marker  # type: ignore[attr-defined]
    assert _wait_until(lambda: len(_marked(marker)) >= 3, 60)  # parent + 2 workers
    time.sleep(3)  # the workers are simulating
    sweep.send_signal(sig)
    code = sweep.wait(timeout=60)
    assert code == (130 if sig == signal.SIGTERM else -signal.SIGKILL)
    _no_marked_process_left(start)
    _next_command_cleans(start, out)
