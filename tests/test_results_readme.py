"""results/README.md lists exactly what a run writes: every file, table and plot that
short runs of the shipped scenarios write is documented there, and everything it
documents for a run folder is written by one of them.

Two scenarios together cover every workload kind's tables and plots: default.yaml
(requests, video, VR, live class, radio) and recommendation_edge_vs_cloud.yaml
(course_learning). Each runs just past its warm-up (a few seconds of CPU).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "results" / "README.md"
RUNS = {"default.yaml": "12 s", "recommendation_edge_vs_cloud.yaml": "62 s"}
"""Scenario -> a duration just past its warm-up."""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Relative paths of the files of each run folder."""
    out = tmp_path_factory.mktemp("runs")
    files: dict[str, set[str]] = {}
    for scenario, duration in RUNS.items():
        assert main(["run", str(ROOT / "scenarios" / scenario), "--duration", duration,
                     "--out", str(out / scenario), "--quiet"]) == 0
        (folder,) = (out / scenario).glob("*/*/")
        files[scenario] = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                           if p.is_file()}
    return files


def _run_part() -> str:
    """The README up to the sweeps' part (what a run folder holds)."""
    return README.read_text(encoding="utf-8").split("\n## Sweeps", 1)[0]


def _documented() -> tuple[set[str], set[str], set[str]]:
    text = _run_part()
    files = set(re.findall(r"^\| `([\w.]+)` \|", text.split("## Plots")[0], re.M))
    plots = set(re.findall(r"^\| `plots/(\w+)\.png` \|", text, re.M))
    tables = set(re.findall(r"^### `(\w+)`", text, re.M))
    return files, plots, tables


def test_every_written_file_is_documented(written: dict[str, set[str]]) -> None:
    files, plots, tables = _documented()
    for scenario, paths in written.items():
        for path in paths:
            if path.startswith("plots/"):
                assert path.removeprefix("plots/").removesuffix(".png") in plots, (scenario, path)
            elif path.startswith("tables/"):
                assert path.removeprefix("tables/").removesuffix(".parquet") in tables, path
            else:
                assert path in files, (scenario, path)


def test_everything_documented_is_written(written: dict[str, set[str]]) -> None:
    files, plots, tables = _documented()
    every = set().union(*written.values())
    assert files <= every, files - every
    assert {f"plots/{p}.png" for p in plots} <= every
    assert {f"tables/{t}.parquet" for t in tables} <= every
    assert files and plots and tables  # the patterns still match the README's layout
