"""Schedulers as time shares: the sharing rules of round robin, max C/I and PF."""

from __future__ import annotations

import numpy as np
import pytest

from sim.radio.scheduler import SCHEDULERS, MaxCi, ProportionalFair, RoundRobin

PEAK = np.array([300e6, 60e6])  # a near UE and a far UE, full buffer, one cell
CELL = np.array([0, 0])
BOTH = np.array([True, True])


def test_round_robin_gives_equal_time_so_throughput_follows_peak() -> None:
    shares = RoundRobin(2).shares(CELL, BOTH, PEAK, 1)
    assert shares.tolist() == [0.5, 0.5]
    throughput = shares * PEAK
    assert throughput[0] / throughput[1] == pytest.approx(PEAK[0] / PEAK[1])


def test_max_ci_gives_everything_to_the_better_ue() -> None:
    assert MaxCi(2).shares(CELL, BOTH, PEAK, 1).tolist() == [1.0, 0.0]
    # The better UE has no data: the other one gets the cell.
    assert MaxCi(2).shares(CELL, np.array([False, True]), PEAK, 1).tolist() == [0.0, 1.0]


def test_proportional_fair_converges_to_equal_time_shares() -> None:
    pf = ProportionalFair(2, window=1.0)
    pf.average[:] = [250e6, 1e6]  # start far from the fixed point
    dt = 0.05
    for _ in range(2000):
        shares = pf.shares(CELL, BOTH, PEAK, 1)
        pf.observe(shares * PEAK, dt)
    assert shares == pytest.approx([0.5, 0.5], abs=1e-3)


@pytest.mark.parametrize("name", ["round_robin", "max_ci", "proportional_fair"])
def test_shares_per_cell_sum_to_one_over_active_ues(name: str) -> None:
    rng = np.random.default_rng(3)
    n, cells = 500, 7
    cell = rng.integers(0, cells, n)
    active = rng.random(n) < 0.7
    peak = rng.uniform(1e6, 500e6, n)
    scheduler = SCHEDULERS.get(name)(n)
    shares = scheduler.shares(cell, active, peak, cells)
    assert np.all(shares[~active] == 0.0)
    sums = np.bincount(cell, weights=shares, minlength=cells)
    busy = np.bincount(cell[active], minlength=cells) > 0
    assert sums[busy] == pytest.approx(np.ones(busy.sum()))
    assert np.all(sums[~busy] == 0.0)


def test_max_ci_ties_go_to_the_lowest_index() -> None:
    shares = MaxCi(3).shares(np.array([0, 0, 0]), np.ones(3, bool), np.array([5.0, 7.0, 7.0]), 1)
    assert shares.tolist() == [0.0, 1.0, 0.0]
