"""Killing ``live`` with real signals: no peer process is left, and the next live run
leaves no temporary folder of the killed one and nothing hidden in the results."""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path

import pytest

from tests.run.test_kill import Start, _hidden, _marked, _no_marked_process_left, _wait_until
from tests.run.test_kill import start as start  # the fixture  # noqa: PLC0414

ROOT = Path(__file__).resolve().parents[3]
LECTURE = ROOT / "scenarios" / "live_lecture.yaml"
PEERS = 4
"""The supervisor, the sender, the relay and one receiver."""


def _live(start: Start, out: Path, duration: str) -> object:
    return start(["live", str(LECTURE), "--duration", duration, "--receivers", "1",
                  "--size", "192x144", "--no-plots", "-q", "--out", str(out)])


def _temp_folders(pid: int) -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob(f"edgestream-live-{pid}-*"))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_kill_live_leaves_no_peer_and_the_next_run_cleans(
        start: Start, tmp_path: Path, sig: int) -> None:
    marker: str = start.marker  # type: ignore[attr-defined]
    live = _live(start, tmp_path, "60s")
    assert _wait_until(lambda: len(_marked(marker)) >= PEERS, 60), "the peers never started"
    time.sleep(2)  # streaming
    live.send_signal(sig)  # type: ignore[attr-defined]
    code = live.wait(timeout=30)  # type: ignore[attr-defined]
    assert code == (130 if sig == signal.SIGTERM else -signal.SIGKILL)
    _no_marked_process_left(start)
    follow = _live(start, tmp_path, "2s")
    assert follow.wait(timeout=120) == 0  # type: ignore[attr-defined]
    assert _temp_folders(live.pid) == []  # type: ignore[attr-defined]
    assert _hidden(tmp_path) == []
    assert not [p for p in tmp_path.rglob("*") if p.is_dir() and p.name.startswith("live-")
                and not (p / "summary.json").is_file()]
