"""An installed wheel works outside a checkout: the shipped scenarios are package data.

The wheel is built from a copy of the source (so the checkout gets no ``build/``
or ``*.egg-info``), offline (``--no-build-isolation --no-index``: the [test] extra
installs setuptools and wheel), installed with ``--target`` into a folder outside
the checkout and run from another folder, with nothing of the checkout on the path.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("sim", "edge", "streaming", "scenarios", "setup.cfg", "pyproject.toml", "README.md")
"""What the build reads (setup.cfg: the packages, README.md as the long description)."""


def _can_build_offline() -> bool:
    """setuptools, plus `wheel` unless this setuptools has its own bdist_wheel (>= 70.1)."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    return (importlib.util.find_spec("wheel") is not None
            or importlib.util.find_spec("setuptools.command.bdist_wheel") is not None)


def _pip(*args: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check",
                    *map(str, args)], check=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the folder it is installed in)."""
    if not _can_build_offline():
        pytest.skip("building a wheel offline needs setuptools and wheel (the [test] extra)")
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", source, "-w", tmp / "wheels")
    (wheel,) = (tmp / "wheels").glob("edgestream-*.whl")
    _pip("install", "--no-deps", "--no-index", "--target", tmp / "site", wheel)
    return wheel, tmp / "site"


def _outside(site: Path, cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run in `cwd`, outside the checkout, with the installed folder first on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env["PYTHONPATH"] = str(site)
    cwd.mkdir(exist_ok=True)
    return subprocess.run([*map(str, args)], check=False, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_every_scenario_file_is_in_the_wheel(installed: tuple[Path, Path]) -> None:
    """A file under scenarios/ left out of package_data would break an installed run."""
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        shipped = set(zf.namelist())
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    assert files - shipped == set()


@pytest.mark.slow  # about 30 s: a wheel build, an install and the default run
def test_edgestream_runs_the_default_scenario_outside_the_checkout(
        installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, site = installed
    where = _outside(site, tmp_path / "elsewhere", sys.executable, "-c",
                     "import sim, scenarios, sim.cli.main as m; "
                     "print(sim.__file__); print(scenarios.__file__); print(m.DEFAULT_SCENARIO)")
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).is_relative_to(site), line
    run = _outside(site, tmp_path / "elsewhere", site / "bin" / "edgestream",
                   "--quiet", "--out", tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert list((tmp_path / "out" / "default").glob("*/summary.json"))
    # A sweep names its base scenario relative to itself: that holds where installed too.
    sweep = site / "scenarios" / "sweeps" / "users_latency.yaml"
    dry = _outside(site, tmp_path / "elsewhere", site / "bin" / "edgestream", "sweep", sweep,
                   "--dry-run", "--out", tmp_path / "out")
    assert dry.returncode == 0, dry.stderr
    assert "to run" in dry.stdout
