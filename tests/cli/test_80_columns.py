"""`run`, `check` and `sweep --dry-run` in an 80-column log: no long line, no word cut.

A word is "cut" when the 80-column output holds a token that the same output
rendered wide does not (``workl…``, or ``recommen`` + ``d`` folded over two
lines), so each 80-column render is compared with a wide render of the same data.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from sim.cli.main import main
from sim.qos.overview import summary_table
from sim.run.results import read_summary

ROOT = Path(__file__).resolve().parents[2]
SHORT = ["--duration", "20 s", "--set", "warmup=2 s"]
_TOKEN = re.compile(r"[^\s│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─╇╋┳┻╭╮╰╯]+")


def tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(text))


def at_80(args: list[str], monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    code = main(args)
    out = capsys.readouterr().out
    assert code in (0, 1), out
    # A line naming a path is never wrapped, so that it can be copied whole.
    long = [line for line in out.splitlines()
            if len(line) > 80 and not line.startswith((str(ROOT), "results:"))]
    assert not long, long
    assert "…" not in out
    return out


def test_run_overview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # the results path line is never wrapped: keep it short
    out = at_80(["run", str(ROOT / "scenarios/default.yaml"), *SHORT, "--out", "r",
                 "--no-plots", "--no-tables"], monkeypatch, capsys)
    (folder,) = (tmp_path / "r" / "default").iterdir()
    wide = Console(width=200, record=True, file=io.StringIO())
    wide.print(summary_table(read_summary(folder)))
    expected = tokens(wide.export_text())
    table = out[out.index("run seed"):out.index("results:")]
    assert tokens(table) <= expected, tokens(table) - expected
    assert {"workload", "receivers", "deadline"} <= tokens(table)


def test_check_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    out = at_80(["check", str(ROOT / "scenarios/default.yaml"), *SHORT, "--out", str(tmp_path),
                 "--no-plots", "--no-tables", "--quiet"], monkeypatch, capsys)
    metrics = re.findall(r"metric: ([^,]+),", (ROOT / "scenarios/default.yaml").read_text())
    assert len(metrics) >= 5 and set(metrics) <= tokens(out)
    assert {"metric", "target", "verdict"} <= tokens(out)


def test_sweep_dry_run(monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    out = at_80(["sweep", "scenarios/sweeps/users_latency.yaml", "--dry-run", "--out",
                 "results"], monkeypatch, capsys)
    assert "(users_per_group=5)," in tokens(out)
    assert any(re.fullmatch(r"peer_workload/seed1-[0-9a-f]+", t) for t in tokens(out))
