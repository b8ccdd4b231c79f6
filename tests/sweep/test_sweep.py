"""Sweeps: the sweep file and its errors, expansion, seeds, backends, resume, tables."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.cli.main import main
from sim.qos.targets import flatten
from sim.run.builder import run_id_of
from sim.run.results import read_summary
from sim.scenario.loader import load_scenario
from sim.sweep.runner import (
    PlannedRun,
    SweepResult,
    SweepSpec,
    expand_points,
    load_sweep,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
name: sweep_base
seed: 1
duration: 10 s
sample_interval: 1 s
output: {tables: true, plots: true}
nodes:
  - name: cloud
    kind: cloud
    compute: {servers: 16, service: {request: {dist: exponential, mean: 5 ms}}}
  - name: mec0
    kind: mec
    compute: {servers: 4, service: {request: {dist: exponential, mean: 10 ms}}}
  - {name: users, kind: users, count: 10, attach: mec0, access: {bandwidth: 100 Mbps, delay: 5 ms}}
links:
  - {a: mec0, b: cloud, bandwidth: 1 Gbps, delay: 20 ms}
workloads:
  - name: request
    kind: request_response
    clients: [users]
    arrivals: {process: poisson, rate: 1 /s}
    request_size: 10 kB
    response_size: 100 kB
    forward_fraction: 10%
    forward_to: cloud
"""

USERS = """\
name: users
base: base.yaml
parameters:
  - path: nodes[users].count
    values: [50, 100, 200, 400]
replications: 3
"""
"""The acceptance sweep: users = [50, 100, 200, 400] x 3 replications (10 s each)."""


def write_sweep(folder: Path, text: str = USERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.yaml").write_text(BASE)
    path = folder / "sweep.yaml"
    path.write_text(text)
    return path


def files(root: Path, pattern: str) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.glob(pattern))}


def finished(root: Path) -> set[str]:
    """Run ids with a summary; hidden staging folders of killed writers do not count."""
    return {p.parent.name for p in root.glob("sweep_base/*/summary.json")
            if not p.parent.name.startswith(".")}


def table_bytes(root: Path) -> tuple[bytes, bytes]:
    folder = root / "sweeps" / "users"
    return (folder / "runs.parquet").read_bytes(), (folder / "points.parquet").read_bytes()


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    """The acceptance sweep run serially once, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("serial")
    return run_sweep(load_sweep(write_sweep(folder), folder / "results"))


# ------------------------------------------------------------- file and plan


def test_grid_and_zip_expansion() -> None:
    spec = SweepSpec.model_validate({"name": "s", "base": "b.yaml", "parameters": [
        {"path": "a", "values": [1, 2, 3]}, {"paths": ["b", "c"], "values": ["x", "y", "z"]}]})
    grid = expand_points(spec)
    assert [p.values for p in grid[:4]] == [(1, "x"), (1, "y"), (1, "z"), (2, "x")]
    assert len(grid) == 9 and [p.index for p in grid] == list(range(9))
    zipped = expand_points(spec.model_copy(update={"mode": "zip"}))
    assert [p.values for p in zipped] == [(1, "x"), (2, "y"), (3, "z")]


def test_plan_seeds_and_run_ids(tmp_path: Path) -> None:
    text = USERS.replace("replications: 3", "replications: 2\nseed: 7\nset: [duration=2 s]")
    plan = load_sweep(write_sweep(tmp_path, text), tmp_path / "out")
    assert [(r.point, r.replication, r.seed) for r in plan.runs[:3]] == [(0, 0, 7), (0, 1, 8),
                                                                        (1, 0, 7)]
    assert len({r.run_id for r in plan.runs}) == 8
    run = plan.runs[1]
    assert run.params == {"nodes[users].count": 50}
    assert run.overrides == ("duration=2 s", "nodes[users].count=50", "seed=8")
    # The same folder `run` writes for this scenario and seed.
    scenario = load_scenario(tmp_path / "base.yaml", list(run.overrides)).scenario
    assert run.run_id == run_id_of(scenario)
    assert run.folder == tmp_path / "out" / "sweep_base" / run.run_id
    assert plan.folder == tmp_path / "out" / "sweeps" / "users"


def test_several_paths_change_together(tmp_path: Path) -> None:
    text = """\
name: users
base: base.yaml
parameters:
  - name: bandwidth
    paths:
      - links[0].bandwidth
      - nodes[users].access.bandwidth
    values: [50 Mbps, 1 Gbps]
"""
    plan = load_sweep(write_sweep(tmp_path, text), tmp_path)
    assert [r.params for r in plan.runs] == [{"bandwidth": "50 Mbps"}, {"bandwidth": "1 Gbps"}]
    assert plan.runs[0].overrides == ("links[0].bandwidth=50 Mbps",
                                      "nodes[users].access.bandwidth=50 Mbps", "seed=1")


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_sweeps_are_valid(path: Path, tmp_path: Path) -> None:
    plan = load_sweep(path, tmp_path)
    assert plan.runs and all(r.scenario == "peer_workload" for r in plan.runs)


BAD_SWEEPS = [
    ("unknown key", USERS.replace("replications: 3", "replicas: 3"),
     ['sweep.yaml:6:1: replicas: unknown key "replicas" (did you mean "replications"?)']),
    ("bad values", USERS.replace("replications: 3", "replications: 0\nmode: grd"),
     ["sweep.yaml:6:15: replications: 0 must be at least 1",
      'sweep.yaml:7:7: mode: "grd" is not a valid mode']),
    ("path and paths", USERS.replace("    values:", "    paths: [a]\n    values:"),
     ["sweep.yaml:4:5: parameters[0]: give either path (one key path) or paths"]),
    ("seed swept", USERS.replace("nodes[users].count", "seed"),
     ["sweep.yaml:4:11: parameters[0].path: the seed is not a parameter"]),
    ("duplicate", USERS.replace("[50, 100, 200, 400]", "[50, 100, 50]"),
     ["sweep.yaml:5:23: parameters[0].values[2]: duplicate value (same as values[0])"]),
    ("bad value", USERS.replace("[50, 100, 200, 400]", "[50, -5]"),
     ["sweep.yaml:5:18: nodes[2].count: -5 must be at least 1"]),
    ("unknown element", USERS.replace("nodes[users]", "nodes[userz]"),
     ['sweep.yaml:4:11: no element of nodes has name "userz"']),
    ("bad set", USERS + "set: [duration]\n", ["sweep.yaml:7:7: set[0]: expected PATH=VALUE"]),
    ("no base", USERS.replace("base.yaml", "nothere.yaml"),
     ["sweep.yaml:2:7: base: no such scenario file"]),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in BAD_SWEEPS],
                         ids=[case[0] for case in BAD_SWEEPS])
def test_sweep_problems_are_located(text: str, expected: list[str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sweep(tmp_path, text)
    code = main(["sweep", str(path), "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err and "nothing was run" in err
    for line in expected:
        assert f"{path.parent}/{line}" in err, err
    assert not (tmp_path / "out").exists()


def test_zip_needs_equal_lengths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = USERS + "mode: zip\n"
    text = text.replace("replications: 3", "  - {path: duration, values: [1 s, 2 s]}")
    assert main(["sweep", str(write_sweep(tmp_path, text))]) == 2
    err = capsys.readouterr().err
    assert err.count("values: has") == 1
    assert "sweep.yaml:6:30: parameters[1].values: has 2 values, parameters[0] has 4" in err


# ------------------------------------------------------------------- running


def test_backends_give_byte_identical_runs(serial: SweepResult, tmp_path: Path) -> None:
    """Serial, 2 local workers and a Dask LocalCluster of 2 write the same bytes."""
    root = serial.plan.root
    for backend in ({"workers": 2}, {"workers": 2, "dask": "local"}):
        other = tmp_path / str(len(backend))
        result = run_sweep(load_sweep(write_sweep(other), other / "results"), **backend)
        assert len(result.executed) == 12 and not result.skipped
        for pattern in ("sweep_base/*/summary.json", "sweep_base/*/tables/*.parquet"):
            mine, theirs = files(root, pattern), files(other / "results", pattern)
            assert len(mine) >= 12 and mine == theirs, (backend, pattern)
        assert table_bytes(other / "results") == table_bytes(root)
    assert not list(root.glob("sweep_base/*/plots")), "sweeps draw no plots by default"


def test_runs_table_loads_in_one_call(serial: SweepResult) -> None:
    runs = pd.read_parquet(serial.runs_table)
    assert list(runs.columns) == ["run_id", "seed", "scenario", "replication", "point",
                                  "nodes[users].count", "metric", "value"]
    assert sorted(runs["nodes[users].count"].unique()) == [50, 100, 200, 400]
    for run in serial.plan.runs:
        rows = runs[runs.run_id == run.run_id]
        flat = flatten(read_summary(run.folder))
        flat.pop("seed")
        assert list(rows.metric) == sorted(flat)
        assert set(rows.seed) == {run.seed} and set(rows.replication) == {run.replication}
        expected = [np.nan if v is None else float(v) for _, v in sorted(flat.items())]
        np.testing.assert_array_equal(rows.value.to_numpy(), expected)


def test_points_are_replication_means_with_t_intervals(serial: SweepResult) -> None:
    runs = pd.read_parquet(serial.runs_table)
    points = pd.read_parquet(serial.points_table)
    assert list(points.columns) == ["point", "nodes[users].count", "metric", "n", "mean",
                                    "ci95_low", "ci95_high", "target", "met"]
    assert len(points) == len(runs) // 3
    for (point, metric), group in runs.groupby(["point", "metric"]):
        row = points[(points.point == point) & (points.metric == metric)].iloc[0]
        values = group.value.dropna().to_numpy()
        assert row.n == len(values) == 3
        half = sps.t.ppf(0.975, 2) * values.std(ddof=1) / np.sqrt(3)
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-12, abs=1e-12)
        assert row.ci95_low == pytest.approx(values.mean() - half, rel=1e-9, abs=1e-12)
        assert row.ci95_high == pytest.approx(values.mean() + half, rel=1e-9, abs=1e-12)


def test_one_replication_has_no_interval(tmp_path: Path) -> None:
    text = USERS.replace("replications: 3", "replications: 1\nset: [duration=2 s]")
    result = run_sweep(load_sweep(write_sweep(tmp_path, text), tmp_path / "r"))
    points = pd.read_parquet(result.points_table)
    assert (points.n <= 1).all() and points.ci95_low.isna().all()
    latency = points[points.metric == "requests.request.latency_s.mean"]
    assert list(latency["nodes[users].count"]) == [50, 100, 200, 400]
    assert latency["mean"].notna().all()


def test_interrupted_sweep_runs_only_the_missing_runs(serial: SweepResult, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sweep(tmp_path)
    root = tmp_path / "results"
    done: list[PlannedRun] = []

    def stop_after_five(run: PlannedRun, folder: Path) -> None:
        done.append(run)
        if len(done) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_sweep(path, root), on_done=stop_after_five)
    assert len(finished(root)) == 5
    assert len(list(root.glob("sweep_base/*"))) == 5, "only complete run folders"
    again = run_sweep(load_sweep(path, root))
    assert {r.run_id for r in again.skipped} == {r.run_id for r in done}
    assert {r.run_id for r in again.executed} == {r.run_id for r in serial.plan.runs} - {
        r.run_id for r in done}
    assert table_bytes(root) == table_bytes(serial.plan.root)
    # Deleting two runs: the next sweep runs those two, and the tables come out the same.
    gone = [again.plan.runs[3], again.plan.runs[10]]
    for run in gone:
        shutil.rmtree(run.folder)
    assert main(["sweep", str(path), "--out", str(root), "--workers", "2"]) == 0
    assert "12 runs (2 run, 10 skipped)" in capsys.readouterr().out
    assert table_bytes(root) == table_bytes(serial.plan.root)


def test_killed_sweep_resumes(serial: SweepResult, tmp_path: Path) -> None:
    """SIGKILL in the middle of a sweep: the rerun runs exactly the unfinished runs."""
    path = write_sweep(tmp_path)
    root = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_sim.py"), "sweep", str(path),
                             "--out", str(root)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(finished(root)) < 3:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    done = finished(root)
    assert 3 <= len(done) < 12
    assert not (root / "sweeps" / "users" / "runs.parquet").exists()
    again = run_sweep(load_sweep(path, root))
    assert {r.run_id for r in again.skipped} == done
    assert len(again.executed) == 12 - len(done)
    assert table_bytes(root) == table_bytes(serial.plan.root)


def test_failed_run_is_named_and_finished_runs_stay(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from sim.run.builder import Run

    execute = Run.execute

    def crash_on_seed_2(self: Run, *args: Any) -> Any:
        if self.scenario.seed == 2:
            raise ZeroDivisionError("boom")
        return execute(self, *args)

    monkeypatch.setattr(Run, "execute", crash_on_seed_2)
    path = write_sweep(tmp_path, USERS.replace("replications: 3", "replications: 2"))
    assert main(["sweep", str(path), "--out", str(tmp_path / "r")]) == 3
    err = capsys.readouterr().err
    assert "run failed: point 0 (nodes[users].count=50), replication 1, seed 2" in err
    assert "ZeroDivisionError: boom" in err and "run the sweep again to resume" in err
    assert len(finished(tmp_path / "r")) == 1


def test_dry_run_lists_runs(serial: SweepResult, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = serial.plan.file.path
    assert main(["sweep", str(sweep), "--out", str(serial.plan.root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[:2] for line in out.splitlines()]
    assert rows.count(["done", "point"]) == 12 and "12 runs, 0 to run" in out
