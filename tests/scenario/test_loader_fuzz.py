"""Whatever the input, loading a scenario raises ScenarioError or nothing (never a traceback)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from scenario_helpers import BASE, reachable_models

from sim.scenario.loader import load_scenario
from sim.scenario.problems import ScenarioError
from sim.scenario.schema import Scenario

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _schema_words() -> list[str]:
    words: set[str] = set()
    for model in reachable_models():
        for name, info in model.model_fields.items():
            words.add(info.alias or name)
        words.update(_literal_values(model))
    return sorted(words)


def _literal_values(model: type[BaseModel]) -> set[str]:
    values: set[str] = set()
    for info in model.model_fields.values():
        args = getattr(info.annotation, "__args__", ())
        values.update(str(v) for v in args if isinstance(v, str))
    return values


WORDS = [*_schema_words(), "mec1", "cloud", "students", "nearest_mec", "recommend"]
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
KEYS = st.one_of(st.sampled_from(WORDS), TEXT, st.integers(-3, 3))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True), TEXT, st.sampled_from(WORDS),
    st.sampled_from(["10 Mbps", "10 Mbs", "-1 s", "5 ms", "1.5 GB", "3%", "2 /s", "0", "1e999"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=25,
)
YAMLISH = st.lists(
    st.sampled_from([*"{}[]:,-&*!|>'\"%@`#?<=\n\t ab01.~", "!!python/object ", "<<", "  - "]),
    max_size=40,
).map("".join)
OVERRIDES = st.lists(
    st.tuples(st.sampled_from(["", "seed", "nodes[0]", "nodes[mec1]", "links[9]", "a.b", "x["]),
              st.sampled_from(["", ".kind", ".compute.servers", "[0]", "..", "]"]),
              st.sampled_from(["=", "", "=="]), st.sampled_from(["", "3", "[1", "{a: 1}", "x"]))
    .map("".join),
    max_size=3,
)

BASE_DATA: dict[str, Any] = yaml.safe_load(BASE)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "scenario.yaml"


def check(path: Path, overrides: list[str] | None = None) -> None:
    try:
        loaded = load_scenario(path, overrides or ())
    except ScenarioError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file is not None
            assert problem.line is not None or problem.file.startswith(("--set ", str(path)))
        assert str(exc)
    else:
        assert isinstance(loaded.scenario, Scenario)


def _mutate(data: Any, path: list[int], value: Any) -> Any:
    """Replace the node reached by following ``path`` (indices taken modulo sizes)."""
    if not path or not isinstance(data, dict | list) or not data:
        return value
    if isinstance(data, dict):
        key = list(data)[path[0] % len(data)]
        data[key] = _mutate(data[key], path[1:], value)
    else:
        index = path[0] % len(data)
        data[index] = _mutate(data[index], path[1:], value)
    return data


@FUZZ
@given(document=st.one_of(st.dictionaries(KEYS, VALUES, max_size=8), VALUES))
def test_random_documents(scratch: Path, document: Any) -> None:
    scratch.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    check(scratch)


@FUZZ
@given(path=st.lists(st.integers(0, 20), max_size=6), value=VALUES, overrides=OVERRIDES)
def test_mutated_valid_scenario(
    scratch: Path, path: list[int], value: Any, overrides: list[str]
) -> None:
    data = _mutate(copy.deepcopy(BASE_DATA), path, value)
    scratch.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    check(scratch, overrides)


@FUZZ
@given(text=st.one_of(YAMLISH, st.text(max_size=60).map(lambda t: BASE[: len(t) * 5] + t)))
def test_random_text(scratch: Path, text: str) -> None:
    scratch.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    check(scratch)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_random_bytes(scratch: Path, raw: bytes) -> None:
    scratch.write_bytes(raw)
    check(scratch)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        "a: " + "{b: " * 3000 + "1" + "}" * 3000,
        "x: &a [*a]\n",
        "nodes: &a [*a]\nname: x\nduration: 1\n",
        "network: &a {tcp: *a}\nname: x\nduration: 1\nnodes: [{name: a, kind: core}]\n",
        "seed: " + "1" * 10000,
        "duration: " + "1" * 400,
        "duration: 1e999\nname: x\nnodes: [{name: a, kind: core}]\n",
        "? [a, b]\n: 1\n",
        "? {a: 1}\n: 1\n",
        "name: !!binary '###'\n",
        "when: 2001-13-45\n",
        "\ufeffname: x\n",
        "name: x\x00\n",
        "*unknown\n",
        "a: &x 1\nb: &x 2\n",
        "<<: [1, 2]\n",
        "a: !custom 1\n",
    ],
)
def test_nasty_inputs(scratch: Path, text: str) -> None:
    scratch.write_text(text, encoding="utf-8")
    check(scratch)
