"""Bounded input: alias bombs, huge values in messages, paths that are not regular files.

A 1 kB YAML file can name a value that expands to billions of nodes through nested
aliases; the loader must refuse it from the node tree, before any value is built or
formatted, and answer within a fraction of a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from scenario_helpers import BASE, write

from sim.scenario.limits import MAX_FILE_BYTES, MAX_SHOWN, MAX_YAML_NODES
from sim.scenario.loader import load_scenario
from sim.scenario.problems import ScenarioError
from sim.scenario.units import show
from sim.scenario.yaml_source import expanded_size

ROOT = Path(__file__).resolve().parents[2]


def _bomb(levels: int, width: int = 9) -> str:
    """Anchors ``l0 .. l<levels>``, each a list of ``width`` aliases to the one before."""
    lines = [f"l0: &l0 [{', '.join(['1'] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _naive_size(node: yaml.Node) -> int:
    """Expanded node count by plain recursion (the independent reference)."""
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(_naive_size(c) for c in node.value)
    if isinstance(node, yaml.MappingNode):
        return 1 + sum(_naive_size(k) + _naive_size(v) for k, v in node.value)
    return 1


@pytest.mark.parametrize("text", [
    "a: 1", "[1, 2, [3, 4]]", _bomb(2, 3), "base: &b {x: 1, y: [1, 2]}\nother: {<<: *b, z: *b}",
])
def test_expanded_size_counts_every_alias_expansion(text: str) -> None:
    node = yaml.compose(text)
    assert expanded_size(node) == _naive_size(node)


def test_expanded_size_stops_at_the_limit_without_expanding() -> None:
    node = yaml.compose(_bomb(12))  # 9**12 leaves: a recursive count would never end
    started = time.perf_counter()
    assert expanded_size(node, limit=1000) == 1001
    assert time.perf_counter() - started < 1


def test_a_recursive_alias_is_counted_once() -> None:
    assert expanded_size(yaml.compose("a: &a [1, *a]")) == 5


def test_alias_bomb_is_refused_before_validation(tmp_path: Path) -> None:
    text = _bomb(8) + BASE.replace("duration: 10 s", "duration: *l8")
    assert len(text.encode()) < 1500
    path = write(tmp_path, text)
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert time.perf_counter() - started < 2
    message = str(info.value)
    assert f"{MAX_YAML_NODES:,}" in message and len(message) < 300


def test_alias_bomb_through_set_is_refused(tmp_path: Path) -> None:
    levels = ", ".join(f"&l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9))
    value = f"[&l0 [1, 1, 1, 1, 1, 1, 1, 1, 1], {levels}]"
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, BASE), [f"duration={value}"])
    assert f"{MAX_YAML_NODES:,}" in str(info.value)


def test_a_bomb_under_the_limit_gives_a_short_message(tmp_path: Path) -> None:
    text = _bomb(4) + BASE.replace("duration: 10 s", "duration: [*l4, *l4, *l4]")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    duration = [p for p in info.value.problems if p.loc == ("duration",)]
    assert len(duration) == 1 and len(duration[0].message) < 2 * MAX_SHOWN + 40


@pytest.mark.parametrize("value", [
    "x" * 10**6, [[[["y" * 10**5] * 100] * 100] * 100], 10**5000, {"k" * 1000: list(range(10**5))},
    -(10**4000),
], ids=["long-string", "nested-lists", "huge-int", "big-dict", "huge-negative"])
def test_show_cuts_before_formatting(value: object) -> None:
    started = time.perf_counter()
    text = show(value)
    assert len(text) <= MAX_SHOWN
    assert time.perf_counter() - started < 0.1


def test_show_keeps_short_values_as_yaml_writes_them() -> None:
    assert show("5 ms") == '"5 ms"'
    assert show([1, "a", {"b": None}]) == "[1, \"a\", {\"b\": None}]"
    assert show(1.5) == "1.5" and show(True) == "True" and show(10**20) == str(10**20)


def _validate(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run_sim.py", "validate", *args], check=False, cwd=ROOT,
        capture_output=True,
        text=True, timeout=30, input=None if stdin is None else stdin.decode(),
        stdin=subprocess.DEVNULL if stdin is None else None)


def test_dev_zero_is_refused() -> None:
    done = _validate(["/dev/zero"])
    assert done.returncode == 2 and "is a device" in done.stderr


def test_fifo_without_writer_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = _validate([str(fifo)])
    assert done.returncode == 2 and "named pipe" in done.stderr


@pytest.mark.parametrize(("name", "expected"), [
    (".", "is a directory"), ("absent.yaml", "no such file")])
def test_directories_and_missing_files(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        load_scenario(tmp_path / name)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ScenarioError, match="larger than the limit"):
        load_scenario(path)


def test_dash_reads_the_scenario_from_stdin() -> None:
    done = _validate(["-"], stdin=(ROOT / "scenarios" / "ci" / "pass.yaml").read_bytes())
    assert done.returncode == 0, done.stderr
    assert "-: ok" in done.stdout
