"""A third-party workload and ABR policy, registered through entry points only, run
from YAML like built-in ones (issue 15: selectable names come from the registries)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SITE = HERE / "site"
"""The plug-in's package and its dist-info (entry points), as an installed distribution
would lay them out. Not on the test process's path: only the runs below see it."""


def _edgestream(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`run_sim.py` with the demo plug-in installed (its folder on the path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SITE), str(ROOT)])}
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_plugin_workload_and_abr_run_from_yaml(tmp_path: Path) -> None:
    done = _edgestream("run", str(HERE / "demo.yaml"), "--out", str(tmp_path), "--quiet",
                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (summary_file,) = tmp_path.glob("plugin-demo/*/summary.json")
    summary = json.loads(summary_file.read_text())
    # Ping round trip over uncongested links: propagation both ways (2 ms access +
    # 10 ms backhaul, each way) plus 100 B at the 50 Mbit/s access bottleneck, twice.
    rtt = 2 * (0.002 + 0.010) + 2 * 100 * 8 / 50e6
    pings = summary["pings"]["echo"]
    assert pings["pings"] == 4 * 18  # 4 users, a ping every 0.5 s in the 9 s window
    assert pings["rtt_s"]["mean"] == pytest.approx(rtt, rel=1e-9)
    assert pings["rtt_s"]["max"] == pytest.approx(rtt, rel=1e-9)
    # `lowest` keeps every segment at the lowest level of the ladder.
    assert summary["sessions"]["lecture"]["average_bitrate_bps"] == pytest.approx(1e6)
    assert (summary_file.parent / "tables" / "pings.parquet").is_file()


def test_unknown_plugin_names_are_located_errors(tmp_path: Path) -> None:
    text = (HERE / "demo.yaml").read_text().replace("kind: ping", "kind: pong").replace(
        "{name: lowest}", "{name: lowst}")
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    done = _edgestream("validate", str(scenario), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "Traceback" not in out
    assert "bad.yaml:" in out and "pong" in out and "ping" in out  # the known kinds listed
    assert "lowst" in out and "did you mean 'lowest'" in out
