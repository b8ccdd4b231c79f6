"""Cross-reference checks between nodes, links, routes and workloads."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from scenario_helpers import BASE, edit, write

from sim.scenario.loader import load_scenario
from sim.scenario.problems import ScenarioError
from sim.scenario.references import check_references
from sim.scenario.schema import Scenario

Data = dict[str, Any]

ROUTER = {"name": "r1", "kind": "router"}
CORE = {"name": "core", "kind": "core"}


def problems_of(change: Callable[[Data], None]) -> list[tuple[str, str]]:
    """(key path, message) of the problems after ``change`` is applied to BASE."""
    data: Data = copy.deepcopy(yaml.safe_load(BASE))
    change(data)
    scenario = Scenario.model_validate(data)
    return [(p.format().removeprefix("<scenario>: ").split(": ")[0], p.message)
            for p in check_references(scenario)]


def test_base_is_clean() -> None:
    assert problems_of(lambda d: None) == []


def test_duplicate_node_name() -> None:
    assert problems_of(lambda d: d["nodes"].append({"name": "mec1", "kind": "router"})) == [
        ("nodes[3].name", 'duplicate node name "mec1" (also nodes[1])'),
    ]


def test_link_end_is_not_a_node() -> None:
    def change(d: Data) -> None:
        d["links"][0]["b"] = "mec9"
        d["links"][0]["a"] = "cloud"

    assert problems_of(change) == [
        ("links[0].b", '"mec9" is not a node (did you mean "mec1"?)'),
    ]


def test_link_to_itself() -> None:
    assert problems_of(lambda d: d["links"][0].update(b="mec1")) == [
        ("links[0].b", 'link from "mec1" to itself'),
    ]


def test_duplicate_link() -> None:
    link = {"a": "cloud", "b": "mec1", "bandwidth": 5}
    assert problems_of(lambda d: d["links"].append(link)) == [
        ("links[1]", 'duplicate link between "cloud" and "mec1" (also links[0])'),
    ]


def test_link_to_user_group() -> None:
    link = {"a": "students", "b": "cloud", "bandwidth": 5}
    (problem,) = problems_of(lambda d: d["links"].append(link))
    assert problem[0] == "links[1].a"
    assert problem[1].startswith('"students" is a user group; user groups connect through')


def test_attach_to_unknown_node() -> None:
    assert problems_of(lambda d: d["nodes"][2].update(attach="mec2")) == [
        ("nodes[2].attach", '"mec2" is not a node (did you mean "mec1"?)'),
    ]


def test_attach_to_user_group() -> None:
    group = {"name": "teachers", "kind": "users", "attach": "students",
             "access": {"bandwidth": 5}}
    (problem,) = problems_of(lambda d: d["nodes"].append(group))
    assert problem[0] == "nodes[3].attach"
    assert problem[1].startswith('"students" is a user group')


def test_routes() -> None:
    def change(d: Data) -> None:
        d["nodes"].append(ROUTER)
        d["routes"] = [
            {"src": "students", "via": ["mec1"], "dst": "cloud"},
            {"src": "students", "via": ["r1"], "dst": "cloud"},
            {"src": "students", "via": ["mec2"], "dst": "clod"},
        ]

    assert problems_of(change) == [
        ("routes[1].via[0]", 'no link between "students" and "r1"'),
        ("routes[1].dst", 'no link between "r1" and "cloud"'),
        ("routes[2].via[0]", '"mec2" is not a node (did you mean "mec1"?)'),
        ("routes[2].dst", '"clod" is not a node (did you mean "cloud"?)'),
    ]


def _workload(d: Data) -> Data:
    workload: Data = d["workloads"][0]
    return workload


def test_duplicate_workload_name() -> None:
    assert problems_of(lambda d: d["workloads"].append(copy.deepcopy(_workload(d)))) == [
        ("workloads[1].name", 'duplicate workload name "recommend" (also workloads[0])'),
    ]


def test_client_is_not_a_user_group() -> None:
    assert problems_of(lambda d: _workload(d).update(clients=["students", "mec1", "studens"])) == [
        ("workloads[0].clients[1]", '"mec1" is not a user group (it is a mec)'),
        ("workloads[0].clients[2]", '"studens" is not a node (did you mean "students"?)'),
    ]


def test_serve_named_site() -> None:
    assert problems_of(lambda d: _workload(d).update(serve="cloud")) == []
    assert problems_of(lambda d: _workload(d).update(serve="mec1")) == []


def test_serve_unknown_node() -> None:
    assert problems_of(lambda d: _workload(d).update(serve="mec2")) == [
        ("workloads[0].serve", '"mec2" is not a node (did you mean "mec1"?)'),
    ]


def test_serve_node_without_compute() -> None:
    def change(d: Data) -> None:
        d["nodes"].append(CORE)
        d["nodes"][1].pop("compute")
        d["workloads"].append({**copy.deepcopy(_workload(d)), "name": "b", "serve": "core",
                               "job": "recommend"})
        _workload(d).update(serve="mec1")

    assert problems_of(change) == [
        ("workloads[0].serve",
         '"mec1" is a site without compute; serve needs a mec or cloud node with compute'),
        ("workloads[1].serve",
         '"core" is a core node; serve needs a mec or cloud node with compute'),
    ]


def test_nearest_mec_needs_a_mec_with_compute() -> None:
    assert problems_of(lambda d: d["nodes"][1].pop("compute")) == [
        ("workloads[0].serve", '"nearest_mec" needs at least one mec node with compute'),
    ]


def test_cloud_needs_exactly_one_cloud_with_compute() -> None:
    def no_cloud(d: Data) -> None:
        d["nodes"][0].pop("compute")
        _workload(d).update(serve="cloud")

    def two_clouds(d: Data) -> None:
        d["nodes"].append({**copy.deepcopy(d["nodes"][0]), "name": "cloud2"})
        _workload(d).update(serve="cloud")

    assert problems_of(no_cloud) == [
        ("workloads[0].serve", '"cloud" needs exactly one cloud node with compute, found no'),
    ]
    assert problems_of(two_clouds) == [
        ("workloads[0].serve",
         '"cloud" needs exactly one cloud node with compute, found 2 (cloud, cloud2): '
         "name one of them"),
    ]


def test_forward_to() -> None:
    assert problems_of(lambda d: _workload(d).update(forward_to="clod")) == [
        ("workloads[0].forward_to", '"clod" is not a node (did you mean "cloud"?)'),
    ]
    # Without forwarding, "cloud" need not exist.
    assert problems_of(lambda d: d["nodes"][0].pop("compute")) == []

    def forwarding_without_cloud(d: Data) -> None:
        d["nodes"][0].pop("compute")
        _workload(d).update(forward_fraction=0.5)

    assert problems_of(forwarding_without_cloud) == [
        ("workloads[0].forward_to", '"cloud" needs exactly one cloud node with compute, found no'),
    ]


def test_service_time_for_job_kind() -> None:
    # serve: nearest_mec needs some MEC site that runs the job kind.
    assert problems_of(lambda d: _workload(d).update(job="vr")) == [
        ("workloads[0].job", 'no mec site has a service time for job kind "vr"'),
    ]
    assert problems_of(lambda d: _workload(d).update(name="render")) == [
        ("workloads[0].name", 'no mec site has a service time for job kind "render"'),
    ]
    # A named site must run it itself.
    assert problems_of(lambda d: _workload(d).update(job="vr", serve="mec1")) == [
        ("workloads[0].job", 'site "mec1" has no service time for job kind "vr"'),
    ]


def test_service_time_at_forward_site() -> None:
    def change(d: Data) -> None:
        d["nodes"][0]["compute"]["service"] = {"other": {"dist": "deterministic", "value": 1}}
        _workload(d).update(forward_fraction="10%")

    assert problems_of(change) == [
        ("workloads[0].name", 'site "cloud" has no service time for job kind "recommend"'),
    ]
    def no_forwarding(d: Data) -> None:
        change(d)
        _workload(d).update(forward_fraction=0)

    assert problems_of(no_forwarding) == []


def test_nearest_mec_ignores_mec_sites_without_the_job_kind() -> None:
    # A MEC site that runs other services is simply not a candidate.
    def change(d: Data) -> None:
        d["nodes"].append({"name": "mec2", "kind": "mec", "compute": {
            "service": {"vr": {"dist": "deterministic", "value": "1 ms"}}}})

    assert problems_of(change) == []


def test_reference_problems_located_in_file(tmp_path: Path) -> None:
    text = edit(BASE, "    attach: mec1\n", "    attach: mec2\n")
    text = edit(text, "    clients: [students]\n", "    clients: [students, mec1]\n")
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [p.format() for p in info.value.problems] == [
        f'{path}:19:13: nodes[2].attach: "mec2" is not a node (did you mean "mec1"?)',
        f'{path}:31:25: workloads[0].clients[1]: "mec1" is not a user group (it is a mec)',
    ]


def test_reference_checks_run_only_after_schema_passes(tmp_path: Path) -> None:
    text = edit(BASE, "    b: cloud\n", "    b: clod\n")
    path = write(tmp_path, edit(text, "duration: 10 s\n", "duration: 0 s\n"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [p.loc for p in info.value.problems] == [("duration",)]
