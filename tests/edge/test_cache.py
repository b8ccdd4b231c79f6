"""Cache policies: eviction order by hand, byte capacity, prefetch, and IRM theory.

The LRU check compares simulated hit ratios with Che's approximation (Che, Tung
& Wang, IEEE JSAC 2002), solved here independently of edge.cache_theory.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from edge import cache_theory
from edge.cache import (
    CACHES,
    CachePolicy,
    FifoCache,
    LfuCache,
    LruCache,
    StaticTopKCache,
    make_cache,
)
from edge.catalogue import zipf_pmf
from sim.registry import UnknownPluginError

N_ITEMS = 1000
WARMUP = 50_000
REQUESTS = 200_000


def zipf_requests(alpha: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    p = zipf_pmf(N_ITEMS, alpha)
    rng = np.random.default_rng(seed)
    return p, rng.choice(N_ITEMS, size=WARMUP + REQUESTS, p=p)


def simulate(cache: CachePolicy, items: np.ndarray) -> float:
    for item in items[:WARMUP].tolist():
        cache.request(item, 1)
    cache.stats.reset()
    for item in items[WARMUP:].tolist():
        cache.request(item, 1)
    assert cache.stats.requests == REQUESTS
    return cache.stats.hit_ratio


def che_by_hand(p: np.ndarray, c: int) -> float:
    """Solve sum_i (1 - exp(-p_i T)) = C for T, return sum_i p_i (1 - exp(-p_i T))."""
    t = brentq(lambda t: np.sum(1 - np.exp(-p * t)) - c, 0.0, 1e9)
    return float(np.sum(p * (1 - np.exp(-p * t))))


def feed(cache: CachePolicy, items: str) -> list[bool]:
    return [cache.request(ord(ch), 1) for ch in items]


def names(cache: LruCache | FifoCache | LfuCache) -> str:
    return "".join(chr(i) for i in cache.eviction_order())


def test_registry() -> None:
    assert {"lru", "lfu", "fifo", "static_top_k"} <= set(CACHES.names())
    assert isinstance(make_cache("lru", 10), LruCache)
    assert isinstance(make_cache("static_top_k", 2, ranked=[(5, 1)]), StaticTopKCache)
    with pytest.raises(UnknownPluginError, match="lru"):
        CACHES.get("lruu")


def test_lru_eviction_order() -> None:
    cache = LruCache(3)
    assert feed(cache, "abc") == [False] * 3
    assert feed(cache, "a") == [True]      # recency: b, c, a
    assert feed(cache, "d") == [False]     # evicts b
    assert names(cache) == "cad"
    # "b" misses and evicts c -> a, d, b; "c" misses and evicts a -> d, b, c.
    assert feed(cache, "bc") == [False, False]
    assert names(cache) == "dbc"
    assert feed(cache, "d") == [True]      # d becomes most recent: b, c, d
    assert names(cache) == "bcd"
    assert cache.stats.evictions == 3


def test_fifo_ignores_hits() -> None:
    cache = FifoCache(3)
    assert feed(cache, "abca") == [False, False, False, True]
    assert feed(cache, "d") == [False]     # evicts a although a was just hit
    assert names(cache) == "bcd"
    assert feed(cache, "ab") == [False, False]  # a evicts b, b evicts c
    assert names(cache) == "dab"


def test_lfu_frequency_then_recency() -> None:
    cache = LfuCache(3)
    feed(cache, "aabc")                    # freq a=2, b=1, c=1 (b older)
    assert names(cache) == "bca"
    assert feed(cache, "d") == [False]     # evicts b: least frequent, least recent
    assert names(cache) == "cda"
    feed(cache, "cc")                      # c=3
    assert feed(cache, "e") == [False]     # evicts d (freq 1)
    assert names(cache) == "eac"
    assert cache.frequency(ord("c")) == 3 and cache.frequency(ord("d")) == 0
    # In-cache counting: an evicted item starts again at 1.
    feed(cache, "d")                       # evicts e -> a=2, c=3, d=1
    assert names(cache) == "dac"
    assert cache.frequency(ord("d")) == 1


def test_lfu_heap_stays_bounded() -> None:
    cache = LfuCache(4)
    for item in [0, 1, 2, 3] * 5000:
        cache.request(item, 1)
    assert len(cache._heap) <= 2 * len(cache) + 65
    assert cache.stats.hits == 20_000 - 4


@pytest.mark.parametrize("policy", ["lru", "fifo", "lfu"])
def test_byte_capacity(policy: str) -> None:
    cache = make_cache(policy, 10)
    assert not cache.request(1, 4)
    assert not cache.request(2, 4)
    assert cache.used == 8
    assert not cache.request(3, 4)         # 12 > 10: evicts item 1 (oldest, all freq 1)
    assert 1 not in cache and {2, 3} <= set(cache) and cache.used == 8
    assert not cache.request(4, 11)        # larger than the cache: never stored
    assert 4 not in cache and cache.used == 8 and cache.stats.evictions == 1
    assert not cache.request(4, 11)
    assert not cache.request(5, 10)        # exactly the capacity: evicts everything
    assert set(cache) == {5} and cache.used == 10
    assert cache.request(5, 10)
    s = cache.stats
    assert (s.requests, s.hits) == (7, 1)
    assert (s.bytes_requested, s.bytes_hit) == (4 + 4 + 4 + 11 + 11 + 10 + 10, 10)
    assert s.byte_hit_ratio == pytest.approx(10 / 54)
    assert s.hit_ratio == pytest.approx(1 / 7)


def test_zero_capacity_and_zero_size() -> None:
    cache = LruCache(0)
    assert not cache.request(1, 1) and len(cache) == 0
    assert not cache.request(2, 0) and cache.request(2, 0)


@pytest.mark.parametrize("policy", ["lru", "fifo", "lfu"])
def test_prefetch_insert_is_not_a_request(policy: str) -> None:
    cache = make_cache(policy, 3)
    assert cache.insert(7, 1)
    s = cache.stats
    assert (s.requests, s.hits, s.bytes_requested, s.bytes_hit, s.prefetched) == (0, 0, 0, 0, 1)
    assert cache.request(7, 1)             # the later request hits and is counted
    assert (s.requests, s.hits, s.prefetched) == (1, 1, 1)
    assert cache.insert(7, 1)              # already present: no change, not counted
    assert s.prefetched == 1
    assert not cache.insert(8, 4)          # does not fit at all
    assert 8 not in cache and s.prefetched == 1


def test_prefetch_evicts_like_a_miss_without_refreshing() -> None:
    cache = LruCache(2)
    feed(cache, "ab")
    cache.insert(ord("a"), 1)              # present: recency of a is NOT refreshed
    assert names(cache) == "ab"
    cache.insert(ord("c"), 1)              # admitted as on a miss: evicts a
    assert names(cache) == "bc"
    assert cache.stats.requests == 2 and cache.stats.evictions == 1


def test_static_topk_never_changes() -> None:
    cache = StaticTopKCache.from_probabilities(2, [0.1, 0.4, 0.1, 0.4])
    assert set(cache) == {1, 3}            # the two most probable
    assert not cache.request(0, 1) and 0 not in cache
    assert not cache.insert(2, 1) and 2 not in cache
    assert cache.request(3, 1)
    assert set(cache) == {1, 3} and cache.stats.prefetched == 0
    # Ties go to the lowest id; greedy fill skips what no longer fits.
    tie = StaticTopKCache.from_probabilities(2, [0.25] * 4)
    assert set(tie) == {0, 1}
    sized = StaticTopKCache(10, [(0, 6), (1, 6), (2, 4), (3, 1)])
    assert set(sized) == {0, 2} and sized.used == 10


@pytest.mark.parametrize(("alpha", "capacity", "seed"),
                         [(0.8, 50, 11), (1.0, 100, 12), (1.2, 20, 13)])
def test_lru_matches_che(alpha: float, capacity: int, seed: int) -> None:
    p, items = zipf_requests(alpha, seed)
    expected = che_by_hand(p, capacity)
    simulated = simulate(LruCache(capacity), items)
    assert simulated == pytest.approx(expected, abs=0.02)
    assert cache_theory.che_hit_ratio(p, capacity) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("alpha", "capacity", "seed"), [(0.8, 50, 21), (1.0, 100, 22)])
def test_fifo_matches_fricker(alpha: float, capacity: int, seed: int) -> None:
    p, items = zipf_requests(alpha, seed)
    simulated = simulate(FifoCache(capacity), items)
    assert simulated == pytest.approx(cache_theory.fifo_hit_ratio(p, capacity), abs=0.02)
    # FIFO is worse than LRU under the IRM: the two formulas must not coincide here.
    assert cache_theory.fifo_hit_ratio(p, capacity) < cache_theory.che_hit_ratio(p, capacity)


@pytest.mark.parametrize(("alpha", "k"), [(0.8, 50), (1.2, 20)])
def test_static_topk_matches_sum_of_top_probabilities(alpha: float, k: int) -> None:
    p, items = zipf_requests(alpha, 31)
    expected = float(p[:k].sum())          # Zipf p_i is decreasing in i
    cache = StaticTopKCache.from_probabilities(k, p.tolist())
    assert simulate(cache, items) == pytest.approx(expected, abs=0.01)
    assert cache_theory.static_topk_hit_ratio(p[::-1], k) == pytest.approx(expected)


def test_theory_limits() -> None:
    p = zipf_pmf(10, 1.0)
    assert cache_theory.che_hit_ratio(p, 0) == 0.0
    assert cache_theory.che_hit_ratio(p, 10) == pytest.approx(1.0)
    assert cache_theory.fifo_hit_ratio(p, 10) == pytest.approx(1.0)
    # Uniform p over N items: every policy hits C / N.  Che: N (1 - e^{-T/N}) = C.
    u = np.full(8, 1 / 8)
    assert cache_theory.che_hit_ratio(u, 2) == pytest.approx(2 / 8)
    assert cache_theory.fifo_hit_ratio(u, 2) == pytest.approx(2 / 8)
    # Characteristic time for uniform p: T = -N ln(1 - C/N).
    assert cache_theory.che_characteristic_time(u, 2) == pytest.approx(-8 * np.log(1 - 2 / 8))
    # Sizes: two items of size 2 equal one item of size 4 in the occupancy equation.
    h = cache_theory.che_hit_probabilities([0.5, 0.5], 2, sizes=[2, 2])
    assert np.allclose(h, 0.5)
    # Byte hit ratio weights items by p_i s_i: the big, rarer item pulls it down.
    p2, s2 = np.array([0.8, 0.2]), np.array([1.0, 4.0])
    h2 = cache_theory.che_hit_probabilities(p2, 3, sizes=s2)
    assert h2[0] > h2[1]
    assert float(s2 @ h2) == pytest.approx(3.0)  # expected occupancy = capacity
    byte = cache_theory.che_hit_ratio(p2, 3, sizes=s2, byte=True)
    assert byte == pytest.approx(float((p2 * s2) @ h2 / (p2 @ s2)))
    assert byte < cache_theory.che_hit_ratio(p2, 3, sizes=s2)
