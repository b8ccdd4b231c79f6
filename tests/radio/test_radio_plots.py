"""Radio plots: SINR map and cell load, drawn for runs with cells and only for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.plots.figure import write_plots
from sim.radio.coverage import sinr_map
from sim.radio.plots import (
    MAX_CELLS,
    RADIO_PLOTS,
    cell_load_figure,
    run_cell_loads,
    sinr_map_figure,
)
from sim.radio.schema import RadioSpec
from sim.run.builder import Run, RunOutput
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CELLS = ["north", "south-west", "south-east"]


def campus(duration: float = 4.0) -> Scenario:
    with (ROOT / "scenarios" / "campus_5g.yaml").open() as fh:
        scn = Scenario.model_validate(yaml.safe_load(fh))
    return scn.model_copy(update={"duration": duration, "warmup": 1.0})


@pytest.fixture(scope="module")
def output() -> RunOutput:
    return Run(campus()).execute()


def test_write_plots_adds_the_radio_plots(output: RunOutput, tmp_path: Path) -> None:
    paths = write_plots(output, tmp_path / "plots")
    assert [p.name for p in paths] == ["latency_cdf.png", "link_utilisation.png",
                                       "site_queues.png", "sinr_map.png", "cell_load.png"]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 5000
        assert b"Matplotlib" not in data


def test_radio_pngs_are_deterministic(output: RunOutput, tmp_path: Path) -> None:
    first = write_plots(output, tmp_path / "a")
    second = write_plots(output, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_runs_without_a_cell_table_get_no_radio_plots(tmp_path: Path) -> None:
    out = RunOutput(campus(), "synthetic", {}, {})  # campus has cells, no table
    names = [p.name for p in write_plots(out, tmp_path)]
    assert not {f"{stem}.png" for stem in RADIO_PLOTS} & set(names)


def test_run_cell_loads_follow_the_cell_order(output: RunOutput) -> None:
    loads = run_cell_loads(output)
    assert loads is not None
    per_cell = output.summary["radio"]["per_cell"]
    assert loads.tolist() == [per_cell[name]["load"] for name in CELLS]
    reordered = RunOutput(output.scenario, output.run_id, output.tables,
                          {"radio": {"per_cell": dict(reversed(list(per_cell.items())))}})
    again = run_cell_loads(reordered)
    assert again is not None and np.array_equal(again, loads)
    assert run_cell_loads(RunOutput(output.scenario, "x", output.tables, {})) is None


def test_sinr_map_draws_the_coverage_map_at_the_run_loads(output: RunOutput) -> None:
    fig = RADIO_PLOTS["sinr_map"](output)
    ax = fig.axes[0]
    loads = run_cell_loads(output)
    cov = sinr_map(output.scenario, loads)
    mesh = ax.collections[0]
    assert np.array_equal(np.asarray(mesh.get_array()).reshape(cov.sinr_db.shape), cov.sinr_db)
    assert "mean cell loads" in ax.get_title()
    assert ax.get_xlabel() == "x (m)" and ax.get_ylabel() == "y (m)"
    assert ax.get_aspect() == 1.0
    assert fig.axes[1].get_ylabel() == "SINR (dB)"  # the colorbar
    assert sorted(t.get_text() for t in ax.texts) == sorted(CELLS)
    sites = ax.get_lines()[0]
    assert np.array_equal(np.column_stack([sites.get_xdata(), sites.get_ydata()]),
                          [[0, 150], [-130, -75], [130, -75]])
    assert ax.get_legend() is not None


def test_sinr_map_shows_sector_boresights_and_full_load_title() -> None:
    radio = RadioSpec.model_validate({"layout": {"rings": 0, "sectors": 3, "isd": 400.0}})
    scn = campus().model_copy(update={"radio": radio, "name": "one_site"})
    fig = sinr_map_figure(scn)
    ax = fig.axes[0]
    assert "full load" in ax.get_title()
    boresights = ax.get_lines()[1:]
    assert len(boresights) == 3
    cov = sinr_map(scn, max_points=21)
    for line, azimuth in zip(boresights, cov.azimuth, strict=True):
        dx = np.diff(line.get_xdata())[0]
        dy = np.diff(line.get_ydata())[0]
        assert np.degrees(np.arctan2(dy, dx)) % 360.0 == pytest.approx(azimuth)


def test_cell_load_has_one_line_per_cell(output: RunOutput) -> None:
    fig = RADIO_PLOTS["cell_load"](output)
    top, bottom = fig.axes[:2]
    table = output.tables["cell_series"]
    assert [str(line.get_label()).split(" ")[0] for line in top.get_lines()] == CELLS
    assert [str(line.get_label()) for line in bottom.get_lines()] == CELLS
    for name, load_line, dl_line in zip(CELLS, top.get_lines(), bottom.get_lines(),
                                        strict=True):
        rows = np.asarray(table["cell"]) == name
        load_y = np.asarray(load_line.get_ydata(), dtype=float)
        dl_y = np.asarray(dl_line.get_ydata(), dtype=float)
        assert np.array_equal(load_y[:-1], table["load"][rows])
        assert np.allclose(dl_y[:-1], table["allocated_dl_bps"][rows] / 1e6)
        assert np.asarray(load_line.get_xdata())[-1] == output.scenario.duration
    assert "busy" in top.get_ylabel() and "Mbps" in bottom.get_ylabel()
    assert "(s)" in bottom.get_xlabel()
    assert "busiest" not in top.get_title()
    assert fig.legends


def test_cell_load_keeps_the_busiest_cells() -> None:
    n_cells, steps = MAX_CELLS + 3, 5
    names = np.asarray([f"c{k:02d}" for k in range(n_cells)], dtype=object)
    level = np.linspace(0.05, 0.95, n_cells)[::-1].copy()
    level[[0, 4]] = level[[4, 0]]  # busiest not first in table order
    table = {"t": np.repeat(np.arange(steps) * 0.2, n_cells),
             "cell": np.tile(names, steps),
             "load": np.tile(level, steps),
             "active_ues": np.ones(n_cells * steps, dtype=np.int64),
             "allocated_dl_bps": np.tile(level * 1e8, steps),
             "allocated_ul_bps": np.zeros(n_cells * steps)}
    fig = cell_load_figure({"cell_series": table}, name="big")
    top = fig.axes[0]
    shown = [str(line.get_label()).split(" ")[0] for line in top.get_lines()]
    busiest = sorted(names[np.argsort(-level)[:MAX_CELLS]].tolist())
    assert sorted(shown) == busiest and len(shown) == MAX_CELLS
    assert f"{MAX_CELLS} busiest of {n_cells}" in top.get_title()


def test_cell_load_without_cells_says_so() -> None:
    fig = cell_load_figure({}, name="none")
    assert any("no radio cells" in t.get_text() for t in fig.axes[0].texts)
