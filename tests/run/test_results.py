"""The run folder: deterministic bytes, the run columns, and atomic replacement."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import sim.plots.figure
import sim.run.results
from sim.run.builder import Run, RunOutput
from sim.run.results import read_summary, run_folder, table_of, write_run
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]


def short_scenario(duration: float = 8.0, seed: int = 42) -> Scenario:
    """The default campus scenario, cut to a few simulated seconds."""
    with (ROOT / "scenarios" / "default.yaml").open() as fh:
        scn = Scenario.model_validate(yaml.safe_load(fh))
    return scn.model_copy(update={"duration": duration, "warmup": 2.0, "seed": seed})


@pytest.fixture(scope="module")
def output() -> RunOutput:
    return Run(short_scenario()).execute()


def files_of(folder: Path) -> dict[str, bytes]:
    """Relative path -> content of every file under `folder`."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    """Hidden staging or set-aside directories left next to the run folders."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ contents


def test_layout(output: RunOutput, tmp_path: Path) -> None:
    folder = write_run(output, tmp_path)
    assert folder == run_folder(tmp_path, "default", output.run_id)
    names = set(files_of(folder))
    assert {"summary.json", "scenario.yaml", "run.json"} <= names
    assert {f"tables/{n}.parquet" for n in output.tables} <= names
    assert {"plots/latency_cdf.png", "plots/link_utilisation.png",
            "plots/site_queues.png"} <= names
    assert leftovers(folder.parent) == []


def test_without_tables_or_plots(output: RunOutput, tmp_path: Path) -> None:
    folder = write_run(output, tmp_path, tables=False, plots=False)
    assert not (folder / "tables").exists()
    assert not (folder / "plots").exists()
    assert (folder / "summary.json").is_file()


def test_summary_round_trip(output: RunOutput, tmp_path: Path) -> None:
    folder = write_run(output, tmp_path, tables=False, plots=False)
    summary = read_summary(folder)
    assert summary == read_summary(folder / "summary.json")
    assert list(summary) == list(output.summary)  # insertion order kept
    assert summary["requests"]["recommend"]["sent"] == output.summary["requests"]["recommend"][
        "sent"]


def test_summary_nan_becomes_null(output: RunOutput, tmp_path: Path) -> None:
    odd = RunOutput(output.scenario, "odd", {}, {
        "a": math.nan, "b": {"c": math.inf, "d": -math.inf, "e": np.float64(1.5),
                             "f": np.int64(3)}, "g": [1.0, math.nan]})
    text = (write_run(odd, tmp_path, plots=False) / "summary.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": {"c": None, "d": None, "e": 1.5, "f": 3},
                                "g": [1.0, None]}


def test_scenario_yaml_is_the_effective_scenario(output: RunOutput, tmp_path: Path) -> None:
    folder = write_run(output, tmp_path, tables=False, plots=False)
    with (folder / "scenario.yaml").open() as fh:
        again = Scenario.model_validate(yaml.safe_load(fh))
    assert again == output.scenario
    assert again.duration == 8.0


def test_run_json_has_execution_facts(output: RunOutput, tmp_path: Path) -> None:
    facts = json.loads((write_run(output, tmp_path, plots=False) / "run.json").read_text())
    assert facts["stats"] == pytest.approx(output.stats)
    assert facts["versions"]["numpy"] == np.__version__
    assert "T" in facts["written_at"]


def test_tables_have_run_columns_first(output: RunOutput, tmp_path: Path) -> None:
    folder = write_run(output, tmp_path, plots=False)
    for name, columns in output.tables.items():
        table = pq.read_table(folder / "tables" / f"{name}.parquet")
        assert table.column_names == ["run_id", "seed", "scenario", *columns]
        assert not (table.schema.metadata or {}).get(b"pandas")
        frame = pd.read_parquet(folder / "tables" / f"{name}.parquet")
        assert len(frame) == len(next(iter(columns.values())))
        assert set(frame["run_id"]) <= {output.run_id}
        assert set(frame["seed"]) <= {42}
        assert set(frame["scenario"]) <= {"default"}
    requests = pd.read_parquet(folder / "tables" / "requests.parquet")
    assert set(requests["workload"]) == {"recommend", "catalogue"}
    assert requests["forwarded"].dtype == bool
    np.testing.assert_array_equal(requests["latency"].to_numpy(),
                                  output.tables["requests"]["latency"])


def test_reserved_column_rejected(output: RunOutput) -> None:
    bad = RunOutput(output.scenario, "x", {"t": {"seed": np.zeros(2)}}, {})
    with pytest.raises(ValueError, match="reserved"):
        table_of(bad, "t")


# --------------------------------------------------------------- determinism


def test_same_output_written_twice_is_byte_identical(output: RunOutput, tmp_path: Path) -> None:
    first = files_of(write_run(output, tmp_path / "a"))
    second = files_of(write_run(output, tmp_path / "b"))
    del first["run.json"], second["run.json"]  # timestamps and wall times by design
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_two_runs_of_same_seed_are_byte_identical(tmp_path: Path) -> None:
    one = Run(short_scenario(5.0, seed=7)).execute()
    two = Run(short_scenario(5.0, seed=7)).execute()
    assert one.run_id == two.run_id
    first = files_of(write_run(one, tmp_path / "a", plots=False))
    second = files_of(write_run(two, tmp_path / "b", plots=False))
    for name in first.keys() - {"run.json"}:
        assert first[name] == second[name], name


# ----------------------------------------------------------------- atomicity


def failing_after(calls: int, exc: BaseException, real: Any) -> Any:
    """A stand-in for a writer that works `calls` times, then raises `exc`."""
    seen = {"n": 0}

    def writer(*args: Any, **kwargs: Any) -> Any:
        if seen["n"] >= calls:
            raise exc
        seen["n"] += 1
        return real(*args, **kwargs)

    return writer


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("disk on fire")])
def test_interrupted_table_write_leaves_nothing(output: RunOutput, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                exc: BaseException) -> None:
    monkeypatch.setattr(sim.run.results, "_write_parquet",
                        failing_after(1, exc, sim.run.results._write_parquet))
    with pytest.raises(type(exc)):
        write_run(output, tmp_path)
    assert not (tmp_path / "default").exists()  # no empty <out>/<scenario>/ either


def test_repeated_failed_writes_leave_no_empty_scenario_folder(
        output: RunOutput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.run.results, "_write_parquet",
                        failing_after(0, OSError(28, "No space left on device"),
                                      sim.run.results._write_parquet))
    for _ in range(3):
        with pytest.raises(OSError):
            write_run(output, tmp_path)
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_stale_staging_of_a_dead_process_is_removed_on_the_next_write(
        output: RunOutput, tmp_path: Path) -> None:
    parent = tmp_path / "default"
    dead = _dead_pid()
    stale = parent / f".seed9-0000000000.tmp-{dead}"
    stale.mkdir(parents=True)
    (stale / "summary.json").write_text("{}")
    live = parent / f".seed8-0000000000.tmp-{os.getppid()}"  # a live process: kept
    live.mkdir()
    folder = write_run(output, tmp_path, plots=False)
    assert leftovers(folder.parent) == [live.name]


def test_set_aside_run_of_a_dead_process_is_restored(output: RunOutput, tmp_path: Path) -> None:
    parent = tmp_path / "default"
    aside = parent / f".seed9-0000000000.old-{_dead_pid()}"
    aside.mkdir(parents=True)
    (aside / "summary.json").write_text("{}")
    write_run(output, tmp_path, plots=False)
    assert (parent / "seed9-0000000000" / "summary.json").read_text() == "{}"
    assert leftovers(parent) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("no fonts")])
def test_failed_rewrite_keeps_previous_run(output: RunOutput, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           exc: BaseException) -> None:
    folder = write_run(output, tmp_path)
    before = files_of(folder)
    figure = sim.plots.figure
    monkeypatch.setattr(figure, "write_plots", failing_after(0, exc, figure.write_plots))
    with pytest.raises(type(exc)):
        write_run(output, tmp_path)
    assert files_of(folder) == before
    assert leftovers(folder.parent) == []


def test_interrupt_during_swap_restores_previous_run(output: RunOutput, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_run(output, tmp_path, plots=False)
    before = files_of(folder)
    real_replace = Path.replace

    def replace(self: Path, target: Any) -> Path:
        if ".tmp-" in self.name:  # the new run moving in, after the old one moved aside
            raise KeyboardInterrupt
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_run(output, tmp_path, plots=False)
    assert files_of(folder) == before
    assert leftovers(folder.parent) == []


def test_rewrite_replaces_the_whole_folder(output: RunOutput, tmp_path: Path) -> None:
    folder = write_run(output, tmp_path)
    (folder / "stray.txt").write_text("from an older version")
    assert write_run(output, tmp_path, plots=False) == folder
    assert not (folder / "stray.txt").exists()
    assert not (folder / "plots").exists()
    assert leftovers(folder.parent) == []


# ---------------------------------------------------------------------- speed


def big_output(scenario: Scenario, rows: int) -> RunOutput:
    rng = np.random.default_rng(1)
    t_send = np.sort(rng.uniform(0, 600, rows))
    latency = rng.lognormal(-3.5, 0.5, rows)
    names = np.array(["recommend", "catalogue", "lecture"], dtype=object)
    sites = np.array([f"mec{i}" for i in range(10)], dtype=object)
    requests = {
        "request_id": np.arange(rows, dtype=np.int64),
        "workload": names[rng.integers(0, 3, rows)],
        "group": sites[rng.integers(0, 10, rows)],
        "user": rng.integers(0, 1000, rows),
        "site": sites[rng.integers(0, 10, rows)],
        "forwarded": rng.random(rows) < 0.1,
        "t_send": t_send,
        "t_response": t_send + latency,
        "latency": latency,
        "bytes_up": np.full(rows, 1e4),
    }
    return RunOutput(scenario, "big", {"requests": requests}, {"scenario": scenario.name})


def test_600k_rows_write_fast(tmp_path: Path) -> None:
    scn = short_scenario()
    write_run(big_output(scn, 1000), tmp_path / "warm", plots=False)  # one-time imports
    big = big_output(scn, 600_000)
    started = time.perf_counter()
    folder = write_run(big, tmp_path, plots=False)
    elapsed = time.perf_counter() - started
    assert pq.read_metadata(folder / "tables" / "requests.parquet").num_rows == 600_000
    assert elapsed < 2.0, f"{elapsed:.2f} s"
