"""Bad input exits 2 before the run, never 3 after it (issue 14).

Each case here used to simulate the whole scenario and then fail with an internal
error (exit 3): a results root that cannot be written, a seed too large for the
results folder name, a lognormal whose spread overflows, a full disk.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import sim.run.results
from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PASS = str(ROOT / "scenarios" / "ci" / "pass.yaml")
SWEEP = str(ROOT / "scenarios" / "sweeps" / "users_latency.yaml")


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, err


def _unwritable(tmp_path: Path) -> Path:
    """A directory no one can create files in: /proc even for root, else a chmod 555."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    return folder


@pytest.mark.parametrize("command", ["run", "check", "sweep"])
@pytest.mark.parametrize("case", ["a-file", "read-only", "inside-a-file"])
def test_unusable_out_is_refused_before_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, case: str) -> None:
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    out = {"a-file": a_file, "read-only": _unwritable(tmp_path) / "results",
           "inside-a-file": a_file / "results"}[case]
    target = SWEEP if command == "sweep" else PASS
    code, err = cli([command, target, "--out", str(out), "-q"], capsys)
    assert code == 2, err
    assert f"--out {out}" in err and ("not a directory" in err or "not writable" in err)
    assert "nothing was run" in err


def test_full_disk_at_write_time_is_exit_2_without_leftovers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sim.run.results, "_write_parquet", full)
    code, err = cli(["run", PASS, "--out", str(tmp_path), "-q", "--no-plots"], capsys)
    assert code == 2 and "No space left on device" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seed", ["-1", str(2**63), str(10**300), "3.5"])
def test_seed_out_of_range_names_the_flag(capsys: pytest.CaptureFixture[str], seed: str) -> None:
    code, err = cli(["run", PASS, "--seed", seed], capsys)
    assert code == 2 and "argument --seed" in err


def test_seed_in_the_scenario_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(["validate", PASS, "--set", f"seed={10**300}"], capsys)
    assert code == 2 and "seed" in err and "less than" in err


def test_duration_errors_name_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(["run", PASS, "--duration", "5 parsecs"], capsys)
    assert code == 2 and err.startswith("--duration 5 parsecs: duration:")


def test_duration_flag_and_set_duration_together_are_an_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(["run", PASS, "--duration", "5 s", "--set", "duration=3 s"], capsys)
    assert code == 2 and "--duration and --set duration" in err


def test_lognormal_spread_that_would_overflow_is_located(
        capsys: pytest.CaptureFixture[str]) -> None:
    service = "{dist: lognormal, mean: 1 ms, sd: 1e300 s}"
    code, err = cli(["validate", PASS, "--set", f"nodes[mec1].compute.service.req={service}"],
                    capsys)
    assert code == 2 and "nodes[1].compute.service.req" in err
    assert "times the mean" in err


def test_plot_to_an_unwritable_out_says_it_cannot_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _unwritable(tmp_path) / "figures"
    code, err = cli(["plot", str(tmp_path), "--out", str(out)], capsys)
    assert code == 2 and "cannot write the figures" in err and "cannot read" not in err


def test_an_overloaded_site_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """mec1 (2 servers) offered 10 users x rate x 2 s of work per job: far over capacity."""
    slow = "{dist: exponential, mean: 2 s}"
    code, err = cli(["run", PASS, "-q", "--no-plots", "--out", str(tmp_path), "--set",
                     f"nodes[mec1].compute.service.req={slow}"], capsys)
    assert code == 0
    assert "warning: ci-pass: site mec1 was busy" in err
    summary = json.loads(next(tmp_path.rglob("summary.json")).read_text())
    assert any(w.startswith("site mec1 ") for w in summary["warnings"])


def test_a_run_within_capacity_has_no_warnings_key(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(["run", PASS, "-q", "--no-plots", "--out", str(tmp_path)], capsys)
    assert code == 0 and "warning" not in err
    assert "warnings" not in json.loads(next(tmp_path.rglob("summary.json")).read_text())
