"""Progress lines when stdout is a pipe (a CI log): every 10% or every 30 s of wall time."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from sim.cli.progress_log import ProgressLog

ROOT = Path(__file__).resolve().parents[2]


def test_run_to_a_pipe_prints_progress_before_the_results(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT)}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "run", str(ROOT / "scenarios/ci/pass.yaml"),
         "--out", str(tmp_path), "--no-plots", "--no-tables"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    progress = [i for i, line in enumerate(lines) if "% of simulated time" in line]
    assert [lines[i].split(":")[1].split()[0] for i in progress] == [
        f"{p}%" for p in range(10, 101, 10)]
    table = next(i for i, line in enumerate(lines) if "run seed" in line)
    assert max(progress) < table, "progress comes before the results, not after"


def test_a_line_every_30_s_of_wall_time_when_the_work_is_slow() -> None:
    buffer = io.StringIO()
    now = [0.0]
    log = ProgressLog(Console(file=buffer, width=80), "s", 100.0, "simulated time",
                      clock=lambda: now[0])
    for done, wall in ((1, 10), (2, 31), (3, 40), (10, 45), (11, 50), (12, 76), (100, 80)):
        now[0] = wall
        log(done)
    shown = [line.split(": ")[1].split("%")[0] for line in buffer.getvalue().splitlines()]
    # 2% at 31 s (30 s since the start), 10% (a step), 12% at 76 s (31 s after 10%), 100%.
    assert shown == ["2", "10", "12", "100"]
