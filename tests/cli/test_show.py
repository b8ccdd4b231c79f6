"""`show`: a finished run's and sweep's tables and verdicts, without simulating."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_show_a_run_folder_reprints_summary_and_verdicts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = ROOT / "scenarios" / "ci" / "fail.yaml"
    main(["check", str(scenario), "--out", str(tmp_path), "--no-plots", "--no-tables", "-q"])
    checked = capsys.readouterr().out
    folder = next(p for p in (tmp_path).glob("*/*") if (p / "summary.json").is_file())
    assert main(["show", str(folder)]) == 0
    shown = capsys.readouterr().out
    summary = json.loads((folder / "summary.json").read_text())
    assert "FAIL" in shown and "PASS" in shown
    # The verdict rows are those check printed (its title names the file, show's the folder).
    verdict_rows = [line for line in checked.splitlines() if "PASS" in line or "FAIL" in line]
    for row in verdict_rows:
        assert row in shown
    assert summary["scenario"] in shown or folder.name in shown


def test_show_a_sweep_folder_judges_each_point(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    base = ROOT / "scenarios" / "ci" / "pass.yaml"
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"name: s\nbase: {base}\nparameters:\n"
                     "  - {path: 'nodes[mec1].compute.servers', values: [1, 2]}\n"
                     "replications: 2\nset: ['duration=2 s', 'warmup=0.5 s']\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out"), "-q"]) == 0
    capsys.readouterr()
    assert main(["show", str(tmp_path / "out" / "sweeps" / "s")]) == 0
    out = capsys.readouterr().out
    assert "point 0 (nodes[mec1].compute.servers=1): 2 of 2 runs" in out
    assert "point 1 (nodes[mec1].compute.servers=2): 2 of 2 runs" in out
    assert "over 2 replications" in out
    assert "4 of 4 runs finished" in out


def test_show_refuses_a_folder_that_is_neither(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{tmp_path}: not a run folder")
