"""The committed corpus of hostile inputs (``hostile/``), each in a real process:
exit 0 or 2, never 3, no traceback, within 10 s and 500 MB peak RSS (issue 14).

Peak RSS is the kernel's ``ru_maxrss`` of the waited-for children, which is the
maximum over them all: any case over the bound fails the check after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_measured

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).resolve().parent / "hostile"
PASS = ROOT / "scenarios" / "ci" / "pass.yaml"
MAX_S = 10.0
MAX_RSS_KIB = 500 * 1024
BOMB = ("[&a [1, 1, 1, 1, 1, 1, 1, 1, 1], "
        + ", ".join(f"&{c} [{', '.join([f'*{p}'] * 9)}]"
                    for p, c in zip("abcdefg", "bcdefgh", strict=True))
        + "]")


def _cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    done, peak = run_measured([sys.executable, "run_sim.py", *args], timeout=60, cwd=ROOT,
                              stdin=subprocess.DEVNULL,
                              env={**os.environ, "TMPDIR": str(tmp_path)})
    elapsed = time.perf_counter() - started
    assert done.returncode in (0, 2), done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "internal error" not in done.stderr
    assert len(done.stderr) < 20_000, "messages must stay short"
    assert elapsed < MAX_S, f"{elapsed:.1f} s"
    assert peak < MAX_RSS_KIB, f"peak RSS {peak / 1024:.0f} MB"
    return done


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.yaml")), ids=lambda p: p.stem)
def test_hostile_file(path: Path, tmp_path: Path) -> None:
    assert _cli(["validate", str(path)], tmp_path).returncode == 2
    out = tmp_path / "results"
    assert _cli(["run", str(path), "-q", "--no-plots", "--out", str(out)],
                tmp_path).returncode == 2
    assert not out.exists() or not any(out.rglob("*"))


@pytest.mark.parametrize("args", [
    ["validate", str(PASS), "--set", f"duration={BOMB}"],
    ["run", str(PASS), "--seed", str(10**300)],
    ["run", str(PASS), "--set", f"seed={10**300}"],
    ["run", str(PASS), "--out", str(PASS)],
    ["run", str(PASS), "--duration", "5 s", "--set", "duration=3 s"],
    ["validate", "/dev/zero"],
    ["validate", str(HOSTILE)],
    ["sweep", str(HOSTILE / "sweeps" / "huge_replications.yaml"), "--dry-run"],
    ["sweep", str(HOSTILE / "sweeps" / "huge_grid.yaml"), "--dry-run"],
], ids=["set-alias-bomb", "huge-seed-flag", "huge-seed-set", "out-is-a-file",
        "duration-twice", "dev-zero", "directory", "sweep-1e9-replications",
        "sweep-1e6-points"])
def test_hostile_arguments(args: list[str], tmp_path: Path) -> None:
    assert _cli([*args], tmp_path).returncode == 2
