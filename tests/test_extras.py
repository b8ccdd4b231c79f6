"""A missing extra ([dask], [live]) is one line that says what to install, never a traceback.

The extras are installed here (the [test] extra has both), so a missing one is made
by hiding its module: ``sys.modules[name] = None`` makes ``import name`` fail and
``importlib.util.find_spec(name)`` return None, as when it is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from sim.cli.main import main
from sim.extras import EXTRAS, MissingExtraError, require_extra

ROOT = Path(__file__).resolve().parents[1]
LIVE = ROOT / "scenarios" / "live_lecture.yaml"
SWEEP = ROOT / "scenarios" / "sweeps" / "users_latency.yaml"


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _no_work(*args: Any, **kwargs: Any) -> Any:
    pytest.fail("the command went on although its extra is missing")


def _one_line(capsys: pytest.CaptureFixture[str], extra: str) -> str:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert f'pip install -e ".[{extra}]"' in err
    assert f"[{extra}] extra" in err
    return err


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_each_missing_module_is_named(monkeypatch: pytest.MonkeyPatch, extra: str) -> None:
    first = EXTRAS[extra][0]
    _hide(monkeypatch, first)
    with pytest.raises(MissingExtraError, match=rf"\({first} not installed\)"):
        require_extra(extra, "this")


def test_installed_extras_pass() -> None:
    for extra in EXTRAS:  # the [test] extra installs both
        require_extra(extra, "this")


@pytest.mark.parametrize("command", ["live", "calibrate"])
def test_live_commands_without_aiortc(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      command: str) -> None:
    _hide(monkeypatch, "aiortc")
    monkeypatch.setattr("sim.cli.live.load_plan", _no_work)
    monkeypatch.setattr("sim.cli.calibrate.load_plan", _no_work)
    assert main([command, str(LIVE), "--out", str(tmp_path)]) == 2
    assert _one_line(capsys, "live").startswith(f"edgestream: the {command} command needs")


def test_sweep_on_dask_without_distributed(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    _hide(monkeypatch, "distributed")
    monkeypatch.setattr("sim.cli.sweep.check_out_dir", _no_work)
    assert main(["sweep", str(SWEEP), "--dask", "local", "--out", str(tmp_path)]) == 2
    _one_line(capsys, "dask")
    assert not any(tmp_path.iterdir())


def test_library_callers_get_the_same_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the CLI: the Dask backend and the live supervisor check before any work."""
    from sim.sweep.execute import _distributed
    from streaming.webrtc.supervisor import run_live

    _hide(monkeypatch, "distributed", "aiortc")
    with pytest.raises(MissingExtraError, match=r"\[dask\]"):
        _distributed()
    with pytest.raises(MissingExtraError, match=r"\[live\]"):
        run_live(None, None)  # type: ignore[arg-type]  # never reached: the check is first


def test_a_simulated_run_needs_no_extra(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    """The README's first setup command installs no extra: the default scenario runs."""
    _hide(monkeypatch, *(name for modules in EXTRAS.values() for name in modules))
    assert main(["run", "--duration", "12 s", "--quiet", "--no-plots",
                 "--out", str(tmp_path)]) == 0
    assert list((tmp_path / "default").glob("*/summary.json"))
