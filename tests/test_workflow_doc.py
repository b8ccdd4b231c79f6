"""docs/workflow.md: every command in its sh and python blocks runs, with the exit code it says.

The commands run verbatim through bash, in a scratch directory holding a copy of
``scenarios/`` and ``run_sim.py``, with ``python`` and ``pytest`` on PATH being
this interpreter (and the pytest plugin loaded by module when the package is not
installed).  A command ending in ``# exits N`` must exit with N, every other
with 0.  The sweep commands (those that mention sweeps) need ``run_sim.py
sweep``; they have a test of their own, skipped only while sim/cli/sweep.py is
missing.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from sim.plots.sweep import band_data, read_sweep

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "workflow.md"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXITS = re.compile(r"#\s*exits\s+(\d+)\s*$")


@dataclass(frozen=True)
class Command:
    section: str
    language: str
    text: str
    exit_code: int = 0

    @property
    def needs_sweep(self) -> bool:
        return "sweep" in self.text


def commands(language: str | None = None) -> list[Command]:
    """The commands of the doc in order: one per sh line, one per python block."""
    text = DOC.read_text(encoding="utf-8")
    sections = [(m.start(), m.group(1)) for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)]
    out: list[Command] = []
    for block in _FENCE.finditer(text):
        lang, body = block.group(1), block.group(2)
        section = next(name for start, name in reversed(sections) if start < block.start())
        if lang == "python":
            out.append(Command(section, lang, body))
        elif lang == "sh":
            for raw in body.replace("\\\n", " ").splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                match = _EXITS.search(line)
                code = int(match.group(1)) if match else 0
                out.append(Command(section, lang, _EXITS.sub("", line).strip(), code))
    return [c for c in out if language is None or c.language == language]


def _plugin_installed() -> bool:
    plugins = metadata.entry_points(group="pytest11")
    return any(ep.value == "sim.qos.pytest_plugin" for ep in plugins)


@pytest.fixture
def workdir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A scratch checkout: scenarios/ and run_sim.py, python and pytest on PATH."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copy(ROOT / "run_sim.py", tmp_path / "run_sim.py")
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    shims = {"python": f'exec "{sys.executable}" "$@"\n',
             "pytest": f'exec "{sys.executable}" -m pytest "$@"\n'}
    for name, body in shims.items():
        shim = bin_dir / name
        shim.write_text("#!/bin/sh\n" + body)
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PYTEST_ADDOPTS", None)
    env["COLUMNS"] = "120"
    if not _plugin_installed():
        env["PYTEST_PLUGINS"] = "sim.qos.pytest_plugin"
    return tmp_path, env


def run_all(selected: list[Command], workdir: tuple[Path, dict[str, str]]) -> None:
    cwd, env = workdir
    assert selected, "no commands found in docs/workflow.md"
    for i, command in enumerate(selected):
        if command.language == "python":
            script = cwd / f".block{i}.py"
            script.write_text(command.text)
            argv = [sys.executable, str(script)]
        else:
            argv = ["bash", "-c", command.text]
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600, check=False)
        assert proc.returncode == command.exit_code, (
            f"{command.text!r} exited {proc.returncode}, the doc says {command.exit_code}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
        assert "Traceback" not in proc.stderr or command.text.startswith("pytest"), proc.stderr


def in_section(prefix: str) -> list[Command]:
    return [c for c in commands() if c.section.startswith(prefix)]


def test_the_doc_has_every_walkthrough() -> None:
    researcher, ci = in_section("A researcher"), in_section("A CI user")
    planner = in_section("A planner")
    assert len(researcher) + len(ci) + len(planner) == len(commands()), \
        "a command outside the sections"
    assert {"size", "show"} <= {c.text.split()[2] for c in planner}
    texts = " ".join(c.text for c in ci)
    for needed in ("validate", "--replications", "--junit", "--baseline", "pytest scenarios/ci/"):
        assert needed in texts
    texts = " ".join(c.text for c in researcher)
    for needed in ("run_sim.py run", "run_sim.py sweep", "run_sim.py plot", "read_parquet"):
        assert needed in texts


@pytest.mark.slow  # about 20 s: five CLI processes
def test_researcher_walkthrough(workdir: tuple[Path, dict[str, str]]) -> None:
    run_all([c for c in in_section("A researcher") if not c.needs_sweep], workdir)
    cwd = workdir[0]
    assert list((cwd / "figures").glob("*-topology.svg"))
    assert (cwd / "figures" / "latency_cdf_overlay.png").is_file()


@pytest.mark.slow  # about 30 s: the example sweep runs 12 runs of 60 simulated seconds
def test_researcher_sweep_commands(workdir: tuple[Path, dict[str, str]]) -> None:
    sweep = [c for c in in_section("A researcher") if c.needs_sweep]
    assert [c for c in sweep if "run_sim.py sweep" in c.text], "the sweep must run first"
    run_all(sweep, workdir)
    # The latency-vs-load figure of the example sweep: produced, and with CI bands.
    cwd = workdir[0]
    data = read_sweep(cwd / "results" / "sweeps" / "users_latency")
    (metric,) = [m for m in data.metrics if m.endswith(".latency_s.mean")]
    (parameter,) = data.parameters
    figure = cwd / "figures" / f"users_latency-{metric}-vs-{parameter}.png"
    assert figure.read_bytes().startswith(b"\x89PNG")
    (band,) = band_data(data.points, metric, parameter)
    assert len(band.x) >= 3 and (band.n > 1).all()
    assert np.all(band.low <= band.mean) and np.all(band.mean <= band.high)
    assert np.all(band.low < band.high)


@pytest.mark.slow  # about 10 s: a capacity search of 10 short runs, then show
def test_planner_walkthrough(workdir: tuple[Path, dict[str, str]]) -> None:
    run_all(in_section("A planner"), workdir)
    (folder,) = (workdir[0] / "results" / "sweeps").iterdir()
    assert (folder / "size.parquet").is_file() and (folder / "size.png").is_file()


@pytest.mark.slow  # about 25 s: eight CLI and pytest processes
def test_ci_walkthrough(workdir: tuple[Path, dict[str, str]]) -> None:
    run_all(in_section("A CI user"), workdir)
    reports = workdir[0] / "reports"
    assert {p.name for p in reports.iterdir()} >= {"qos.xml", "fail.xml", "baseline.xml",
                                                   "pytest.xml"}
    assert 'failures="1"' in (reports / "fail.xml").read_text()


def test_github_actions_steps_are_tested_commands() -> None:
    """Each `run:` step of the YAML snippet is one of the sh commands tested above."""
    text = DOC.read_text(encoding="utf-8")
    (snippet,) = [m.group(2) for m in _FENCE.finditer(text) if m.group(1) == "yaml"]
    steps = re.findall(r"^\s*- run: (.+)$", snippet, re.MULTILINE)
    tested = {c.text for c in commands("sh")}
    assert steps[0].startswith("pip install")
    assert steps[1:] and all(step in tested for step in steps[1:]), steps
