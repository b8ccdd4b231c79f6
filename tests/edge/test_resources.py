"""Site resources besides servers: memory held by jobs in service, cache storage."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy
import yaml
from conftest import queue_scenario
from rich.console import Console

from sim.cli.main import main
from sim.compute import ComputeSite, MemoryLimitedSite, compute_site
from sim.engine import Streams
from sim.qos.overview import summary_table
from sim.run.builder import Run
from sim.scenario.schema import MecNode, Scenario
from sim.stats import t_interval
from sim.theory import mmc_response

GB = 1e9


def memory_site(memory: float | None, servers: int, service: dict[str, Any],
                discipline: str = "fifo") -> tuple[simpy.Environment, ComputeSite]:
    env = simpy.Environment()
    node = MecNode.model_validate({"name": "m", "kind": "mec", "memory": memory, "compute": {
        "servers": servers, "discipline": discipline, "service": service}})
    return env, compute_site(env, node, Streams(1))


def deterministic(seconds: float, memory: str) -> dict[str, Any]:
    return {"dist": "deterministic", "value": seconds, "memory": memory}


def test_jobs_wait_for_memory_in_order() -> None:
    # 4 servers but 10 GB: two 4 GB jobs run at once, so four 1 s jobs end at 1, 1, 2, 2.
    env, site = memory_site(10 * GB, 4, {"a": deterministic(1.0, "4 GB")})
    assert isinstance(site, MemoryLimitedSite)
    ends: list[tuple[str, float, float]] = []
    for name in "pqrs":
        site.submit("a", lambda data, start: ends.append((data, start, env.now)), name)
    env.run()
    assert ends == [("p", 0, 1), ("q", 0, 1), ("r", 1, 2), ("s", 1, 2)]
    facts = site.resources(2.0)
    assert facts == {"memory_bytes": 10 * GB, "memory_peak_bytes": 8 * GB,
                     "memory_mean_bytes": 8 * GB, "memory_waits": 2}
    assert site.completions == 4


def test_a_job_that_does_not_fit_holds_back_the_ones_behind_it() -> None:
    # 10 GB: a 4 GB job runs; an 8 GB job waits for it, and so does a 1 GB job behind
    # the 8 GB one although it would fit (first come, first served: no backfilling).
    env, site = memory_site(10 * GB, 3, {"small": deterministic(1.0, "4 GB"),
                                         "big": deterministic(1.0, "8 GB"),
                                         "tiny": deterministic(1.0, "1 GB")})
    starts: dict[str, float] = {}
    for kind in ("small", "big", "tiny"):
        site.submit(kind, starts.__setitem__, kind)
    assert site.queue_length == 2 and site.busy == 1
    env.run()
    assert starts == {"small": 0.0, "big": 1.0, "tiny": 1.0}


def test_priority_still_orders_the_jobs_that_wait_for_memory() -> None:
    env, site = memory_site(4 * GB, 2, {"a": deterministic(1.0, "4 GB")}, "priority")
    order: list[str] = []
    for name, priority in (("first", 1), ("low", 2), ("high", 0)):
        site.submit("a", lambda data, start: order.append(data), name, priority)
    env.run()
    assert order == ["first", "high", "low"]


def test_unbinding_memory_changes_nothing_but_is_measured() -> None:
    # Jobs that declare memory at a site without a limit draw the same service times in
    # the same order as the plain site: identical results, plus the memory they used.
    base = queue_scenario(80.0, 0.010, 2, seed=3, duration=60.0, warmup=5.0)
    with_memory = copy.deepcopy(base)
    with_memory["nodes"][0]["compute"]["service"]["job"]["memory"] = "3 GB"
    plain = Run(Scenario.model_validate(base)).execute()
    measured = Run(Scenario.model_validate(with_memory)).execute()
    for column in ("t_start", "t_end", "t_response"):
        assert np.array_equal(plain.tables["requests"][column],
                              measured.tables["requests"][column], equal_nan=True)
    site = measured.summary["sites"]["site"]
    assert site["memory_bytes"] is None and site["memory_waits"] == 0
    assert site["memory_peak_bytes"] == 6 * GB  # both servers busy at some point
    assert site["memory_mean_bytes"] == pytest.approx(3 * GB * site["mean_busy"])
    assert "memory_peak_bytes" not in plain.summary["sites"]["site"]


def test_memory_for_three_jobs_makes_an_eight_server_site_an_mm3_queue() -> None:
    # Exponential 10 ms jobs of 2 GB at 8 servers with 6 GB: at most three run at once,
    # so the site is M/M/3 (Erlang C), not M/M/8.  Load 0.8 of three servers.
    arrival, mean = 240.0, 0.010
    samples = []
    for seed in range(1, 7):
        spec = queue_scenario(arrival, mean, 8, seed=seed, duration=300.0, warmup=30.0)
        spec["nodes"][0]["memory"] = "6 GB"
        spec["nodes"][0]["compute"]["service"]["job"]["memory"] = "2 GB"
        req = Run(Scenario.model_validate(spec)).execute().tables["requests"]
        keep = (req["t_send"] >= 30.0) & ~np.isnan(req["t_end"])
        samples.append(float((req["t_end"] - req["t_arrive"])[keep].mean()))
    low, high = t_interval(np.array(samples), level=0.99)
    assert low <= mmc_response(arrival, 1 / mean, 3) <= high, (low, high)
    assert mmc_response(arrival, 1 / mean, 8) < low


# ------------------------------------------------------------------- storage


def learning_scenario(storage: str | None, cache_sizes: list[str]) -> dict[str, Any]:
    mec: dict[str, Any] = {"name": "mec1", "kind": "mec", "compute": {"servers": 2, "service": {
        "recommend": {"dist": "exponential", "mean": "10 ms"}}}}
    if storage is not None:
        mec["storage"] = storage
    return {
        "name": "store", "seed": 2, "duration": 60.0,
        "output": {"tables": False, "plots": False},
        "nodes": [
            mec,
            {"name": "cloud", "kind": "cloud"},
            {"name": "learners", "kind": "users", "count": 20, "attach": "mec1",
             "access": {"bandwidth": "50 Mbps", "delay": "3 ms"}},
        ],
        "links": [{"a": "mec1", "b": "cloud", "bandwidth": "1 Gbps", "delay": "20 ms"}],
        "workloads": [
            {"kind": "course_learning", "name": f"learn{i}", "clients": ["learners"],
             "courses": 50, "segments": 10, "watch_segments": 3, "segment_duration": "1 s",
             "bitrate": "2 Mbps", "think_time": "2 s", "cache_size": size}
            for i, size in enumerate(cache_sizes)],
    }


def test_caches_that_overfill_a_site_are_a_located_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(learning_scenario("3 GB", ["2 GB", "1.5 GB"]),
                                   sort_keys=False), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if "storage:" in text)
    assert f"{path}:{line}:" in err and ": nodes[0].storage: " in err, err
    assert ('the caches kept at "mec1" need 3.5 GB (learn0 2 GB, learn1 1.5 GB), more than '
            "its storage of 3 GB") in err
    assert "Traceback" not in out + err


def test_caches_that_fit_report_their_storage() -> None:
    scenario = Scenario.model_validate(learning_scenario("4 GB", ["2 GB", "1.5 GB"]))
    summary = Run(scenario).execute().summary
    site = summary["sites"]["mec1"]
    assert site["storage_bytes"] == 4 * GB
    assert site["storage_reserved_bytes"] == 3.5 * GB
    # Each miss is fetched once and admitted, and caches this large evict nothing: the
    # caches hold exactly what crossed the backhaul.
    fetched = sum(summary["learning"][name]["backhaul_bytes"] for name in ("learn0", "learn1"))
    assert site["storage_used_bytes"] == fetched > 0
    assert "storage_bytes" not in summary["sites"].get("cloud", {})


def test_a_job_larger_than_its_site_memory_is_a_located_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = queue_scenario(10.0, 0.010, 2, seed=1, duration=10.0, warmup=0.0)
    spec["nodes"][0]["memory"] = "16 GB"
    spec["nodes"][0]["compute"]["service"]["job"]["memory"] = "24 GB"
    path = tmp_path / "mem.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    _, err = capsys.readouterr()
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if "memory: 24 GB" in text)
    assert f"{path}:{line}:" in err, err
    assert ('nodes[0].compute.service.job.memory: a "job" job needs 24 GB, more than the '
            "site's memory (16 GB): it could never start") in err


def test_summary_table_shows_memory_and_storage_only_when_modelled() -> None:
    def render(summary: dict[str, Any]) -> str:
        console = Console(record=True, width=160, color_system=None, file=io.StringIO())
        console.print(summary_table(summary))
        return console.export_text()

    sites = {"mec1": {"jobs": 5, "utilisation": 0.5, "mean_queue": 0.1,
                      "memory_peak_bytes": 6e9, "storage_used_bytes": 1.5e9},
             "mec2": {"storage_bytes": 1e12, "storage_used_bytes": 2e9}}
    text = render({"scenario": "s", "sites": sites})
    assert "memory peak" in text and "storage used" in text
    assert "6 GB" in text and "1.5 GB" in text and "2 GB" in text
    plain = render({"scenario": "s", "sites": {"mec1": {"jobs": 5, "utilisation": 0.5}}})
    assert "memory" not in plain and "storage" not in plain


def test_resource_keys_left_at_their_default_keep_the_run_id() -> None:
    from sim.run.builder import run_id_of

    base = queue_scenario(10.0, 0.010, 2, seed=1, duration=10.0, warmup=0.0)
    explicit = copy.deepcopy(base)
    explicit["nodes"][0].update(memory=None, storage=None)
    explicit["nodes"][0]["compute"]["service"]["job"]["memory"] = 0
    plain, same = Scenario.model_validate(base), Scenario.model_validate(explicit)
    assert run_id_of(plain) == run_id_of(same)
    dumped = plain.model_dump(mode="json", by_alias=True)["nodes"][0]
    assert list(dumped) == ["name", "kind", "compute"]
    assert "memory" not in dumped["compute"]["service"]["job"]
    used = copy.deepcopy(base)
    used["nodes"][0]["storage"] = "1 TB"
    scenario = Scenario.model_validate(used)
    assert run_id_of(scenario) != run_id_of(plain)
    assert Scenario.model_validate(scenario.model_dump(mode="json", by_alias=True)) == scenario
