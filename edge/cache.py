"""Byte-capacity caches at MEC sites: LRU, LFU, FIFO and a static top-k set.

Every policy answers ``request(item, size) -> hit?`` and keeps the counters a
run reports (requests, hits, bytes requested, bytes hit).  Capacity is in bytes
and items may differ in size (one item is one segment at one bitrate); an item
larger than the whole cache is never stored, and eviction frees the victims the
policy chooses until the newcomer fits.  An item keeps the size it was stored
with: callers must give the same size for the same item.

``insert(item, size)`` is for prefetching: the item is admitted exactly as on a
miss (same eviction, same initial recency / frequency) but it counts neither as
a request nor as a hit; it is counted in ``stats.prefetched`` instead.
Inserting an item already present changes nothing (no recency or frequency
refresh), so a prefetcher cannot inflate an item's standing.

Policies are registered in :data:`CACHES` under their YAML names; a run builds
one with :meth:`CachePolicy.for_run`, which hands the catalogue's popularity
ranking to the policies that fill up front (static top-k) and not to the others.
"""

from __future__ import annotations

import heapq
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from sim.registry import Registry

__all__ = [
    "CACHES",
    "CachePolicy",
    "CacheStats",
    "FifoCache",
    "LfuCache",
    "LruCache",
    "StaticTopKCache",
    "make_cache",
]


@dataclass
class CacheStats:
    """Counters since construction or the last :meth:`reset` (end of warm-up)."""

    requests: int = 0
    hits: int = 0
    bytes_requested: int = 0
    bytes_hit: int = 0
    prefetched: int = 0
    """Items stored by :meth:`CachePolicy.insert` (not requests)."""
    evictions: int = 0

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.requests if self.requests else 0.0

    @property
    def byte_hit_ratio(self) -> float:
        return self.bytes_hit / self.bytes_requested if self.bytes_requested else 0.0

    def reset(self) -> None:
        """Zero every counter; the cache contents are kept."""
        self.requests = self.hits = self.bytes_requested = self.bytes_hit = 0
        self.prefetched = self.evictions = 0


class CachePolicy(ABC):
    """A cache of ``capacity`` bytes; subclasses choose what to evict.

    The template methods keep the counting and the size rules in one place;
    a policy implements only ``_hit`` (bookkeeping on a hit), ``_victim`` (the
    next item to evict) and ``_store`` (bookkeeping when an item enters).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("cache capacity must be >= 0 bytes")
        self.capacity = int(capacity)
        self.used = 0
        """Bytes currently stored."""
        self.stats = CacheStats()
        self._size: dict[int, int] = {}

    def __contains__(self, item: object) -> bool:
        return item in self._size

    def __len__(self) -> int:
        return len(self._size)

    def __iter__(self) -> Iterator[int]:
        return iter(self._size)

    def request(self, item: int, size: int) -> bool:
        """Serve a request: True on a hit; on a miss the item is admitted if it fits."""
        self.stats.requests += 1
        self.stats.bytes_requested += size
        if item in self._size:
            self.stats.hits += 1
            self.stats.bytes_hit += size
            self._hit(item)
            return True
        self._admit(item, size)
        return False

    def insert(self, item: int, size: int) -> bool:
        """Prefetch: store the item as a miss would, uncounted; True if it is now cached."""
        if item in self._size:
            return True
        if self._admit(item, size):
            self.stats.prefetched += 1
            return True
        return False

    def _admit(self, item: int, size: int) -> bool:
        if size < 0:
            raise ValueError("item size must be >= 0 bytes")
        if size > self.capacity:
            return False
        while self.used + size > self.capacity:
            victim = self._victim()
            self.used -= self._size.pop(victim)
            self.stats.evictions += 1
        self._size[item] = size
        self.used += size
        self._store(item)
        return True

    @classmethod
    def for_run(cls, capacity: int,
                ranked: Callable[[], Iterable[tuple[int, int]]]) -> CachePolicy:
        """The cache a run uses.  ``ranked()`` lists ``(item, size)`` most popular
        first; it is called only by policies that choose their contents up front,
        so a demand-driven policy costs the workload no ranking."""
        return cls(capacity)

    @abstractmethod
    def _hit(self, item: int) -> None:
        """Update the policy's state for a hit on a stored item."""

    @abstractmethod
    def _victim(self) -> int:
        """Remove the next item to evict from the policy's state and return it."""

    @abstractmethod
    def _store(self, item: int) -> None:
        """Record a newly stored item."""


CACHES: Registry[type[CachePolicy]] = Registry("cache")


@CACHES.register("fifo")
class FifoCache(CachePolicy):
    """First in, first out: evict the item stored longest ago; hits change nothing. O(1)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._order: OrderedDict[int, None] = OrderedDict()

    def _hit(self, item: int) -> None:
        pass

    def _victim(self) -> int:
        return self._order.popitem(last=False)[0]

    def _store(self, item: int) -> None:
        self._order[item] = None

    def eviction_order(self) -> list[int]:
        """Stored items, next victim first."""
        return list(self._order)


@CACHES.register("lru")
class LruCache(FifoCache):
    """Least recently used: evict the item whose last request is oldest. O(1).

    FIFO's queue, except that a hit moves the item to the back.
    """

    def _hit(self, item: int) -> None:
        self._order.move_to_end(item)


@CACHES.register("lfu")
class LfuCache(CachePolicy):
    """Least frequently used, counting requests only while the item is cached.

    An item enters with frequency 1 and loses its count when evicted ("in-cache"
    LFU, which unlike perfect LFU needs no memory of evicted items and can
    recover from popularity drift).  Among items of equal frequency the least
    recently used (requested or stored) is evicted first.  A min-heap of
    ``(frequency, last_use, item)`` with lazy deletion: a hit pushes a fresh
    entry and leaves the old one to be skipped when it surfaces; the heap is
    rebuilt when stale entries outnumber live ones.  O(log n) amortised.
    """

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._key: dict[int, tuple[int, int]] = {}
        self._heap: list[tuple[int, int, int]] = []
        self._clock = count()

    def frequency(self, item: int) -> int:
        """In-cache request count of a stored item (0 if not stored)."""
        key = self._key.get(item)
        return key[0] if key else 0

    def _push(self, item: int, freq: int) -> None:
        key = (freq, next(self._clock))
        self._key[item] = key
        heapq.heappush(self._heap, (*key, item))
        if len(self._heap) > 2 * len(self._key) + 64:
            self._heap = [(*k, i) for i, k in self._key.items()]
            heapq.heapify(self._heap)

    def _hit(self, item: int) -> None:
        self._push(item, self._key[item][0] + 1)

    def _victim(self) -> int:
        while True:
            freq, tick, item = heapq.heappop(self._heap)
            if self._key.get(item) == (freq, tick):
                del self._key[item]
                return item

    def _store(self, item: int) -> None:
        self._push(item, 1)

    def eviction_order(self) -> list[int]:
        """Stored items, next victim first."""
        return sorted(self._key, key=self._key.__getitem__)


@CACHES.register("static_top_k")
class StaticTopKCache(CachePolicy):
    """A fixed set chosen up front (e.g. the most popular items); never changes.

    ``ranked`` lists ``(item, size)`` best first; items are taken in that order,
    skipping any that no longer fit, until the list ends (greedy fill).  Misses
    are not admitted and prefetch inserts are refused, so the contents are those
    of construction for the whole run.  Under the independent reference model
    this is the optimal fixed placement for unit sizes and its hit ratio is the
    sum of the stored items' probabilities.
    """

    def __init__(self, capacity: int, ranked: Iterable[tuple[int, int]] = ()) -> None:
        super().__init__(capacity)
        for item, size in ranked:
            if item not in self._size and 0 <= size <= self.capacity - self.used:
                self._size[item] = size
                self.used += size

    @classmethod
    def for_run(cls, capacity: int,
                ranked: Callable[[], Iterable[tuple[int, int]]]) -> StaticTopKCache:
        return cls(capacity, ranked())

    @classmethod
    def from_probabilities(cls, capacity: int, probabilities: Sequence[float],
                           sizes: Sequence[int] | None = None) -> StaticTopKCache:
        """Store the most probable items (ids are indices; ties to the lowest id)."""
        order = sorted(range(len(probabilities)), key=lambda i: (-probabilities[i], i))
        size = [1] * len(probabilities) if sizes is None else sizes
        return cls(capacity, ((i, int(size[i])) for i in order))

    def _admit(self, item: int, size: int) -> bool:
        return False

    def _hit(self, item: int) -> None:
        pass

    def _victim(self) -> int:  # pragma: no cover - never called: nothing is admitted
        raise AssertionError("a static cache never evicts")

    def _store(self, item: int) -> None:  # pragma: no cover - never called
        raise AssertionError("a static cache never stores after construction")


def make_cache(name: str, capacity: int, **options: Any) -> CachePolicy:
    """A cache of the policy registered as ``name``."""
    return CACHES.get(name)(capacity, **options)
