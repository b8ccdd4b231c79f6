"""Warnings for valid scenarios that likely mean something else: lock-step starts, bare bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli.main import main
from sim.run.input_warnings import scenario_warnings
from sim.scenario.loader import load_scenario

SCENARIO = """\
name: warn
duration: 2 s
nodes:
  - name: mec1
    kind: mec
    compute: {servers: 2, service: {vr_render: {dist: deterministic, value: 5 ms}}}
  - {name: students, kind: users, count: 4, attach: mec1, access: {bandwidth: 100 Mbps}}
workloads:
  - name: vr
    kind: vr_lesson
    clients: [students]
    serve: mec1
qos:
  - {metric: frames.vr.latency_s.p95, max: 20}
  - {metric: frames.vr.latency_s.mean, max: 10 ms}
  - {metric: sites.mec1.utilisation, max: 0.8}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "warn.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_lock_step_and_bare_bounds_are_located_warnings(tmp_path: Path) -> None:
    path = _write(tmp_path, SCENARIO)
    lines = [p.format() for p in scenario_warnings(load_scenario(path))]
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:10:") and "lock-step" in lines[0]
    assert "4 sessions" in lines[0]
    # 20 on a latency is 20 s; "10 ms" and the fraction 0.8 need no warning.
    assert lines[1].startswith(f"{path}:14:") and "qos[0].max" in lines[1]
    assert "read as 20 s" in lines[1]


def test_spread_starts_and_single_sessions_do_not_warn(tmp_path: Path) -> None:
    spread = SCENARIO.replace("    serve: mec1\n", "    serve: mec1\n    start_spread: 17 ms\n")
    single = SCENARIO.replace("count: 4", "count: 1")
    for text in (spread, single):
        lines = [p.message for p in scenario_warnings(load_scenario(_write(tmp_path, text)))]
        assert not any("lock-step" in line for line in lines)


def test_validate_prints_warnings_but_does_not_fail(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, SCENARIO)
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert f"{path}: ok" in captured.out
    assert captured.err.count("warning:") == 2
