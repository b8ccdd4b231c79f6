"""Temporary folders of live supervisors killed with -9 are removed by the next live run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

supervisor = pytest.importorskip("streaming.webrtc.supervisor")


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_folders_of_dead_supervisors_are_removed(tmp_path: Path) -> None:
    prefix = supervisor.TEMP_PREFIX
    dead = tmp_path / f"{prefix}{_dead_pid()}-abc123"
    (dead / "peer").mkdir(parents=True)
    alive = tmp_path / f"{prefix}{os.getppid()}-def456"
    alive.mkdir()
    ours = tmp_path / f"{prefix}{os.getpid()}-ghi789"
    ours.mkdir()
    legacy = tmp_path / f"{prefix}xyz"  # no pid in the name: not ours to judge
    legacy.mkdir()
    assert supervisor.remove_stale_temp(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (alive, ours, legacy))
