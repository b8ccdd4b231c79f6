"""Random damage to a valid scenario: the CLI answers 0 or 2, never a traceback."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


PATHS = _paths(BASE)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["10 Mbps", "-5 ms", "0", "1e400", "nearest_mec",
                                           "cloud", "mec-dorms", "5%", "users", "[]"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(),
                                                         max_size=2))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), SCALARS), min_size=1, max_size=4))
def test_damaged_scenarios_never_crash_validate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    doc = copy.deepcopy(BASE)
    for path, value in edits:
        try:
            _set(doc, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed the parent
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc))
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "Traceback" not in out + err and "internal error" not in err


def _set_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _yaml_value(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix(
        "\n...").removesuffix("...").strip()


EXTREMES = st.sampled_from([
    "1e300", "-1e300", "1e-300", "0", "1 ns", "1e12 /s", "1e9 s", "1e300 s", "10000000",
    str(10**30), "[]", "{}", "null", "*x", "&a [*a]", "1e400 Mbps", "nan", "-0",
])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS),
                          st.one_of(EXTREMES, SCALARS.map(_yaml_value))),
                min_size=1, max_size=3))
def test_set_overrides_from_the_schema_never_crash(
        capsys: pytest.CaptureFixture[str], edits: list[tuple[tuple[Any, ...], str]]) -> None:
    """``--set`` of every key path of the default scenario to valid, extreme and mutated
    values: validate answers 0 or 2 at once, never 3, with short messages."""
    args = ["validate", str(ROOT / "scenarios" / "default.yaml")]
    for path, value in edits:
        args += ["--set", f"{_set_path(path)}={value}"]
    started = time.perf_counter()
    code = main(args)
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "Traceback" not in out + err and "internal error" not in err
    assert time.perf_counter() - started < 10 and len(err) < 20_000
