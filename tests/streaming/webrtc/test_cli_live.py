"""The `live` and `calibrate` commands: bad input is refused before any process
starts, and calibrate writes its comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from test_live_relay import two_class_scenario

from sim.cli.main import main


def test_a_scenario_without_a_live_class_is_refused_with_its_location(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", str(ROOT / "scenarios" / "vr_classroom.yaml")]) == 2
    err = capsys.readouterr().err
    assert "vr_classroom.yaml" in err and "workloads: no live_class workload" in err
    assert "Traceback" not in err


def test_more_receivers_than_students_are_refused_with_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = two_class_scenario(tmp_path / "two.yaml")
    assert main(["live", str(scenario), "--receivers", "3"]) == 2
    err = capsys.readouterr().err
    assert "two.yaml:" in err and "3 receivers asked for; the student groups have 2" in err


@pytest.mark.parametrize("option", [["--receivers", "0"], ["--duration", "soon"],
                                    ["--size", "100x100"]])
def test_bad_options_are_refused(option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", str(ROOT / "scenarios" / "live_lecture.yaml"), *option]) == 2
    assert "error:" in capsys.readouterr().err


def test_calibrate_compares_the_same_receivers_and_writes_its_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = two_class_scenario(tmp_path / "s.yaml", far_delay="30 ms")
    code = main(["calibrate", str(scenario), "--duration", "4 s", "--out", str(tmp_path),
                 "--no-plots", "--size", "192x144"])
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert "p50 gap (simulated vs live)" in out and "simulated + receive hold" not in out
    folder = next(tmp_path.glob("two_students/calibrate-live-*"))
    report = json.loads((folder / "calibration.json").read_text())
    assert report["settings"]["receivers"] == ["near[0]", "far[0]"]
    assert report["receive_hold_s"] == pytest.approx(2 / 30)
    assert report["receive_modelled"] is False  # the scenario has no jitter buffer
    assert "no jitter buffer" in out
    assert report["frames"]["live"] >= 0.9 * 2 * 4 * 30
    assert report["passed"] == (code == 0)
    assert (folder / "frame_latency_cdf.png").stat().st_size > 10_000


def test_the_gap_compares_capture_to_display_with_nothing_added() -> None:
    from streaming.webrtc.calibration import Calibration

    sim, live = np.array([0.080, 0.090, 0.100]), np.array([0.095, 0.100, 0.105])
    result = Calibration("s", "w", 2 / 30, sim, live, {"simulated": 0.0, "live": 0.0},
                         True, {"a[0]": (sim, live)})
    assert result.gap == pytest.approx(0.090 / 0.100 - 1)  # the 67 ms hold is not added
    rows = dict((q, (s, v)) for q, s, v in result.rows())
    assert rows["a[0] p50"] == ("90.0 ms", "100.0 ms")
    assert result.as_dict()["receivers"]["a[0]"]["live"]["p50"] == pytest.approx(0.100)
