"""Compute sites against M/M/1 and M/M/c closed forms, and Little's law.

Each case runs independent replications (one seed each) and builds a 99% Student t
confidence interval of the mean over them; the closed form must lie inside.  The
seeds are fixed, so the outcome is reproducible; a model error of a few percent
moves the interval off the analytic value.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import queue_scenario

from sim.run.builder import Run
from sim.scenario.schema import Scenario
from sim.stats import t_interval
from sim.theory import mmc_response, mmc_wait

MEAN_SERVICE = 0.01  # 10 ms: μ = 100 per second per server
REPLICATIONS = 10


def _replicate(arrival: float, servers: int, customers: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-replication mean wait and mean response time (requests after warm-up)."""
    duration = customers / arrival
    waits, responses = [], []
    for seed in range(1, REPLICATIONS + 1):
        spec = queue_scenario(arrival, MEAN_SERVICE, servers, seed=seed, duration=duration,
                              warmup=duration / 10)
        run = Run(Scenario.model_validate(spec))
        out = run.execute()
        req = out.tables["requests"]
        keep = (req["t_send"] >= duration / 10) & ~np.isnan(req["t_end"])
        waits.append(np.mean(req["t_start"][keep] - req["t_arrive"][keep]))
        responses.append(np.mean(req["t_end"][keep] - req["t_arrive"][keep]))
    return np.array(waits), np.array(responses)


CASES = [
    # (servers, utilisation, customers per replication)
    (1, 0.5, 20_000),
    (1, 0.9, 60_000),
    (4, 0.5, 20_000),
    (4, 0.9, 60_000),
]


@pytest.mark.parametrize(("servers", "rho", "customers"), CASES)
def test_mmc_waiting_and_response_time(servers: int, rho: float, customers: int) -> None:
    mu = 1 / MEAN_SERVICE
    arrival = rho * servers * mu
    waits, responses = _replicate(arrival, servers, customers)
    for name, samples, exact in (("Wq", waits, mmc_wait(arrival, mu, servers)),
                                 ("W", responses, mmc_response(arrival, mu, servers))):
        low, high = t_interval(samples, level=0.99)
        assert low <= exact <= high, f"{name}: 99% CI [{low:.6g}, {high:.6g}] vs {exact:.6g}"


def test_littles_law_on_the_recorded_queue() -> None:
    # L (time average of jobs in system, integrated by the site) = λ W, with λ and W
    # measured from the per-request records of the same window.
    arrival, servers = 300.0, 4
    duration, warmup = 500.0, 50.0
    spec = queue_scenario(arrival, MEAN_SERVICE, servers, seed=3, duration=duration,
                          warmup=warmup)
    spec["sample_interval"] = 0.05
    out = Run(Scenario.model_validate(spec)).execute()
    site = out.summary["sites"]["site"]
    in_system = site["mean_queue"] + site["mean_busy"]
    req = out.tables["requests"]
    arrived = (req["t_arrive"] >= warmup) & (req["t_arrive"] < duration)
    lam = arrived.sum() / (duration - warmup)
    done = arrived & ~np.isnan(req["t_end"])
    w = float(np.mean(req["t_end"][done] - req["t_arrive"][done]))
    assert in_system == pytest.approx(lam * w, rel=0.005)
    # And the sampled series agrees with the integral within sampling error.
    series = out.tables["site_series"]
    sampled = series["queue"] + series["busy"]
    assert float(np.mean(sampled[series["t"] >= warmup])) == pytest.approx(in_system, rel=0.05)


def test_batch_means_interval_uses_every_value_and_contains_the_mean() -> None:
    from sim.stats import batch_means_ci

    # 50 values in 20 batches: the last 10 values are large; a CI built from the first
    # 40 only would miss the overall mean.
    values = np.concatenate([np.zeros(40), np.full(10, 100.0)])
    low, high = batch_means_ci(values)
    assert low <= values.mean() <= high
    assert (low + high) / 2 == pytest.approx(values.mean())
