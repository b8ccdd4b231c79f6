"""Loading scenario files: located errors, all at once, and ``--set`` overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from scenario_helpers import BASE, edit, position, write

from sim.scenario.loader import Document, LoadedScenario, load_scenario, read_document
from sim.scenario.problems import Problem, ScenarioError


def errors(path: str, overrides: tuple[str, ...] = ()) -> list[str]:
    """The formatted problems of loading ``path`` (which must fail)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    assert str(info.value) == "\n".join(p.format() for p in info.value.problems)
    return [p.format() for p in info.value.problems]


def single_error(path: str, overrides: tuple[str, ...] = ()) -> str:
    found = errors(path, overrides)
    assert len(found) == 1, found
    return found[0]


# ----------------------------------------------------------------------- success


def test_minimal_scenario_loads(tmp_path: Path) -> None:
    loaded = load_scenario(write(tmp_path, BASE))
    assert isinstance(loaded, LoadedScenario)
    scenario = loaded.scenario
    assert scenario.duration == 10.0
    assert [n.name for n in scenario.nodes] == ["cloud", "mec1", "students"]
    assert scenario.links[0].bandwidth == 1e9
    assert scenario.links[0].delay == pytest.approx(0.01)
    assert scenario.workloads[0].request_size == 1000.0
    assert loaded.document.data == yaml.safe_load(BASE)


def test_data_is_what_safe_load_gives(tmp_path: Path) -> None:
    text = "a: 1\nb: [yes, no, on, 1.5e3, 0x10, ~, 2001-12-14]\nc: {d: '5 ms'}\n"
    document = read_document(write(tmp_path, text))
    assert document.data == yaml.safe_load(text)


def test_path_is_kept_as_given(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert read_document(path).path == path


def test_anchors_aliases_and_merge_keys(tmp_path: Path) -> None:
    text = edit(
        BASE, "      service:\n        recommend: {dist: exponential, mean: 20 ms}\n",
        "      service: &svc\n        recommend: {dist: exponential, mean: 20 ms}\n",
    )
    text = edit(
        text, "      service:\n        recommend: {dist: exponential, mean: 5 ms}\n",
        "      service:\n        <<: *svc\n        extra: {dist: exponential, mean: 1 ms}\n",
    )
    loaded = load_scenario(write(tmp_path, text))
    compute = loaded.scenario.nodes[1].compute  # type: ignore[union-attr]
    assert compute is not None
    assert set(compute.service) == {"recommend", "extra"}


def test_merge_key_may_be_overridden_locally(tmp_path: Path) -> None:
    text = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n"
    assert read_document(write(tmp_path, text)).data["m"] == {"x": 1, "y": 3}


def test_error_inside_merged_content_is_located(tmp_path: Path) -> None:
    text = BASE + "output:\n  <<: {tables: maybe}\n  plots: true\n"
    path = write(tmp_path, text)
    message = single_error(path)
    assert message.startswith(f"{path}:36:")
    assert 'output.tables: expected true or false (got "maybe")' in message


# ------------------------------------------------------------- reading the file


def test_missing_file(tmp_path: Path) -> None:
    path = f"{tmp_path}/nope.yaml"
    assert single_error(path) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert single_error(str(tmp_path)) == f"{tmp_path}: is a directory, not a file"


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b"name: demo\nduration: \xff\n")
    assert single_error(path) == f"{path}:2:11: not UTF-8 text (byte 0xff)"


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = edit(BASE, "    bandwidth: 1 Gbps\n", "    bandwidth: [1 Gbps\n")
    path = write(tmp_path, text)
    assert single_error(path) == (
        f"{path}:27:10: YAML syntax: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 26)"
    )


def test_yaml_tab_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: demo\n\tduration: 1\n")
    assert single_error(path).startswith(
        f"{path}:2:1: YAML syntax: found character '\\t' that cannot start any token"
    )


def test_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: !!python/object/apply:os.system [echo hi]\n")
    message = single_error(path)
    assert message.startswith(f"{path}:1:7: unsupported tag ")
    assert "python/object/apply:os.system" in message


def test_unreadable_value(tmp_path: Path) -> None:
    path = write(tmp_path, "seed: " + "9" * 5000 + "\n")
    assert single_error(path).startswith(f"{path}:1:7: cannot read this value")


def test_empty_document(tmp_path: Path) -> None:
    path = write(tmp_path, "# only a comment\n")
    assert single_error(path).startswith(f"{path}:1:1: empty document")


def test_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- name: demo\n- duration: 10\n")
    assert single_error(path) == (
        f"{path}:1:1: the top level must be a mapping of keys (name: ..., nodes: ...), not a list"
    )


def test_several_documents(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "---\nname: other\n")
    assert single_error(path) == (
        f"{path}:35:1: YAML syntax: expected a single document in the stream, "
        "but found another document"
    )


def test_duplicate_key(tmp_path: Path) -> None:
    text = edit(BASE, "    delay: 10 ms\n", "    delay: 10 ms\n    delay: 20 ms\n")
    path = write(tmp_path, text)
    assert single_error(path) == f'{path}:28:5: duplicate key "delay" (first at line 27)'


def test_duplicate_keys_all_reported(tmp_path: Path) -> None:
    text = "name: a\nname: b\nseed: 1\nx: {k: 1, k: 2}\nseed: 2\n"
    path = write(tmp_path, text)
    assert errors(path) == [
        f'{path}:2:1: duplicate key "name" (first at line 1)',
        f'{path}:4:11: duplicate key "k" (first at line 4)',
        f'{path}:5:1: duplicate key "seed" (first at line 3)',
    ]


# ------------------------------------------------------------ schema violations


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    text = edit(BASE, "      delay: 5 ms\n", "      delai: 5 ms\n")
    path = write(tmp_path, text)
    assert single_error(path) == (
        f'{path}:22:7: nodes[2].access.delai: unknown key "delai" (did you mean "delay"?)'
    )


def test_unknown_key_lists_allowed_keys(tmp_path: Path) -> None:
    text = edit(BASE, "    delay: 10 ms\n", "    delay: 10 ms\n    colour: red\n")
    path = write(tmp_path, text)
    assert single_error(path) == (
        f'{path}:28:5: links[0].colour: unknown key "colour" '
        "(expected one of: a, b, bandwidth, trace, delay, jitter, loss)"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "sead: 3\n")
    assert single_error(path) == f'{path}:35:1: sead: unknown key "sead" (did you mean "seed"?)'


def test_bad_unit(tmp_path: Path) -> None:
    text = edit(BASE, "    bandwidth: 1 Gbps\n", "    bandwidth: 10 Mbs\n")
    path = write(tmp_path, text)
    assert single_error(path) == (
        f'{path}:26:16: links[0].bandwidth: "10 Mbs" is not a rate (e.g. "10 Mbps")'
    )


def test_negative_bandwidth(tmp_path: Path) -> None:
    text = edit(BASE, "      bandwidth: 100 Mbps\n", "      bandwidth: -100 Mbps\n")
    path = write(tmp_path, text)
    assert single_error(path) == (
        f'{path}:21:18: nodes[2].access.bandwidth: "-100 Mbps" must be positive'
    )


def test_per_direction_bandwidth_missing_key(tmp_path: Path) -> None:
    text = edit(BASE, "    bandwidth: 1 Gbps\n", "    bandwidth: {a_to_b: 1 Gbps}\n")
    path = write(tmp_path, text)
    assert single_error(path) == (
        f'{path}:26:16: links[0].bandwidth: missing required key "b_to_a"'
    )


def test_missing_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "duration: 10 s\n", ""))
    assert single_error(path) == f'{path}:1:1: missing required key "duration"'


def test_wrong_kind_tag(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "    kind: mec\n", "    kind: mek\n"))
    assert single_error(path) == (
        f'{path}:11:11: nodes[1].kind: "mek" is not a valid kind '
        '(did you mean "mec"?; expected one of: cloud, core, mec, router, users)'
    )


def test_missing_kind_tag(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "    kind: users\n", ""))
    assert single_error(path) == (
        f'{path}:16:5: nodes[2]: missing required key "kind" '
        "(expected one of: cloud, core, mec, router, users)"
    )


def test_wrong_nested_tag(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "process: poisson", "process: poison"))
    line, column = position(BASE, "poisson")
    assert single_error(path) == (
        f'{path}:{line}:{column}: workloads[0].arrivals.process: "poison" is not a valid '
        'process (did you mean "poisson"?; expected one of: deterministic, poisson)'
    )


def test_literal_with_did_you_mean(tmp_path: Path) -> None:
    text = edit(BASE, "      servers: 4\n", "      servers: 4\n      discipline: fifi\n")
    path = write(tmp_path, text)
    assert single_error(path) == (
        f'{path}:8:19: nodes[0].compute.discipline: "fifi" is not a valid discipline '
        '(did you mean "fifo"?; expected one of: fifo, priority)'
    )


def test_model_validator_message_is_placed_at_the_key_it_names(tmp_path: Path) -> None:
    text = BASE + "warmup: 20 s\n"
    path = write(tmp_path, text)
    line, column = position(text, "warmup:")
    assert single_error(path) == (
        f"{path}:{line}:{column}: warmup: warmup (20 s) must be shorter than duration (10 s)"
    )


def test_an_error_caused_by_a_flag_names_the_flag(tmp_path: Path) -> None:
    """``--duration 5s`` with ``warmup: 5 s``: the duration came from the flag (issue 17)."""
    from sim.scenario.overrides import FlagValue

    path = write(tmp_path, BASE + "warmup: 5 s\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, [FlagValue("--duration", "duration", "5s")])
    (problem,) = info.value.problems
    assert problem.format().startswith("--duration 5s: warmup (5 s) must be shorter than "
                                       "duration (5 s)")
    assert single_error(path, ("duration=5 s",)).startswith("--set duration=5 s: warmup")


def test_reference_checks_run_on_what_parsed(tmp_path: Path) -> None:
    """Schema and reference problems in one pass, without follow-on errors."""
    text = edit(BASE, "    kind: mec\n", "    kind: mecc\n")  # mec1 fails the schema
    text = edit(text, "workloads:\n", """\
  - a: students
    b: clod
    bandwidth: 1 Gbps
    delay: 1 ms
  - a: students
    b: cloud
    bandwidth: 1 Gbbps
    delay: 1 ms
workloads:
""")
    path = write(tmp_path, text)
    found = errors(path)
    assert any("nodes[1].kind" in f and "mecc" in f for f in found), found
    assert any("links[2].bandwidth" in f for f in found), found
    clod = [f for f in found if '"clod" is not a node' in f]
    assert len(clod) == 1 and "links[1].b" in clod[0], found
    line, _ = position(text, "b: clod")
    assert f":{line}:" in clod[0]
    # links[0] and the users attached to mec1 name the node that failed: not reported.
    assert not any('"mec1"' in f for f in found), found


def test_type_error_shows_value(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "    count: 10\n", "    count: many\n"))
    assert single_error(path) == (
        f'{path}:18:12: nodes[2].count: expected a whole number (got "many")'
    )


def test_range_error_on_int(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "      servers: 2\n", "      servers: 0\n"))
    assert single_error(path) == f"{path}:13:16: nodes[1].compute.servers: 0 must be at least 1"


def test_bad_name_in_mapping_key(tmp_path: Path) -> None:
    text = edit(BASE, "        recommend: {dist: exponential, mean: 5 ms}\n",
                "        9lives: {dist: exponential, mean: 5 ms}\n")
    path = write(tmp_path, text)
    message = errors(path)[0]
    assert message == (
        f'{path}:15:9: nodes[1].compute.service.9lives: "9lives" is not a valid name '
        "(a letter, then letters, digits, _ or -)"
    )


def test_union_members_merged(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "qos:\n  - {metric: x, max: [1]}\n")
    assert single_error(path) == (
        f"{path}:36:22: qos[0].max: expected a number or a string (got [1])"
    )


def test_several_errors_in_line_order(tmp_path: Path) -> None:
    text = edit(BASE, "    bandwidth: 1 Gbps\n", "    bandwidth: 10 Mbs\n")
    text = edit(text, "    kind: mec\n", "    kind: mek\n")
    text = edit(text, "      delay: 5 ms\n", "      delai: 5 ms\n")
    text = edit(text, "duration: 10 s\n", "duration: -1 s\n")
    path = write(tmp_path, text + "sead: 3\n")
    found = errors(path)
    assert [m.split(": ")[0] for m in found] == [
        f"{path}:2:11", f"{path}:11:11", f"{path}:22:7", f"{path}:26:16", f"{path}:35:1",
    ]
    assert "duration" in found[0]
    assert "nodes[1].kind" in found[1]
    assert "nodes[2].access.delai" in found[2]
    assert "links[0].bandwidth" in found[3]
    assert "sead" in found[4]


def test_reference_errors_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "    b: cloud\n", "    b: clod\n"))
    assert single_error(path) == (
        f'{path}:25:8: links[0].b: "clod" is not a node (did you mean "cloud"?)'
    )


# ------------------------------------------------------------------ locate


def test_locate_paths(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, BASE))
    path = document.path

    def where(*loc: str | int, on_key: bool = False) -> tuple[str | None, int | None, int | None]:
        located = document.locate(Problem(loc, "x", on_key=on_key))
        return located.file, located.line, located.column

    assert where("links", 0, "bandwidth") == (path, 26, 16)
    assert where("links", 0, "bandwidth", on_key=True) == (path, 26, 5)
    assert where("links", 0) == (path, 24, 5)
    assert where("nodes", 2, "access", "jitter") == (path, 21, 7)  # absent: the parent mapping
    assert where("nodes", 9, "name") == (path, 4, 3)  # no such index: the list
    assert where() == (path, 1, 1)
    assert [p.line for p in document.locate_all([Problem(("name",), "a")])] == [1]


def test_locate_keeps_given_position() -> None:
    document = Document("x.yaml", {})
    problem = Problem(("a",), "m", file="elsewhere", line=3, column=4)
    assert document.locate(problem) is problem


# --------------------------------------------------------------------- --set


def test_set_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    loaded = load_scenario(path, [
        "seed=3", "duration=30 s", "nodes[mec1].compute.servers=8",
        "links[0].bandwidth=10 Gbps", "network.tcp.window=64kB", "output={tables: false}",
        "nodes[2].access.bandwidth={uplink: 1 Mbps, downlink: 2 Mbps}",
    ])
    scenario = loaded.scenario
    assert scenario.seed == 3
    assert scenario.duration == 30.0
    mec = scenario.nodes[1]
    assert mec.kind == "mec" and mec.compute is not None and mec.compute.servers == 8
    assert scenario.links[0].bandwidth == 1e10
    assert scenario.network.tcp is not None and scenario.network.tcp.window == 64e3
    assert scenario.output.tables is False
    assert loaded.document.data["seed"] == 3


def test_set_value_is_yaml(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, BASE), ["seed=3", "description=30 s", "name='7'"])
    assert document.data["seed"] == 3
    assert document.data["description"] == "30 s"
    assert document.data["name"] == "7"


def test_set_does_not_change_aliased_content(tmp_path: Path) -> None:
    text = "a: &x {k: 1}\nb: *x\n"
    document = read_document(write(tmp_path, text), ["b.k=2"])
    assert document.data == {"a": {"k": 1}, "b": {"k": 2}}


def test_set_invalid_value_names_the_argument(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert single_error(path, ("links[0].bandwidth=10 Mbs",)) == (
        '--set links[0].bandwidth=10 Mbs: links[0].bandwidth: "10 Mbs" is not a rate '
        '(e.g. "10 Mbps")'
    )


def test_set_created_mapping_missing_key(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert single_error(path, ("network.tcp.mss=1000",)) == (
        '--set network.tcp.mss=1000: network.tcp: missing required key "window"'
    )


def test_set_errors_with_file_errors(tmp_path: Path) -> None:
    path = write(tmp_path, edit(BASE, "    kind: mec\n", "    kind: mek\n"))
    found = errors(path, ("seed=-1",))
    assert found[0].startswith(f"{path}:11:11: nodes[1].kind:")
    assert found[1] == "--set seed=-1: seed: -1 must be at least 0"


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("seed", "expected PATH=VALUE"),
        ("=3", "bad key path: the path is empty"),
        ("links[0.bandwidth=1", "bad key path: expected [index] or [name] at position 6"),
        ("links..a=1", "bad key path: expected a key at position 7"),
        ("links.=1", "bad key path: the path ends with '.'"),
        ("links[]=1", "bad key path: expected [index] or [name] at position 6"),
        ("links[5].bandwidth=1", "links has 1 element, no index 5"),
        ("nodes[mec9].count=2", 'no element of nodes has name "mec9"'),
        ("duration.unit=s", "duration is not a mapping"),
        ("name[0]=x", "name is not a list"),
        ("seed=[1", "value is not valid YAML"),
    ],
)
def test_set_errors(tmp_path: Path, argument: str, message: str) -> None:
    path = write(tmp_path, BASE)
    with pytest.raises(ScenarioError) as info:
        read_document(path, [argument])
    (problem,) = info.value.problems
    assert problem.file == f"--set {argument}"
    assert problem.line is None
    assert message in problem.message
    assert problem.format().startswith(f"--set {argument}: ")


def test_set_errors_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    with pytest.raises(ScenarioError) as info:
        read_document(path, ["nodes[x].a=1", "seed=2", "links[3]=1"])
    assert [p.file for p in info.value.problems] == ["--set nodes[x].a=1", "--set links[3]=1"]


def test_set_ambiguous_name(tmp_path: Path) -> None:
    path = write(tmp_path, "nodes: [{name: a}, {name: a}]\n")
    with pytest.raises(ScenarioError, match='2 elements of nodes have name "a"'):
        read_document(path, ["nodes[a].x=1"])


def test_reference_problem_next_to_a_schema_problem_of_another_link(tmp_path: Path) -> None:
    text = edit(BASE, "    b: cloud\n    bandwidth: 1 Gbps\n",
                "    b: clod\n    bandwidth: 1 Gbps\n")
    text = edit(text, "workloads:\n",
                "  - {a: students, b: cloud, bandwidth: 1 Gbbps, delay: 1 ms}\nworkloads:\n")
    found = errors(write(tmp_path, text))
    assert [f.split(": ", 2)[1] for f in found] == ["links[0].b", "links[1].bandwidth"], found
