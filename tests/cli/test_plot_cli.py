"""`plot`: sweep figures with CI bands and run-folder figures, checked on their data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from matplotlib.collections import PolyCollection

from sim.cli.main import main
from sim.plots.runs import (
    latency_cdfs,
    layered_layout,
    throughput_series,
    topology_graph,
    utilisation_matrix,
)
from sim.plots.sweep import band_data, metric_axis, metric_vs_parameter, read_sweep
from sim.run.builder import Run
from sim.run.results import read_summary, write_run
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
PARAM = "nodes[users].count"
METRIC = "requests.req.latency_s.mean"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two runs (seeds 1 and 2) of scenarios/ci/pass.yaml, written without plots."""
    root = tmp_path_factory.mktemp("results")
    scenario = load_scenario(ROOT / "scenarios" / "ci" / "pass.yaml").scenario
    return [write_run(Run(scenario.model_copy(update={"seed": s})).execute(), root, plots=False)
            for s in (1, 2)]


def make_sweep(folder: Path, parameters: dict[str, list[object]], n: list[int],
               run_folders: Sequence[Path] = ()) -> Path:
    """A sweep folder with the schema of `run_sim.py sweep`: points, runs, sweep.json."""
    folder.mkdir(parents=True)
    points = len(n)
    rng = np.random.default_rng(0)
    rows: dict[str, list[object]] = {"point": [], **{p: [] for p in parameters},
                                     "metric": [], "n": [], "mean": [], "ci95_low": [],
                                     "ci95_high": []}
    for metric, scale in ((METRIC, 0.01), ("sites.mec1.utilisation", 0.1)):
        for i in range(points):
            mean = scale * (1 + i)
            half = scale * 0.2 if n[i] > 1 else None
            rows["point"].append(i)
            for p, values in parameters.items():
                rows[p].append(values[i])
            rows["metric"].append(metric)
            rows["n"].append(n[i])
            rows["mean"].append(mean + rng.normal(0, scale * 0.01))
            rows["ci95_low"].append(None if half is None else mean - half)
            rows["ci95_high"].append(None if half is None else mean + half)
    pq.write_table(pa.table(rows), folder / "points.parquet")
    pq.write_table(pa.table({"run_id": ["r"], "seed": [1], "scenario": ["s"],
                             "replication": [0], "point": [0], "metric": [METRIC],
                             "value": [0.01]}), folder / "runs.parquet")
    # As sim.sweep.tables writes it: run folders relative to the sweep folder.
    manifest = {"name": folder.name,
                "parameters": [{"name": p, "paths": [p], "values": v}
                               for p, v in parameters.items()],
                "runs": [{"point": i, "replication": r, "folder": os.path.relpath(f, folder),
                          "params": {p: v[i] for p, v in parameters.items()}}
                         for i, f in enumerate(run_folders) for r in (0, 1)]}
    (folder / "sweep.json").write_text(json.dumps(manifest))
    return folder


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# ------------------------------------------------------------------ sweep data


def test_band_data_has_the_ci_around_the_mean(tmp_path: Path) -> None:
    sweep = read_sweep(make_sweep(tmp_path / "users", {PARAM: [100, 20, 50, 10]},
                                  n=[5, 5, 1, 5]))
    assert sweep.parameters == [PARAM] and sweep.name == "users"
    (band,) = band_data(sweep.points, METRIC, PARAM)
    assert band.x.tolist() == [10, 20, 50, 100]  # sorted by the parameter
    replicated = band.n > 1
    assert replicated.tolist() == [True, True, False, True]
    assert np.all(band.low[replicated] <= band.mean[replicated])
    assert np.all(band.mean[replicated] <= band.high[replicated])
    assert np.all(band.low[replicated] < band.high[replicated])
    assert np.isnan(band.low[~replicated]).all() and np.isnan(band.high[~replicated]).all()


def test_figure_draws_the_band(tmp_path: Path) -> None:
    sweep = read_sweep(make_sweep(tmp_path / "users", {PARAM: [10, 20, 50]}, n=[3, 3, 3]))
    fig = metric_vs_parameter(sweep.points, METRIC, PARAM)
    (ax,) = fig.axes
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    (band,) = band_data(sweep.points, METRIC, PARAM)
    drawn_y = np.asarray(bands[0].get_paths()[0].vertices, dtype=float)[:, 1]
    assert drawn_y.min() == pytest.approx(band.low.min() * 1e3)  # drawn in ms
    assert drawn_y.max() == pytest.approx(band.high.max() * 1e3)
    assert ax.get_ylabel() == "req: mean latency (ms)" and ax.get_xlabel() == PARAM
    legend = ax.get_legend()
    assert legend is not None
    assert "95% CI of the mean" in [t.get_text() for t in legend.get_texts()]


def test_two_parameters_give_one_curve_each(tmp_path: Path) -> None:
    sweep = read_sweep(make_sweep(tmp_path / "grid", {
        PARAM: [10, 20, 10, 20], "links[0].bandwidth": ["100 Mbps", "100 Mbps", "1 Gbps",
                                                        "1 Gbps"]}, n=[2, 2, 2, 2]))
    bands = band_data(sweep.points, METRIC, PARAM)
    assert [b.label for b in bands] == ["links[0].bandwidth=100 Mbps",
                                        "links[0].bandwidth=1 Gbps"]
    (by_rate, *_) = band_data(sweep.points, METRIC, "links[0].bandwidth")
    assert by_rate.x_unit == "Mbit/s" and by_rate.x.tolist() == [1e8, 1e9]
    with pytest.raises(KeyError, match="not a swept parameter"):
        band_data(sweep.points, METRIC, "metric")


def test_categorical_parameter(tmp_path: Path) -> None:
    sweep = read_sweep(make_sweep(tmp_path / "policy", {"cache.policy": ["lru", "lfu", "top"]},
                                  n=[2, 2, 2]))
    (band,) = band_data(sweep.points, METRIC, "cache.policy")
    assert band.ticks == ("lru", "lfu", "top") and band.x.tolist() == [0, 1, 2]
    ax = metric_vs_parameter(sweep.points, METRIC, "cache.policy").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lru", "lfu", "top"]


def test_metric_axis_units() -> None:
    assert metric_axis("requests.r.latency_s.p95") == (1e3, "r: 95th percentile latency (ms)")
    assert metric_axis("sites.m.utilisation") == (100.0, "m: utilisation (%)")
    assert metric_axis("links.a->b.bytes")[1].endswith("(MB)")
    assert metric_axis("requests.r.throughput_per_s")[1].endswith("(1/s)")


# ------------------------------------------------------------------ run data


def test_cdf_data_agrees_with_the_summary(runs: list[Path]) -> None:
    curves = latency_cdfs(runs)
    assert [c.label for c in curves] == [f"ci-pass/{f.name}" for f in runs]
    for curve, folder in zip(curves, runs, strict=True):
        latency = read_summary(folder)["requests"]["req"]["latency_s"]
        assert curve.requests == latency["count"] == len(curve.x)
        assert np.percentile(curve.x, 95) == pytest.approx(latency["p95"])
        assert curve.y[-1] == 1.0 and np.all(np.diff(curve.x) >= 0)


def test_throughput_counts_every_completed_request(runs: list[Path]) -> None:
    series = throughput_series(runs[0])
    (edges, rate) = series["req"]
    assert edges[0] == 0.0 and edges[-1] == pytest.approx(5.0)
    assert np.diff(edges) == pytest.approx(0.5)  # the scenario's sample interval
    table = pq.read_table(runs[0] / "tables" / "requests.parquet").to_pandas()
    assert np.sum(rate * np.diff(edges)) == pytest.approx(table["t_response"].notna().sum())


def test_heatmap_matrix_is_the_summary_utilisation(runs: list[Path]) -> None:
    rows, columns, matrix = utilisation_matrix(runs, ["a", "b"])
    assert rows == ["site cloud", "site mec1"] and columns == ["a", "b"]
    for j, folder in enumerate(runs):
        sites = read_summary(folder)["sites"]
        assert matrix[:, j].tolist() == [sites["cloud"]["utilisation"],
                                         sites["mec1"]["utilisation"]]


def test_topology_edges_carry_the_busier_direction(runs: list[Path]) -> None:
    graph = topology_graph(runs[0])
    summary = read_summary(runs[0])
    assert set(graph.nodes) == {"cloud", "mec1", "users"}
    assert graph.nodes["users"]["count"] == 10
    link = graph.edges["mec1", "cloud"]["utilisation"]
    assert link == max(summary["links"]["mec1->cloud"]["utilisation"],
                       summary["links"]["cloud->mec1"]["utilisation"])
    access = graph.edges["users", "mec1"]["utilisation"]
    assert access == max(summary["access"]["users.uplink"]["utilisation_mean"],
                         summary["access"]["users.downlink"]["utilisation_mean"])
    pos = layered_layout(graph)
    assert pos["cloud"][1] > pos["mec1"][1] > pos["users"][1]


# ------------------------------------------------------------------------ CLI


def test_plot_runs_writes_every_figure(runs: list[Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figs"
    code, stdout, _ = run_cli(["plot", *map(str, runs), "--out", str(out)], capsys)
    assert code == 0
    printed = [Path(line) for line in stdout.splitlines()]
    names = {p.name for p in printed}
    assert {"latency_cdf_overlay.png", "utilisation_heatmap.png",
            f"ci-pass-{runs[0].name}-time_series.png",
            f"ci-pass-{runs[1].name}-topology.png"} <= names
    assert len(printed) == 2 + 2 * len(runs)
    for path in printed:
        assert path.read_bytes().startswith(PNG)


def test_plot_sweep_with_band_png_and_svg(runs: list[Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    sweep = make_sweep(tmp_path / "users_latency", {PARAM: [10, 20, 40]}, n=[3, 3, 3],
                       run_folders=runs)
    out = tmp_path / "figs"
    code, stdout, _ = run_cli(["plot", str(sweep), "--out", str(out), "--format", "both"],
                              capsys)
    assert code == 0
    printed = stdout.split()
    stem = f"users_latency-{METRIC}-vs-nodes_users_.count"
    assert str(out / f"{stem}.png") in printed and str(out / f"{stem}.svg") in printed
    assert (out / f"{stem}.png").read_bytes().startswith(PNG)
    assert (out / f"{stem}.svg").read_text().lstrip().startswith("<?xml")
    assert str(out / "users_latency-latency_cdf_overlay.png") in printed  # its runs too
    assert [label for _, label in read_sweep(sweep).point_runs()] == [f"{PARAM}=10",
                                                                     f"{PARAM}=20"]
    code, stdout, _ = run_cli(["plot", str(sweep), "--out", str(out), "--metric",
                               "sites.mec1.utilisation", "--format", "svg"], capsys)
    assert code == 0
    assert f"{out}/users_latency-sites.mec1.utilisation-vs-nodes_users_.count.svg" in stdout


def test_figures_are_byte_identical(runs: list[Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        assert run_cli(["plot", str(runs[0]), "--out", str(tmp_path / name), "--format",
                        "both"], capsys)[0] == 0
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_folder_of_runs_and_runs_without_tables(runs: list[Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(["plot", str(runs[0].parent), "--out", str(tmp_path)], capsys)
    assert code == 0 and len(stdout.splitlines()) == 2 + 2 * len(runs)
    scenario = load_scenario(ROOT / "scenarios" / "ci" / "pass.yaml").scenario
    bare = write_run(Run(scenario).execute(), tmp_path / "bare", tables=False, plots=False)
    assert latency_cdfs([bare]) == [] and throughput_series(bare) == {}
    assert run_cli(["plot", str(bare), "--out", str(tmp_path / "bare-figs")], capsys)[0] == 0


@pytest.mark.parametrize(("args", "message"), [
    (["absent"], "absent: no such run or sweep folder"),
    (["SWEEP", "--metric", "requests.req.latency_s.maen"], 'did you mean "requests.req.'),
    (["SWEEP", "--parameter", "nodes[user].count"], 'did you mean "nodes[users].count"'),
    (["EMPTY"], "no run or sweep folders in this directory"),
    (["BROKEN"], "cannot read the results"),
])
def test_bad_plot_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                args: list[str], message: str) -> None:
    sweep = make_sweep(tmp_path / "s", {PARAM: [1, 2]}, n=[2, 2])
    (tmp_path / "empty").mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text("{not json")
    paths = {"SWEEP": str(sweep), "EMPTY": str(tmp_path / "empty"), "BROKEN": str(broken),
             "absent": str(tmp_path / "absent")}
    code, _, err = run_cli(["plot", *[paths.get(a, a) for a in args], "--out",
                            str(tmp_path / "o")], capsys)
    assert code == 2
    assert message in err


def test_plotting_never_imports_pyplot(runs: list[Path], tmp_path: Path) -> None:
    """pyplot would pick a GUI backend and keep figures alive: plots use Figure + Agg."""
    code = ("import sys; from sim.cli.main import main; "
            f"rc = main(['plot', {str(runs[0])!r}, '--out', {str(tmp_path)!r}]); "
            "assert rc == 0, rc; assert 'matplotlib.pyplot' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
