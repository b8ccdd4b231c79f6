"""Catalogue ids and sizes, Zipf sampling against p_i, and the rank-drift model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from edge.catalogue import Catalogue, RequestSampler, ZipfPopularity, zipf_pmf


def chi_square(counts: np.ndarray, p: np.ndarray) -> float:
    expected = counts.sum() * p
    return float(((counts - expected) ** 2 / expected).sum())


def test_zipf_pmf_by_hand() -> None:
    # N = 3, alpha = 1: weights 1, 1/2, 1/3, sum 11/6 -> 6/11, 3/11, 2/11.
    np.testing.assert_allclose(zipf_pmf(3, 1.0), [6 / 11, 3 / 11, 2 / 11])
    np.testing.assert_allclose(zipf_pmf(4, 0.0), [0.25] * 4)
    with pytest.raises(ValueError):
        zipf_pmf(0, 1.0)
    with pytest.raises(ValueError):
        zipf_pmf(5, -0.5)


def test_item_id_round_trip_and_sizes() -> None:
    cat = Catalogue(n_courses=3, n_segments=4, bitrates=(1e6, 2.5e6), segment_duration=2.0)
    assert cat.n_items == 24
    c, s, lv = np.meshgrid(range(3), range(4), range(2), indexing="ij")
    ids = cat.item_id(c.ravel(), s.ravel(), lv.ravel())
    assert np.array_equal(ids, np.arange(24))  # levels adjacent, courses contiguous
    assert int(cat.item_id(2, 1, 1)) == (2 * 4 + 1) * 2 + 1 == 19
    back = cat.split(ids)
    assert all(np.array_equal(a, b.ravel()) for a, b in zip(back, (c, s, lv), strict=True))
    # 1 Mbit/s x 2 s / 8 = 250 000 bytes; 2.5 Mbit/s x 2 s / 8 = 625 000 bytes.
    assert list(cat.level_bytes) == [250_000, 625_000]
    assert int(cat.size(19)) == 625_000
    assert np.array_equal(cat.sizes()[:4], [250_000, 625_000, 250_000, 625_000])
    with pytest.raises(IndexError):
        cat.item_id(3, 0, 0)
    with pytest.raises(IndexError):
        cat.split(24)


def test_course_sampler_matches_zipf() -> None:
    n, alpha, draws = 50, 1.0, 200_000
    pop = ZipfPopularity(n, alpha, np.random.default_rng(1))
    counts = np.bincount(pop.sample(draws), minlength=n)
    p = zipf_pmf(n, alpha)
    limit = chi2.ppf(0.999, n - 1)
    assert chi_square(counts, p) < limit
    # Max deviation: each frequency within 5 binomial standard errors.
    se = np.sqrt(p * (1 - p) / draws)
    assert np.all(np.abs(counts / draws - p) < 5 * se)
    # The test has power: the same sample rejects a nearby exponent.
    assert chi_square(counts, zipf_pmf(n, 0.9)) > limit


def test_item_sampler_marginals_and_joint() -> None:
    cat = Catalogue(n_courses=20, n_segments=5, bitrates=(1e6, 3e6, 6e6))
    rng = np.random.default_rng(7)
    pop = ZipfPopularity(20, 0.8, rng)
    sampler = RequestSampler(cat, pop, rng, segment_decay=0.5, level_probs=(0.2, 0.5, 0.3))
    p_item = sampler.item_probabilities()
    assert p_item.shape == (cat.n_items,)
    assert p_item.sum() == pytest.approx(1.0)
    # Segment weights 0.5^s, s = 0..4: 1, .5, .25, .125, .0625 over 1.9375.
    np.testing.assert_allclose(sampler.segment_probs,
                               np.array([1, 0.5, 0.25, 0.125, 0.0625]) / 1.9375)
    draws = 300_000
    items = sampler.sample(draws)
    assert items.dtype == np.int64 and items.min() >= 0 and items.max() < cat.n_items
    counts = np.bincount(items, minlength=cat.n_items)
    keep = p_item * draws >= 5  # chi-square validity: expected count >= 5
    stat = chi_square(counts[keep], p_item[keep] / p_item[keep].sum())
    assert stat < chi2.ppf(0.999, keep.sum() - 1)
    _, seg, lv = cat.split(items)
    assert np.abs(np.bincount(lv, minlength=3) / draws - [0.2, 0.5, 0.3]).max() < 0.005
    assert np.abs(np.bincount(seg, minlength=5) / draws - sampler.segment_probs).max() < 0.005


def test_same_seed_same_requests() -> None:
    def draw(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return ZipfPopularity(100, 1.1, rng).sample(1000)

    assert np.array_equal(draw(3), draw(3))
    assert not np.array_equal(draw(3), draw(4))


def test_drift_permutes_a_fraction_of_ranks() -> None:
    n = 200
    pop = ZipfPopularity(n, 1.0, np.random.default_rng(5), drift_fraction=0.25,
                         drift_interval=60.0)
    before = pop.probabilities.copy()
    assert np.array_equal(before, zipf_pmf(n, 1.0))  # course c starts at rank c + 1
    assert pop.advance(59.9) == 0
    assert pop.advance(60.0) == 1
    moved = pop.probabilities != before
    assert 0 < moved.sum() <= 50  # at most round(0.25 * 200) courses change rank
    # Still exactly Zipf: the same probabilities, held by other courses.
    np.testing.assert_array_equal(np.sort(pop.probabilities), np.sort(before))
    assert np.array_equal(np.sort(pop.rank), np.arange(n))
    assert pop.advance(250.0) == 3 and pop.steps == 4
    assert pop.advance(250.0) == 0
    # Sampling follows the drifted law, not the initial one.
    counts = np.bincount(pop.sample(200_000), minlength=n)
    limit = chi2.ppf(0.999, n - 1)
    assert chi_square(counts, pop.probabilities) < limit
    assert chi_square(counts, before) > limit


def test_no_drift_by_default() -> None:
    pop = ZipfPopularity(30, 1.0, np.random.default_rng(0))
    assert pop.advance(1e9) == 0
    assert np.array_equal(pop.rank, np.arange(30))
