"""Plots: drawn headless, one line per class or series, small and deterministic."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.figure import Figure

from sim.plots.figure import (
    CDF_POINTS,
    MAX_SERIES,
    groups_of,
    latency_cdf,
    link_utilisation,
    site_queues,
    write_plots,
)
from sim.run.builder import Run, RunOutput
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def short_scenario(duration: float = 8.0) -> Scenario:
    with (ROOT / "scenarios" / "default.yaml").open() as fh:
        scn = Scenario.model_validate(yaml.safe_load(fh))
    return scn.model_copy(update={"duration": duration, "warmup": 2.0})


@pytest.fixture(scope="module")
def output() -> RunOutput:
    return Run(short_scenario()).execute()


def synthetic(latency_s: np.ndarray, workloads: np.ndarray) -> RunOutput:
    n = len(latency_s)
    tables = {"requests": {"workload": workloads, "t_send": np.linspace(5.0, 7.0, n),
                           "latency": latency_s}}
    return RunOutput(short_scenario(), "synthetic", tables, {})


def test_write_plots_gives_pngs(output: RunOutput, tmp_path: Path) -> None:
    paths = write_plots(output, tmp_path / "plots")
    # The default scenario has cells and streams, so the radio and stream plots come too.
    assert [p.name for p in paths] == ["latency_cdf.png", "link_utilisation.png",
                                       "site_queues.png", "sinr_map.png", "cell_load.png",
                                       "playback.png", "qoe.png", "frame_latency_cdf.png",
                                       "deadline_misses.png"]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 5000
        assert b"Matplotlib" not in data  # no version stamp: bytes depend on the data


def test_pngs_are_deterministic(output: RunOutput, tmp_path: Path) -> None:
    first = write_plots(output, tmp_path / "a")
    second = write_plots(output, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_latency_cdf_one_line_per_workload(output: RunOutput) -> None:
    fig = latency_cdf(output)
    ax = fig.axes[0]
    labels = [str(line.get_label()) for line in ax.get_lines()]
    assert [label.split(" ")[0] for label in labels] == ["recommend", "catalogue"]
    assert "ms" in ax.get_xlabel()
    assert ax.get_legend() is not None
    assert ax.get_title()
    # The lines count the requests of the summary: those sent after the warm-up.
    for name, label in zip(["recommend", "catalogue"], labels, strict=True):
        assert f"n={output.summary['requests'][name]['latency_s']['count']}" in label
    # x in ms: the largest x is the summary's max latency times 1000.
    top = max(float(np.max(line.get_xdata())) for line in ax.get_lines())
    worst = max(output.summary["requests"][n]["latency_s"]["max"] for n in ("recommend",
                                                                           "catalogue"))
    assert top == pytest.approx(worst * 1e3)


def test_latency_cdf_downsamples_and_is_fast() -> None:
    rng = np.random.default_rng(3)
    n = 600_000
    kinds = np.array(["a", "b"], dtype=object)[rng.integers(0, 2, n)]
    started = time.perf_counter()
    fig = latency_cdf(synthetic(rng.lognormal(-4.0, 0.3, n), kinds))
    fig.canvas.draw()
    assert time.perf_counter() - started < 3.0
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    for line in lines:
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert len(x) <= CDF_POINTS
        assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)
        assert y[-1] == pytest.approx(1.0)


def test_latency_cdf_log_scale_only_for_wide_ranges() -> None:
    kinds = np.full(1000, "x", dtype=object)
    narrow = latency_cdf(synthetic(np.linspace(0.01, 0.5, 1000), kinds))
    wide = latency_cdf(synthetic(np.geomspace(0.001, 2.0, 1000), kinds))
    assert narrow.axes[0].get_xscale() == "linear"
    assert wide.axes[0].get_xscale() == "log"


def test_latency_cdf_skips_incomplete_requests() -> None:
    latency = np.array([0.01, np.nan, 0.02, np.nan])
    fig = latency_cdf(synthetic(latency, np.full(4, "x", dtype=object)))
    (line,) = fig.axes[0].get_lines()
    assert np.asarray(line.get_xdata()).tolist() == pytest.approx([10.0, 20.0])


def test_link_utilisation(output: RunOutput) -> None:
    fig = link_utilisation(output)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert 0 < len(lines) <= MAX_SERIES
    assert "%" in ax.get_ylabel() and "(s)" in ax.get_xlabel()
    table = output.tables["link_series"]
    busiest = max(float(np.max(line.get_ydata())) for line in lines)
    assert busiest == pytest.approx(float(np.max(table["utilisation"])) * 100)
    # The last bin is drawn up to the end of the run.
    assert max(float(np.max(line.get_xdata())) for line in lines) == pytest.approx(8.0)
    assert fig.legends  # outside the axes, so it never hides a line


def test_site_queues(output: RunOutput) -> None:
    fig = site_queues(output)
    labels = sorted(str(line.get_label()).split(" ")[0] for line in fig.axes[0].get_lines())
    assert labels == sorted(output.summary["sites"])
    assert "jobs" in fig.axes[0].get_ylabel()


def test_empty_run_draws_placeholders(tmp_path: Path) -> None:
    empty = RunOutput(short_scenario(), "empty", {}, {})
    for build in (latency_cdf, link_utilisation, site_queues):
        fig = build(empty)
        assert isinstance(fig, Figure)
        assert any("no " in t.get_text() for t in fig.axes[0].texts)
    assert all(p.stat().st_size > 0 for p in write_plots(empty, tmp_path))


def test_groups_of_keeps_first_appearance_order() -> None:
    groups = groups_of(np.array(["b", "a", "b", "c"], dtype=object))
    assert [(label, list(rows)) for label, rows in groups] == [
        ("b", [0, 2]), ("a", [1]), ("c", [3])]
    assert groups_of(np.array([], dtype=object)) == []


def test_import_leaves_pyplot_alone() -> None:
    code = ("import sys, matplotlib; before = matplotlib.get_backend(); import sim.plots.figure; "
            "assert 'matplotlib.pyplot' not in sys.modules; "
            "assert matplotlib.get_backend() == before")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})
