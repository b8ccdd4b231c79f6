"""The radio access glue: coverage, full-buffer clients, update timing, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from test_radio_integration import full_buffer_run, radio_scenario

from sim.cli.main import main
from sim.radio.ran import cells_of
from sim.radio.schema import RadioSpec
from sim.run.builder import Run


def test_out_of_coverage_ue_gets_no_time() -> None:
    for scheduler in ("round_robin", "proportional_fair"):
        scn = radio_scenario(
            [{"name": "c0", "position": [0, 0], "tx_power": "10 dBm"}],
            {"placement": {"kind": "explicit", "positions": [[20, 0], [50_000, 0]]},
             "full_buffer": True}, count=2, duration=5.0, scheduler=scheduler,
            update_interval="100 ms")
        run = Run(scn)
        run.execute()
        assert run.radio is not None
        assert run.radio.ran.peak_dl[1] == 0.0  # CQI 0 far away
        served = run.radio.dl.served_total / 5.0
        assert served[0] == pytest.approx(run.radio.ran.peak_dl[0], rel=1e-9)
        assert served[1] == 0.0


def test_full_buffer_ues_can_also_be_workload_clients() -> None:
    scn = radio_scenario([{"name": "c0", "position": [0, 0]}],
                         {"placement": {"kind": "explicit", "positions": [[30, 0], [60, 0]]},
                          "full_buffer": True}, count=2, duration=5.0)
    data: dict[str, Any] = scn.model_dump(mode="json", by_alias=True)
    data["nodes"][1] = {"name": "srv", "kind": "mec", "compute": {
        "servers": 2, "service": {"ask": {"dist": "deterministic", "value": "1 ms"}}}}
    data["workloads"] = [{"name": "ask", "kind": "request_response", "clients": ["ues"],
                          "arrivals": {"process": "poisson", "rate": "5 /s"},
                          "request_size": "1 kB", "response_size": "10 kB", "serve": "srv"}]
    out = Run(type(scn).model_validate(data)).execute()
    section = out.summary["requests"]["ask"]
    assert section["sent"] > 20
    assert section["completed"] >= section["sent"] - 2


def test_updates_and_samples_fall_on_exact_multiples() -> None:
    run = full_buffer_run("round_robin", duration=12.0)
    assert run.radio is not None
    times = np.unique(run.radio.tables()["cell_series"]["t"])
    assert np.array_equal(times, np.arange(len(times)) * 0.1)
    samples = np.unique(run.radio.tables()["ue_radio"]["t"])
    assert np.array_equal(samples, [0.0, 10.0])


def test_cell_height_defaults_to_the_deployment_s() -> None:
    spec = RadioSpec.model_validate({"cells": [
        {"name": "a", "position": [0, 0], "deployment": "UMi"},
        {"name": "b", "position": [0, 0], "deployment": "UMa"},
        {"name": "c", "position": [0, 0], "deployment": "RMa", "height": "40 m"}]})
    assert cells_of(spec).height.tolist() == [10.0, 25.0, 40.0]


def test_random_waypoint_start_outside_its_area_is_a_located_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "scenarios" / "campus_5g.yaml").read_text())
    data["nodes"][4]["radio"]["mobility"]["area"] = [-100, -100, 100, 100]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:" in err and "nodes[4].radio.mobility.area" in err
    assert "not all inside this area" in err
    assert "Traceback" not in err
