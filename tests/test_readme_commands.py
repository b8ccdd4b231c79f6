"""README.md: every command of its sh blocks runs as written from a fresh clone.

The commands run verbatim through bash, one line at a time and in order, in a
scratch directory holding only what a clone has that they read (``scenarios/``
and ``run_sim.py``), the same way ``tests/test_workflow_doc.py`` runs
docs/workflow.md's, with its helpers: ``python`` is this interpreter, and a line
ending in ``# exits N`` must exit with N, every other with 0.

The setup lines are exercised by mapping, not by a real install: ``python3 -m venv
.venv`` makes ``.venv/bin/python`` this interpreter and ``.venv/bin/pip`` a stand-in
that checks its arguments (``install [-q] -e .`` or ``-e ".[EXTRA,...]"`` with
extras that setup.cfg declares) and installs nothing, because the package and its
``[test]`` extra are already installed here; a real install is what ``.ci/run`` does
with the same line, and ``tests/test_packaging.py`` builds and installs a wheel.
The second setup line ends in the whole test suite: here it runs as ``pytest
--collect-only`` over a copy of tests/ (the suite cannot run itself; ``.ci/run``
runs it verbatim).

Not run: ``live`` and ``calibrate`` (tests/streaming and tests/cli have their own
tests of them, with the live extra), and the ``benchmarks/`` lines, which measure
minutes of wall time each; of those only that the script exists and its ``--help``
works is checked.
"""

from __future__ import annotations

import configparser
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from test_workflow_doc import _EXITS, _FENCE, Command, run_all, workdir

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
__all__ = ["workdir"]  # the scratch checkout fixture, shared with the workflow test

_NOT_RUN = re.compile(r"run_sim\.py (live|calibrate)\b")
_BENCHMARK = re.compile(r"^python (benchmarks/\w+\.py)\b")
_FULL_SUITE = ".venv/bin/python -m pytest"


def readme_commands() -> list[Command]:
    """Every sh line of README.md, in order (comments and blank lines left out)."""
    out: list[Command] = []
    for block in _FENCE.finditer(README.read_text(encoding="utf-8")):
        if block.group(1) != "sh":
            continue
        for raw in block.group(2).replace("\\\n", " ").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _EXITS.search(line)
            code = int(match.group(1)) if match else 0
            out.append(Command("README", "sh", _EXITS.sub("", line).strip(), code))
    return out


def _extras() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return set(config["options.extras_require"])


_PIP = '''import re, sys
args = [a for a in sys.argv[1:] if a != "-q"]
ok = len(args) == 3 and args[:2] == ["install", "-e"]
match = re.fullmatch(r"\\.(?:\\[([\\w,]+)\\])?", args[2]) if ok else None
extras = set(match.group(1).split(",")) if match and match.group(1) else set()
if match is None or not extras <= EXTRAS:
    sys.exit(f"pip stand-in: not an install of this checkout: {sys.argv[1:]}")
'''


def _install_shims(cwd: Path) -> None:
    """``python3 -m venv .venv`` makes .venv/bin/python (this interpreter) and the pip
    stand-in; any other python3 call is this interpreter. The clone gets what the
    setup lines read: setup.cfg and pyproject.toml (pip, pytest) and tests/."""
    for name in ("setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, cwd / name)
    shutil.copytree(ROOT / "tests", cwd / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    pip = cwd / ".pip_standin.py"
    pip.write_text(f"EXTRAS = {sorted(_extras())!r}\nEXTRAS = set(EXTRAS)\n{_PIP}")
    venv = (f'mkdir -p .venv/bin\n'
            f'printf \'#!/bin/sh\\nexec "{sys.executable}" "$@"\\n\' > .venv/bin/python\n'
            f'printf \'#!/bin/sh\\nexec "{sys.executable}" "{pip}" "$@"\\n\' > .venv/bin/pip\n'
            'chmod +x .venv/bin/python .venv/bin/pip\n')
    shim = cwd / ".bin" / "python3"
    shim.write_text('#!/bin/sh\nif [ "$1 $2 $3" = "-m venv .venv" ]; then\n'
                    f'{venv}exit 0\nfi\nexec "{sys.executable}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)


def _runnable(command: Command) -> Command:
    text = command.text.replace(f"&& {_FULL_SUITE}", f"&& {_FULL_SUITE} --collect-only -q")
    return Command(command.section, command.language, text, command.exit_code)


def test_readme_has_the_commands_it_should() -> None:
    texts = [c.text for c in readme_commands()]
    assert sum(_FULL_SUITE in t for t in texts) == 1
    assert any(t.startswith("python3 -m venv .venv") for t in texts)
    assert {"run", "validate", "check", "sweep", "plot", "size", "show", "report"} <= {
        t.split()[2] for t in texts if t.startswith("python run_sim.py ") and len(t.split()) > 2}


def test_pip_standin_refuses_what_is_not_this_checkout(workdir: tuple[Path, dict[str, str]],
                                                       ) -> None:
    cwd, env = workdir
    _install_shims(cwd)
    subprocess.run(["python3", "-m", "venv", ".venv"], cwd=cwd, env=env, check=True)
    pip = str(cwd / ".venv" / "bin" / "pip")
    good = subprocess.run([pip, "install", "-q", "-e", ".[test]"], cwd=cwd, env=env, check=False)
    bad = subprocess.run([pip, "install", "-e", ".[nosuch]"], cwd=cwd, env=env,
                         capture_output=True, check=False)
    assert (good.returncode, bad.returncode) == (0, 1)


def test_benchmark_lines_name_scripts_that_start() -> None:
    scripts = {m.group(1) for c in readme_commands() if (m := _BENCHMARK.match(c.text))}
    assert scripts
    for script in sorted(scripts):
        proc = subprocess.run([sys.executable, str(ROOT / script), "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, (script, proc.stderr[-2000:])


@pytest.mark.slow  # about 60-90 s: the README's runs, checks, sweep and capacity search
def test_readme_commands_run_as_written(workdir: tuple[Path, dict[str, str]]) -> None:
    _install_shims(workdir[0])
    selected = [_runnable(c) for c in readme_commands()
                if not _NOT_RUN.search(c.text) and not _BENCHMARK.match(c.text)]
    run_all(selected, workdir)
    cwd = workdir[0]
    assert (cwd / "results" / "sweeps" / "users_latency" / "report.html").is_file()
    assert list((cwd / "figures").iterdir())
