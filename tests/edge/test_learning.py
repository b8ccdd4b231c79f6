"""Learners, recommendations and MEC caches in a run (edge.learning)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.run.builder import Run
from sim.scenario.loader import ScenarioError, load_scenario
from sim.theory import mmc_response


def scenario(**learning: Any) -> dict[str, Any]:
    workload = {"kind": "course_learning", "name": "learn", "clients": ["learners"],
                "courses": 300, "segments": 20, "segment_duration": "4 s",
                "bitrate": "2 Mbps", "watch_segments": 5, "think_time": "5 s",
                "cache_size": "300 MB", "start_spread": "10 s"}
    workload.update(learning)
    return {
        "name": "learn", "seed": 5, "duration": 300.0, "warmup": 60.0,
        "output": {"tables": False, "plots": False},
        "nodes": [
            {"name": "mec1", "kind": "mec", "compute": {"servers": 2, "service": {
                "recommend": {"dist": "exponential", "mean": "10 ms"}}}},
            {"name": "cloud", "kind": "cloud", "compute": {"servers": 32, "service": {
                "recommend": {"dist": "exponential", "mean": "8 ms"}}}},
            {"name": "learners", "kind": "users", "count": 200, "attach": "mec1",
             "access": {"bandwidth": "50 Mbps", "delay": "3 ms"}},
        ],
        "links": [{"a": "mec1", "b": "cloud", "bandwidth": "1 Gbps", "delay": "20 ms"}],
        "workloads": [workload],
    }


def run(tmp_path: Path, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    path = tmp_path / "learn.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = Run(load_scenario(path).scenario).execute()
    return out.tables, out.summary["learning"]["learn"]


def load_errors(tmp_path: Path, data: dict[str, Any]) -> str:
    """The located problems of a scenario that must not load."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    return str(err.value)


@pytest.mark.parametrize("seed", [5, 6])
def test_prefetch_hit_ratio_rises_with_following_and_beats_plain_lru(
        tmp_path: Path, seed: int) -> None:
    # 1000 courses, a 1 GB LRU cache (1000 one-megabyte segments) at the MEC site; the
    # first 2 segments of the 3 recommended courses are pushed on every answer.
    prefetch = {"courses": 1000, "top_k": 3, "prefetch_courses": 3, "prefetch_segments": 2,
                "cache_size": "1 GB"}
    ratios = []
    for follow in (0.0, 0.4, 0.8, 1.0):
        data = scenario(follow=follow, **prefetch)
        data["seed"] = seed
        _, summary = run(tmp_path, data)
        assert summary["followed_ratio"] == pytest.approx(follow, abs=0.03)
        ratios.append(summary["hit_ratio"])
    assert ratios == sorted(ratios) and ratios[-1] - ratios[0] > 0.2, ratios
    data = scenario(follow=0.8, **{**prefetch, "prefetch_segments": 0})
    data["seed"] = seed
    _, plain = run(tmp_path, data)
    assert ratios[2] > plain["hit_ratio"] + 0.02, (ratios[2], plain["hit_ratio"])
    assert plain["prefetch_bytes"] == 0


def test_hits_save_backhaul_bytes(tmp_path: Path) -> None:
    tables, summary = run(tmp_path, scenario(follow=0.5))
    content = tables["content"]
    size = 2e6 * 4 / 8
    assert np.all(content["bytes"] == size)
    # Every miss crossed the backhaul once (no prefetch): misses x size, counted over
    # the whole run, so at least the misses of the window.
    in_window = content["t_request"] >= 60.0
    misses = int((~content["hit"][in_window]).sum())
    assert summary["backhaul_bytes"] >= misses * size
    assert summary["bytes_saved"] == pytest.approx(
        float(content["hit"][in_window].sum()) * size)
    # Latency parts add up to the whole.
    rec = tables["recommendations"]
    done = ~np.isnan(rec["t_response"])
    parts = ((rec["t_start"] - rec["t_arrive"]) + (rec["t_end"] - rec["t_start"]))[done]
    assert np.all(parts <= rec["latency_s"][done] + 1e-12)


def test_inference_at_the_mec_site_is_an_mmc_queue(tmp_path: Path) -> None:
    # 450 learners asking every ~3.3 s (3 s think + a 0.2 s segment): about 140 requests/s
    # from many independent sources, close to Poisson (Palm-Khintchine), at 2 servers of
    # 10 ms exponential service (utilisation ~0.7).  The mean time at the site (wait +
    # service) must match Erlang C at the measured rate.
    from scipy import stats

    diffs = []
    for seed in range(5):
        data = scenario(watch_segments=1, segment_duration="0.2 s", think_time="3 s",
                        follow=0.0, start_spread="3 s")
        data["seed"] = 100 + seed
        data["duration"], data["warmup"] = 120.0, 10.0
        data["nodes"][2]["count"] = 450
        tables, _ = run(tmp_path, data)
        rec = tables["recommendations"]
        use = (rec["t_send"] >= 10.0) & ~np.isnan(rec["t_end"])
        response = (rec["t_end"] - rec["t_arrive"])[use]
        rate = use.sum() / 110.0
        diffs.append(float(response.mean()) - mmc_response(rate, 100.0, 2))
    d = np.asarray(diffs)
    half = stats.t.ppf(0.995, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert abs(d.mean()) <= half, (d, half)


def test_bad_learning_workloads_are_located_errors(tmp_path: Path) -> None:
    errors = load_errors(tmp_path, scenario(watch_segments=30, origin="nowhere"))
    assert "watch_segments (30) must not exceed segments (20)" in errors
    errors = load_errors(tmp_path, scenario(origin="nowhere"))
    assert "workloads[0].origin" in errors and '"nowhere" is not a node' in errors


def test_latency_aware_recommendations_stay_in_budget_on_an_overloaded_mec_site(
        tmp_path: Path) -> None:
    # 1000 learners asking every ~3.3 s: about 300 inference jobs/s at a MEC site
    # that serves 200/s (utilisation 1.5); the cloud is 20 ms away with 32 servers.
    def p95(placement: dict[str, Any]) -> float:
        data = scenario(watch_segments=1, segment_duration="0.2 s", think_time="3 s",
                        follow=0.0, start_spread="3 s", placement=placement)
        data["duration"], data["warmup"] = 60.0, 10.0
        data["nodes"][2]["count"] = 1000
        _, summary = run(tmp_path, data)
        return float(summary["latency_s"]["p95"])

    assert p95({"policy": "nearest_mec"}) > 1.0  # the queue grows without bound
    assert p95({"policy": "latency_aware", "budget": "100 ms"}) <= 0.1


def test_every_completed_course_is_settled_in_the_cloud(tmp_path: Path) -> None:
    data = scenario(settlement={"site": "cloud", "job": "settle", "request_size": "1 kB",
                                "response_size": "500 B"})
    data["nodes"][1]["compute"]["service"]["settle"] = {"dist": "deterministic",
                                                        "value": "5 ms"}
    data["warmup"] = 0.0
    tables, summary = run(tmp_path, data)
    content = tables["content"]
    # A course is complete when its last watched segment (index 4) arrives.
    completed = int((content["segment"] == 4).sum())
    assert summary["settlements"] in (completed, completed - 1, completed - 2)
    # The learner is thinking, so its access link is idle: 3 ms + 1 kB at 50 Mbit/s up,
    # 20 ms to the cloud and back, 5 ms at the ledger, 3 ms + 500 B at 50 Mbit/s down.
    idle = (0.003 + 8e3 / 50e6) + 0.020 + 0.005 + 0.020 + (0.003 + 4e3 / 50e6)
    latency = summary["settlement_latency_s"]
    assert latency["p50"] == pytest.approx(idle, rel=1e-6)
    assert latency["max"] < idle + 0.005


def test_settlement_needs_a_ledger_job(tmp_path: Path) -> None:
    errors = load_errors(tmp_path, scenario(settlement={"site": "cloud", "job": "settle"}))
    assert "workloads[0].settlement.job" in errors
    assert 'no service time for job kind "settle"' in errors


def test_batched_inference_takes_one_draw_scaled_by_the_batch(tmp_path: Path) -> None:
    data = scenario(batch_size=4, batch_wait="30 ms", batch_marginal=0.25)
    data["nodes"][0]["compute"]["service"]["recommend"] = {"dist": "deterministic",
                                                           "value": "10 ms"}
    data["nodes"][2]["count"] = 400
    data["duration"], data["warmup"] = 120.0, 0.0
    tables, _ = run(tmp_path, data)
    rec = tables["recommendations"]
    done = ~np.isnan(rec["t_end"])
    # Requests of one batch start together; a batch of n takes 10 ms x (1 + 0.25 (n - 1)).
    starts, index, sizes = np.unique(rec["t_start"][done], return_inverse=True,
                                     return_counts=True)
    expected = 0.010 * (1 + 0.25 * (sizes[index] - 1))
    assert np.allclose((rec["t_end"] - rec["t_start"])[done], expected, rtol=0, atol=1e-12)
    assert sizes.max() == 4 and sizes.min() >= 1
    assert len(starts) < done.sum()  # requests did share batches
    # A request waits at most batch_wait for its batch to leave (a server is always free:
    # 2 servers, at most ~60 batches/s of at most 17.5 ms).
    wait = (rec["t_start"] - rec["t_arrive"])[done]
    assert wait.max() <= 0.030 + 1e-9


def test_prefetched_segments_hit_even_while_still_on_their_way(tmp_path: Path) -> None:
    # One recommendation, always followed, whose two watched segments are prefetched
    # as the answer leaves: the learner's first request finds the prefetch in flight
    # (the origin is 20 ms away), which is a hit; the cache (1 GB) evicts nothing.
    data = scenario(top_k=1, follow=1.0, watch_segments=2, prefetch_segments=2,
                    prefetch_courses=1, cache_size="1 GB")
    data["nodes"][2]["count"] = 50
    _, summary = run(tmp_path, data)
    assert summary["hit_ratio"] == 1.0
    assert summary["prefetched"] <= summary["prefetch_bytes"] / (2e6 * 4 / 8)


def test_static_top_k_hit_ratio_is_the_probability_of_the_cached_segments(
        tmp_path: Path) -> None:
    # Independent references: follow = 0, so every course is a Zipf(0.8) draw over 300
    # courses, and each viewing requests its first 2 segments once.  A segment of the
    # course of rank r is requested with probability p_r / 2.  The cache holds 61
    # segments of 125 kB: the 30 most popular courses whole and the first segment of
    # the 31st, so the hit ratio is sum(p_1..p_30) + p_31 / 2 (the sum of the cached
    # items' probabilities), whatever the timing.
    k, watched, size = 61, 2, 2e6 * 0.5 / 8
    data = scenario(follow=0.0, alpha=0.8, cache="static_top_k", cache_size=k * size,
                    segment_duration="0.5 s", think_time="1 s", watch_segments=watched)
    data["nodes"][2]["count"] = 400
    data["duration"], data["warmup"] = 240.0, 20.0
    tables, summary = run(tmp_path, data)
    weights = np.arange(1, 301, dtype=float) ** -0.8
    p = weights / weights.sum()
    full, part = divmod(k, watched)
    expected = p[:full].sum() + part / watched * p[full]
    # Hits of one viewing are all-or-nothing (but the 31st course's), so the viewings
    # are the independent samples: per viewing the hit fraction is 1, 1/2 or 0.
    variance = p[:full].sum() + (part / watched) ** 2 * p[full] - expected ** 2
    viewings = summary["segment_requests"] / watched
    assert viewings > 40_000
    tolerance = 4.0 * np.sqrt(variance / viewings)  # 4 standard errors: about 0.01
    assert abs(summary["hit_ratio"] - expected) <= tolerance, (
        summary["hit_ratio"], expected, tolerance)
    # The set never changes: exactly those segments hit, every miss crosses the backhaul.
    content = tables["content"]
    cached = (content["course"] < full) | ((content["course"] == full)
                                          & (content["segment"] < part))
    assert np.array_equal(content["hit"], cached)
    misses = int((~content["hit"]).sum())
    in_flight = 400  # at most one segment per learner when the run ends
    assert misses * size <= summary["backhaul_bytes"] <= (misses + in_flight) * size
    assert summary["prefetched"] == 0


def test_static_top_k_refuses_prefetch(tmp_path: Path) -> None:
    errors = load_errors(tmp_path, scenario(cache="static_top_k", prefetch_segments=2))
    assert "bad.yaml:" in errors and "workloads[0]" in errors
    assert "static_top_k cache admits nothing: prefetch_segments must be 0" in errors
