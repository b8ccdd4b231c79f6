"""The HTML report opened in a real headless Chromium (Debian's `chromium`, which
`.ci/run` installs): no console message, every figure rendered, and the verdict rows
equal to the verdicts `check` computes from summary.json."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from sim.qos.targets import evaluate
from sim.report.run_report import verdict_rows
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("EDGESTREAM_REQUIRE_BROWSER"),
    reason="no chromium (.ci/run installs it and sets EDGESTREAM_REQUIRE_BROWSER)")


def _cli(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a target missed


def _open(report: Path, tmp: Path) -> tuple[str, list[str]]:
    """The DOM after load, and the console messages, from headless Chromium."""
    assert CHROMIUM is not None, "chromium is not installed (.ci/run installs it)"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


class _Rows(HTMLParser):
    """Rows of the table whose caption contains `caption`."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.caption, self.rows, self._in, self._cap = caption, [], False, ""
        self._row: list[str] | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._cap, self._in = "", False
        elif tag == "tr" and self._in:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in = self.caption in self._cap
        elif tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data
        elif not self._in:
            self._cap += data


def _rendered(dom: str) -> tuple[int, int]:
    match = re.search(r'data-figures="(\d+)/(\d+)"', dom)
    assert match, "the page's load check did not run"
    return int(match.group(1)), int(match.group(2))


@pytest.mark.slow  # about 40 s: a run, a small sweep and two browser starts
def test_reports_open_in_chromium(tmp_path: Path) -> None:
    _cli("run", str(ROOT / "scenarios" / "default.yaml"), "--duration", "20 s", "--out",
         str(tmp_path / "runs"), "--quiet", cwd=tmp_path)
    (run,) = (tmp_path / "runs" / "default").iterdir()
    _cli("report", str(run), cwd=tmp_path)
    dom, console = _open(run / "report.html", tmp_path)
    assert console == []
    shown, rendered = _rendered(dom)
    plots = len(list((run / "plots").glob("*.png")))
    assert shown == plots + 1 == rendered  # every plot and the topology, all with a size
    parser = _Rows("targets met")
    parser.feed(dom)
    scenario = Scenario.model_validate(yaml.safe_load((run / "scenario.yaml").read_text()))
    summary = json.loads((run / "summary.json").read_text())
    assert parser.rows == verdict_rows(evaluate(scenario.qos, summary))
    assert len(parser.rows) >= len(scenario.qos) > 0

    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump({
        "name": "servers", "base": str(ROOT / "scenarios" / "ci" / "pass.yaml"),
        "parameters": [{"path": "nodes[mec1].compute.servers", "values": [1, 2]}],
        "replications": 2, "seed": 1, "set": ["duration=3 s"]}))
    _cli("sweep", str(sweep_file), "--out", str(tmp_path / "sweeps"), "--workers", "1",
         cwd=tmp_path)
    (folder,) = [p.parent for p in (tmp_path / "sweeps").rglob("points.parquet")]
    _cli("report", str(folder), cwd=tmp_path)
    dom, console = _open(folder / "report.html", tmp_path)
    assert console == []
    shown, rendered = _rendered(dom)
    assert shown == rendered == 3  # one figure per qos target of ci/pass.yaml
    grid = _Rows("judged on the point's replications")
    grid.feed(dom)
    assert [row[0] for row in grid.rows] == ["1", "2"]
    assert all(cell in ("met", "MISSED") for row in grid.rows for cell in row[1:])


def test_report_of_a_folder_that_is_neither_is_an_input_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "report", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "not a run folder" in done.stderr and "Traceback" not in done.stderr
