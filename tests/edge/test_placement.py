"""Placement of request/response jobs (edge.placement) driven by the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from edge.placement import Candidate, expected_latency
from sim.compute import ComputeSite
from sim.run.builder import Run
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import ComputeSpec

BUDGET = 0.1


def scenario(placement: dict[str, Any] | None, users: int = 300) -> dict[str, Any]:
    """A MEC site of 2 servers (10 ms mean: 200 jobs/s) next to its users, a cloud of
    64 servers 20 ms away; `users` Poisson senders of 1 request/s."""
    service = {"recommend": {"dist": "exponential", "mean": "10 ms"}}
    workload: dict[str, Any] = {
        "kind": "request_response", "name": "recommend", "clients": ["learners"],
        "arrivals": {"process": "poisson", "rate": "1 /s"},
        "request_size": "1 kB", "response_size": "5 kB"}
    if placement is not None:
        workload["placement"] = placement
    return {
        "name": "placement", "seed": 3, "duration": 60.0, "warmup": 10.0,
        "output": {"tables": False, "plots": False},
        "nodes": [
            {"name": "mec1", "kind": "mec", "compute": {"servers": 2, "service": service}},
            {"name": "cloud", "kind": "cloud", "compute": {"servers": 64, "service": service}},
            {"name": "learners", "kind": "users", "count": users, "attach": "mec1",
             "access": {"bandwidth": "100 Mbps", "delay": "2 ms"}},
        ],
        "links": [{"a": "mec1", "b": "cloud", "bandwidth": "10 Gbps", "delay": "20 ms"}],
        "workloads": [workload],
    }


def run(tmp_path: Path, data: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = Run(load_scenario(path).scenario).execute()
    return out.tables["requests"], out.summary["requests"]["recommend"]


def test_latency_aware_keeps_p95_in_budget_where_nearest_mec_drowns(tmp_path: Path) -> None:
    # 300 requests/s at a site that serves 200/s: utilisation 1.5.
    _, nearest = run(tmp_path, scenario({"policy": "nearest_mec"}))
    table, aware = run(tmp_path, scenario({"policy": "latency_aware", "budget": "100 ms"}))
    assert nearest["latency_s"]["p95"] > 10 * BUDGET  # the MEC queue grows without bound
    assert aware["latency_s"]["p95"] <= BUDGET
    sites = table["site"][~table["rejected"]]
    # The edge keeps what it can serve in time; the rest goes to the cloud.
    share_mec = float(np.mean(sites == "mec1"))
    assert 0.5 < share_mec < 200 / 300 + 0.05


def test_admission_control_rejects_instead_of_queueing(tmp_path: Path) -> None:
    table, summary = run(tmp_path, scenario({"policy": "latency_aware", "budget": "50 ms",
                                              "sites": ["mec1"], "admission": "reject"}))
    assert summary["rejected"] > 0
    assert summary["completed"] + summary["rejected"] + summary["incomplete"] == summary["sent"]
    assert summary["latency_s"]["p95"] <= 0.05
    assert np.all(np.isnan(table["t_response"][table["rejected"]]))


def test_cloud_only_and_least_loaded(tmp_path: Path) -> None:
    table, _ = run(tmp_path, scenario({"policy": "cloud_only"}, users=20))
    assert set(table["site"]) == {"cloud"}
    # 64 idle cloud servers always have fewer jobs per server than a busy MEC site.
    table, _ = run(tmp_path, scenario({"policy": "least_loaded"}, users=300))
    assert float(np.mean(table["site"] == "cloud")) > 0.3


def test_expected_latency_counts_the_jobs_ahead() -> None:
    import simpy

    from sim.engine import Streams

    spec = ComputeSpec.model_validate(
        {"servers": 2, "service": {"j": {"dist": "deterministic", "value": 0.01}}})
    site = ComputeSite(simpy.Environment(), "s", spec, Streams(1))
    cand = Candidate("s", site, network=0.004, mean_service=0.01, is_cloud=False)
    assert expected_latency(cand) == pytest.approx(0.014)  # a server is free
    for _ in range(5):  # 2 in service, 3 waiting
        site.submit("j", lambda *_: None, None)
    # 5 jobs ahead on 2 servers: the new one waits (5 + 1 - 2) x 10 ms / 2 = 20 ms.
    assert expected_latency(cand) == pytest.approx(0.004 + 0.02 + 0.01)


@pytest.mark.parametrize(("placement", "where", "message"), [
    ({"policy": "latency_aware"}, "workloads[0].placement", "needs a `budget`"),
    ({"policy": "cloud_only", "sites": ["mec1"]}, "workloads[0].placement.policy",
     "cloud_only needs a cloud node"),
    ({"policy": "nearest_mec", "sites": ["mecX"]}, "workloads[0].placement.sites[0]",
     '"mecX" is not a node'),
])
def test_bad_placements_are_located_errors(tmp_path: Path, placement: dict[str, Any],
                                           where: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(scenario(placement), sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "bad.yaml" in text and where in text and message in text, text


def test_placement_and_forwarding_do_not_mix(tmp_path: Path) -> None:
    data = scenario({"policy": "nearest_mec"})
    data["workloads"][0]["forward_fraction"] = 0.1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError, match="either `placement` or `forward_fraction`"):
        load_scenario(path)


def test_latency_quantile_is_the_erlang_quantile_on_one_exponential_server() -> None:
    import simpy
    from scipy.stats import erlang

    from edge.placement import latency_quantile
    from sim.engine import Streams

    spec = ComputeSpec.model_validate(
        {"servers": 1, "service": {"j": {"dist": "exponential", "mean": 0.01}}})
    site = ComputeSite(simpy.Environment(), "s", spec, Streams(1))
    cand = Candidate("s", site, network=0.003, mean_service=0.01, is_cloud=False,
                     sd_service=0.01)
    for jobs in range(4):
        # One server, `jobs` ahead: the latency is network + Erlang(jobs + 1, 10 ms)
        # (the residual of the job in service is exponential too, by memorylessness).
        expected = 0.003 + erlang.ppf(0.95, jobs + 1, scale=0.01)
        assert latency_quantile(cand, 0.95) == pytest.approx(expected, rel=1e-9)
        site.submit("j", lambda *_: None, None)


def test_forwarding_to_a_groups_own_site_serves_it_there(tmp_path: Path) -> None:
    data = scenario(None, users=20)
    data["workloads"][0].update({"serve": "mec1", "forward_to": "mec1",
                                 "forward_fraction": 0.5})
    table, summary = run(tmp_path, data)
    assert summary["completed"] > 0 and not table["forwarded"].any()
    assert set(table["site"]) == {"mec1"}


def test_latency_aware_placement_works_for_radio_users(tmp_path: Path) -> None:
    # Radio channels have no fixed rate: the estimate uses propagation and air latency
    # (route delays) and the wired links' rates, so an idle system admits everything.
    data = scenario({"policy": "latency_aware", "budget": "100 ms", "admission": "reject"},
                    users=5)
    data["radio"] = {"cells": [{"name": "cell", "position": [0, 0], "attach": "mec1",
                                "deployment": "UMi", "carrier": "3.5 GHz",
                                "bandwidth": "40 MHz", "numerology": 1}]}
    data["nodes"][2].pop("access")
    data["nodes"][2]["radio"] = {"placement": {"kind": "disc", "center": "cell",
                                               "radius": "50 m"}}
    data["duration"], data["warmup"] = 20.0, 2.0
    _, summary = run(tmp_path, data)
    assert summary["rejected"] == 0 and summary["completed"] > 50
