"""Compute sites: service-time distributions and the priority discipline against theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import queue_scenario

from sim.arrivals import make_arrivals
from sim.distributions import BLOCK, block_sampler, make_sampler
from sim.run.builder import Run
from sim.scenario.schema import ComputeSpec, PoissonArrivals, Scenario
from sim.stats import t_interval


@pytest.mark.parametrize(("spec", "mean", "sd"), [
    ({"dist": "deterministic", "value": "4 ms"}, 0.004, 0.0),
    ({"dist": "exponential", "mean": "10 ms"}, 0.010, 0.010),
    ({"dist": "lognormal", "mean": "20 ms", "sd": "5 ms"}, 0.020, 0.005),
    ({"dist": "uniform", "low": "1 ms", "high": "3 ms"}, 0.002, 0.002 / math.sqrt(12)),
    ({"dist": "empirical", "values": ["1 ms", "2 ms", "6 ms"]}, 0.003, math.sqrt(14 / 3) * 1e-3),
])
def test_samplers_match_their_analytic_moments(spec: dict[str, object], mean: float,
                                               sd: float) -> None:
    dist = ComputeSpec.model_validate({"service": {"job": spec}}).service["job"]
    assert dist.mean() == pytest.approx(mean)
    draw = make_sampler(dist, np.random.default_rng(11))
    xs = np.array([draw() for _ in range(200_000)])
    assert xs.mean() == pytest.approx(mean, abs=5 * sd / math.sqrt(len(xs)) + 1e-12)
    assert xs.std() == pytest.approx(sd, rel=0.02, abs=1e-12)


@pytest.mark.parametrize("bad", [
    {"dist": "exponential", "mean": "-1 ms"},
    {"dist": "exponential", "mean": 0},
    {"dist": "lognormal", "mean": "1 ms"},
    {"dist": "uniform", "low": "3 ms", "high": "1 ms"},
    {"dist": "empirical", "values": []},
    {"dist": "gamma", "mean": "1 ms"},
])
def test_distributions_validate_their_parameters(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ComputeSpec.model_validate({"service": {"job": bad}})


def test_non_preemptive_priority_matches_cobham() -> None:
    """M/M/1 with two classes, non-preemptive priority (Cobham, 1954).

    Wq_k = W0 / ((1 - s_{k-1}) (1 - s_k)), with W0 = sum_i lam_i E[S_i^2] / 2 and s_k
    the load of the classes served before and including k (Gross et al., 4th ed.,
    section 3.4.1).  Exponential service, mean 10 ms; loads 0.3 (high) and 0.5 (low).
    """
    mean = 0.010
    lam_hi, lam_lo = 30.0, 50.0
    w0 = (lam_hi + lam_lo) * 2 * mean**2 / 2
    expect_hi = w0 / (1 - 0.3)
    expect_lo = w0 / ((1 - 0.3) * (1 - 0.8))
    means_hi, means_lo = [], []
    duration, warmup = 600.0, 60.0
    for seed in range(1, 9):
        spec = queue_scenario(lam_hi, mean, 1, seed=seed, duration=duration, warmup=warmup,
                              discipline="priority")
        first = spec["workloads"][0]
        spec["workloads"] = [
            {**first, "name": "hi", "job": "job", "priority": 0},
            {**first, "name": "lo", "job": "job", "priority": 1,
             "arrivals": {"process": "poisson", "rate": lam_lo}},
        ]
        out = Run(Scenario.model_validate(spec)).execute()
        req = out.tables["requests"]
        keep = (req["t_send"] >= warmup) & ~np.isnan(req["t_start"])
        wait = req["t_start"] - req["t_arrive"]
        means_hi.append(wait[keep & (req["workload"] == "hi")].mean())
        means_lo.append(wait[keep & (req["workload"] == "lo")].mean())
    for samples, exact in ((means_hi, expect_hi), (means_lo, expect_lo)):
        low, high = t_interval(np.array(samples), level=0.99)
        assert low <= exact <= high, (low, exact, high)


def test_deterministic_arrivals_send_exactly_rate_times_duration() -> None:
    spec = queue_scenario(1.0, 0.001, 4, seed=5, duration=100.0, warmup=0.0)
    spec["nodes"][1]["count"] = 7
    spec["workloads"][0]["arrivals"] = {"process": "deterministic", "rate": "2 /s"}
    out = Run(Scenario.model_validate(spec)).execute()
    req = out.tables["requests"]
    assert len(req["t_send"]) == 7 * 2 * 100
    per_user = np.bincount(req["user"], minlength=7)
    assert set(per_user.tolist()) == {200}
    gaps = np.diff(np.sort(req["t_send"][req["user"] == 3]))
    assert gaps == pytest.approx(np.full(199, 0.5))


def test_block_samplers_serve_the_generator_draws_in_order_across_blocks() -> None:
    """A sampler is numpy's draws of the same stream, one by one, whatever the blocks."""
    n = 3 * BLOCK + 5
    rng = np.random.default_rng(7)
    draw = block_sampler(lambda k: rng.exponential(2.0, k))
    got = [draw() for _ in range(n)]
    expect = np.random.default_rng(7).exponential(2.0, n)
    assert got == expect.tolist()
    assert all(type(x) is float for x in got)


def test_merged_poisson_stream_draws_gaps_then_users_per_block() -> None:
    """The stream is the (gap, user) pairs of blocks drawn gaps first, then users."""
    rate, users, n = 1.5, 40, 2 * 4096 + 3
    spec = PoissonArrivals.model_validate({"process": "poisson", "rate": rate})
    stream = make_arrivals(spec, users,
                           np.random.default_rng(3))
    got = [stream() for _ in range(n)]
    rng = np.random.default_rng(3)
    expect: list[tuple[float, int]] = []
    while len(expect) < n:
        gaps = rng.exponential(1.0 / (rate * users), 4096).tolist()
        who = rng.integers(0, users, 4096).tolist()
        expect.extend(zip(gaps, who, strict=True))
    assert got == expect[:n]
