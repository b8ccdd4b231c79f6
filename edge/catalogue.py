"""The content catalogue of the education service and who asks for what.

A catalogue holds ``n_courses`` courses, each cut into ``n_segments`` video
segments of ``segment_duration`` seconds, each segment encoded at every level of
a bitrate ladder.  One (course, segment, level) triple is one cacheable *item*
with a flat integer id, so caches and counters can use plain integers and arrays.

Popularity is over courses: a Zipf law ``p(rank r) ∝ r^-alpha``, r = 1..N, the
usual fit to video-on-demand catalogues (Breslau et al., "Web caching and
Zipf-like distributions", INFOCOM 1999).  Popularity drifts over a term as new
courses trend and old ones fade; :class:`ZipfPopularity` models this by moving
ranks, not by changing the law, so every snapshot is still exactly Zipf and the
cache theory of :mod:`edge.cache_theory` applies between drift steps.

Requests are independent draws (the independent reference model) from the item
distribution of :class:`RequestSampler`, drawn in blocks with the run's Generator
so that sampling costs one numpy call per block, not one per request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Catalogue",
    "RequestSampler",
    "ZipfPopularity",
    "zipf_pmf",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def zipf_pmf(n: int, alpha: float) -> FloatArray:
    """Zipf probabilities ``p_i = i^-alpha / H(n, alpha)`` for ranks i = 1..n.

    ``alpha = 0`` is the uniform law; any real ``alpha >= 0`` is allowed because
    the catalogue is finite (no convergence condition as for the infinite law).
    """
    if n < 1:
        raise ValueError("a Zipf law needs at least one item")
    if alpha < 0 or not math.isfinite(alpha):
        raise ValueError("Zipf exponent must be finite and >= 0")
    weights = np.arange(1, n + 1, dtype=np.float64) ** -alpha
    pmf: FloatArray = weights / weights.sum()
    return pmf


@dataclass(frozen=True)
class Catalogue:
    """Courses x segments x bitrate levels, with item sizes in bytes.

    The flat id is ``(course * n_segments + segment) * n_levels + level``: the
    levels of one segment are adjacent and the segments of one course are a
    contiguous range, which keeps per-course slicing cheap.  A segment at level
    ``l`` has ``ceil(bitrates[l] * segment_duration / 8)`` bytes (constant
    bitrate encoding; variable-bitrate jitter is not modelled).
    """

    n_courses: int
    n_segments: int
    bitrates: tuple[float, ...]
    """Bit/s of each level, lowest first."""
    segment_duration: float = 4.0
    """Seconds of video per segment."""
    _level_bytes: IntArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.n_courses < 1 or self.n_segments < 1:
            raise ValueError("a catalogue needs at least one course and one segment")
        if not self.bitrates:
            raise ValueError("a catalogue needs at least one bitrate level")
        if any(b <= 0 for b in self.bitrates):
            raise ValueError("bitrates must be positive")
        if self.segment_duration <= 0:
            raise ValueError("segment duration must be positive")
        level_bytes = np.ceil(
            np.asarray(self.bitrates, dtype=np.float64) * self.segment_duration / 8.0
        ).astype(np.int64)
        object.__setattr__(self, "bitrates", tuple(float(b) for b in self.bitrates))
        object.__setattr__(self, "_level_bytes", level_bytes)

    @property
    def n_levels(self) -> int:
        return len(self.bitrates)

    @property
    def n_items(self) -> int:
        return self.n_courses * self.n_segments * self.n_levels

    @property
    def level_bytes(self) -> IntArray:
        """Bytes of one segment at each level."""
        return self._level_bytes.copy()

    def item_id(self, course: ArrayLike, segment: ArrayLike, level: ArrayLike) -> IntArray:
        """Flat ids of (course, segment, level) triples (broadcasting, range-checked)."""
        c = np.asarray(course, dtype=np.int64)
        s = np.asarray(segment, dtype=np.int64)
        lv = np.asarray(level, dtype=np.int64)
        for name, value, bound in (("course", c, self.n_courses),
                                   ("segment", s, self.n_segments),
                                   ("level", lv, self.n_levels)):
            if value.size and (value.min() < 0 or value.max() >= bound):
                raise IndexError(f"{name} out of range [0, {bound})")
        ids: IntArray = (c * self.n_segments + s) * self.n_levels + lv
        return ids

    def split(self, item: ArrayLike) -> tuple[IntArray, IntArray, IntArray]:
        """(course, segment, level) of flat ids: the inverse of :meth:`item_id`."""
        ids = self._checked(item)
        rest, level = np.divmod(ids, self.n_levels)
        course, segment = np.divmod(rest, self.n_segments)
        return course, segment, level

    def size(self, item: ArrayLike) -> IntArray:
        """Bytes of each item."""
        sizes: IntArray = self._level_bytes[self._checked(item) % self.n_levels]
        return sizes

    def sizes(self) -> IntArray:
        """Bytes of every item, indexed by id."""
        sizes: IntArray = np.tile(self._level_bytes, self.n_courses * self.n_segments)
        return sizes

    def _checked(self, item: ArrayLike) -> IntArray:
        ids = np.asarray(item, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_items):
            raise IndexError(f"item id out of range [0, {self.n_items})")
        return ids


class ZipfPopularity:
    """Zipf popularity over courses whose ranks drift at fixed intervals.

    Course ``c`` starts at rank ``c + 1`` (course 0 is the most popular).  Drift
    model: at every multiple of ``drift_interval`` seconds a random subset of
    ``round(drift_fraction * N)`` courses is drawn uniformly without replacement
    and the ranks held by that subset are shuffled among its members (uniform
    random permutation).  The multiset of probabilities never changes, so each
    snapshot is exactly Zipf(alpha); only which course is popular changes.
    ``drift_fraction = 1`` redraws the whole ranking each interval; 0 (the
    default) or an infinite interval means a static law.
    """

    def __init__(self, n_courses: int, alpha: float, rng: np.random.Generator, *,
                 drift_fraction: float = 0.0, drift_interval: float = math.inf) -> None:
        if not 0.0 <= drift_fraction <= 1.0:
            raise ValueError("drift_fraction must be in [0, 1]")
        if not drift_interval > 0:
            raise ValueError("drift_interval must be positive")
        self.alpha = alpha
        self.rng = rng
        self.drift_fraction = drift_fraction
        self.drift_interval = drift_interval
        self._by_rank = zipf_pmf(n_courses, alpha)
        self.rank: IntArray = np.arange(n_courses, dtype=np.int64)
        """0-based rank of each course (0 = most popular)."""
        self.steps = 0
        """Drift steps applied so far."""
        self._refresh()

    @property
    def n_courses(self) -> int:
        return len(self.rank)

    def _refresh(self) -> None:
        self.probabilities: FloatArray = self._by_rank[self.rank]
        """Current request probability of each course (sums to 1)."""
        self._cdf = np.cumsum(self.probabilities)
        self._cdf[-1] = 1.0

    def drift(self) -> None:
        """Apply one drift step now."""
        n_moved = round(self.drift_fraction * self.n_courses)
        self.steps += 1
        if n_moved < 2:
            return
        moved = self.rng.choice(self.n_courses, size=n_moved, replace=False)
        self.rank[moved] = self.rank[self.rng.permutation(moved)]
        self._refresh()

    def advance(self, now: float) -> int:
        """Apply the drift steps due at times ``k * drift_interval <= now``; how many."""
        if self.drift_fraction == 0.0 or math.isinf(self.drift_interval):
            return 0
        due = math.floor(now / self.drift_interval) - self.steps
        for _ in range(max(due, 0)):
            self.drift()
        return max(due, 0)

    def sample(self, n: int) -> IntArray:
        """``n`` independent course ids under the current probabilities."""
        courses: IntArray = np.searchsorted(
            self._cdf, self.rng.random(n), side="right"
        ).astype(np.int64)
        return courses


class RequestSampler:
    """Independent item requests: course by popularity, then segment and level.

    ``P(item) = P(course) * P(segment) * P(level)``.  Segment ``s`` has weight
    ``segment_decay ** s``: 1 (default) means every segment of a course is
    watched equally often; below 1 models learners dropping out, with a constant
    probability ``segment_decay`` of going on to the next segment.  Levels have
    the probabilities ``level_probs`` (uniform by default), a stand-in for the
    mix chosen by the players' ABR.
    """

    def __init__(self, catalogue: Catalogue, popularity: ZipfPopularity,
                 rng: np.random.Generator, *, segment_decay: float = 1.0,
                 level_probs: Sequence[float] | None = None) -> None:
        if popularity.n_courses != catalogue.n_courses:
            raise ValueError("popularity and catalogue disagree on the number of courses")
        if not 0.0 < segment_decay <= 1.0:
            raise ValueError("segment_decay must be in (0, 1]")
        self.catalogue = catalogue
        self.popularity = popularity
        self.rng = rng
        seg = segment_decay ** np.arange(catalogue.n_segments, dtype=np.float64)
        self.segment_probs: FloatArray = seg / seg.sum()
        if level_probs is None:
            lv = np.full(catalogue.n_levels, 1.0 / catalogue.n_levels)
        else:
            lv = np.asarray(level_probs, dtype=np.float64)
            if lv.shape != (catalogue.n_levels,) or lv.min() < 0 or lv.sum() <= 0:
                raise ValueError("level_probs needs one non-negative weight per level")
            lv = lv / lv.sum()
        self.level_probs: FloatArray = lv
        self._seg_cdf = _cdf(self.segment_probs)
        self._lv_cdf = _cdf(self.level_probs)

    def item_probabilities(self) -> FloatArray:
        """Current probability of every item, indexed by id (for theory and checks)."""
        joint = (self.popularity.probabilities[:, None, None]
                 * self.segment_probs[None, :, None]
                 * self.level_probs[None, None, :])
        flat: FloatArray = joint.reshape(-1)
        return flat

    def sample(self, n: int) -> IntArray:
        """``n`` independent item ids under the current popularity."""
        course = self.popularity.sample(n)
        segment = np.searchsorted(self._seg_cdf, self.rng.random(n), side="right")
        level = np.searchsorted(self._lv_cdf, self.rng.random(n), side="right")
        cat = self.catalogue
        ids: IntArray = ((course * cat.n_segments + segment) * cat.n_levels
                         + level).astype(np.int64)
        return ids


def _cdf(p: FloatArray) -> FloatArray:
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return cdf
