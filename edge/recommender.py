"""Course recommendation: item-based collaborative filtering on who took what.

The recommendation service suggests the next courses to a learner; what it
suggests shapes what the edge caches will be asked for, so the simulator needs
a recommender that behaves like a real one without training data.  This module
gives both halves:

* :func:`synthetic_interactions` draws a learner x course matrix from a small
  generative model (popularity x personal taste, see its docstring);
* :class:`ItemCosineRecommender` is classic item-based CF (Sarwar, Karypis,
  Konstan & Riedl, "Item-based collaborative filtering recommendation
  algorithms", WWW 2001) on binary implicit feedback: cosine similarity between
  course columns, score of a course = sum of its similarities to the courses
  the learner took, top-k among courses not taken.

The similarity matrix is dense numpy (catalogues of a few thousand courses give a
few tens of MB at most), but a learner is scored from its history alone: the
sum of the similarity rows of the courses it took, a few dozen rows, instead of
a 1 x C by C x C product (C times fewer operations for a history of a few
courses, which is what made recommendations the cost of a ``course_learning``
run).  Recommenders are registered in :data:`RECOMMENDERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from edge.catalogue import zipf_pmf
from sim.registry import Registry

__all__ = [
    "RECOMMENDERS",
    "Interactions",
    "ItemCosineRecommender",
    "PopularityRecommender",
    "Recommender",
    "cosine_similarity",
    "synthetic_interactions",
    "top_k",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_DECIMALS = 9
"""Scores are rounded to this many decimals before ranking, so that scores equal
in exact arithmetic but not in floating point tie, and the tie goes to the
lowest course id as documented."""


@dataclass(frozen=True)
class Interactions:
    """A synthetic learner x course matrix with the latent model that drew it."""

    matrix: NDArray[np.bool_]
    """``matrix[u, c]``: learner u took course c."""
    course_topic: IntArray
    taste: FloatArray
    """``taste[u, t]``: learner u's share of interest in topic t (rows sum to 1)."""
    popularity: FloatArray
    """Zipf popularity of each course (sums to 1)."""


def synthetic_interactions(n_learners: int, n_courses: int, rng: np.random.Generator, *,
                           n_topics: int = 5, alpha: float = 0.8,
                           concentration: float = 0.3,
                           mean_courses: float = 5.0) -> Interactions:
    """Draw who took which course from a popularity x taste model.

    Model: course c has Zipf popularity ``w_c ∝ (c + 1)^-alpha`` (course 0 most
    popular, as in :class:`edge.catalogue.ZipfPopularity`) and one topic drawn
    uniformly from ``n_topics``.  Learner u has a taste vector
    ``θ_u ~ Dirichlet(concentration)`` over topics; a small concentration
    makes learners focus on one or two topics, which is what gives the matrix
    the item-item structure CF exploits.  Learner u took course c independently
    with probability ``min(1, λ w_c θ_u[t_c])``; since ``E[θ_u[t]] = 1/K`` the
    expected number of courses per learner is ``λ / K`` before clipping, so
    ``λ = mean_courses * K`` (clipping makes the mean slightly smaller).
    """
    if n_learners < 0 or n_courses < 1 or n_topics < 1:
        raise ValueError("need n_learners >= 0, n_courses >= 1 and n_topics >= 1")
    if concentration <= 0 or mean_courses <= 0:
        raise ValueError("concentration and mean_courses must be positive")
    popularity = zipf_pmf(n_courses, alpha)
    topic = rng.integers(0, n_topics, n_courses).astype(np.int64)
    taste = rng.dirichlet(np.full(n_topics, concentration), size=n_learners)
    prob = np.minimum(1.0, mean_courses * n_topics * popularity[None, :] * taste[:, topic])
    matrix = rng.random((n_learners, n_courses)) < prob
    return Interactions(matrix=matrix, course_topic=topic, taste=taste,
                        popularity=popularity)


def cosine_similarity(matrix: ArrayLike) -> FloatArray:
    """Course x course cosine similarity of the columns; 0 on the diagonal.

    ``sim(i, j) = <x_i, x_j> / (|x_i| |x_j|)``; a course nobody took has
    similarity 0 to every course.  The diagonal is zeroed: a course's similarity
    to itself says nothing about what else to take.
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("interaction matrix must be 2-D (learners x courses)")
    gram = x.T @ x
    norm = np.sqrt(np.diag(gram))
    safe = np.where(norm > 0, norm, 1.0)
    sim: FloatArray = gram / safe[:, None] / safe[None, :]
    np.fill_diagonal(sim, 0.0)
    return sim


def top_k(scores: ArrayLike, taken: ArrayLike, k: int) -> IntArray:
    """Per row, the k best courses not taken; ties to the lowest id; -1 pads.

    Rows with fewer than k untaken courses are padded with -1 on the right.
    """
    s = np.round(np.atleast_2d(np.asarray(scores, dtype=np.float64)), _DECIMALS)
    t = np.atleast_2d(np.asarray(taken, dtype=bool))
    if s.shape != t.shape:
        raise ValueError("scores and taken must have the same shape")
    if k < 0:
        raise ValueError("k must be >= 0")
    n_rows, n_cols = s.shape
    k_eff = min(k, n_cols)
    s = np.where(t, -np.inf, s)
    # A stable sort of -score keeps equal scores in increasing course id.
    order = np.argsort(-s, axis=1, kind="stable")[:, :k_eff].astype(np.int64)
    valid = np.take_along_axis(~t, order, axis=1)
    out = np.full((n_rows, k), -1, dtype=np.int64)
    out[:, :k_eff] = np.where(valid, order, -1)
    return out


class Recommender(Protocol):
    """Suggests courses to learners from their histories."""

    def fit(self, matrix: ArrayLike) -> None:
        """Learn from a learner x course matrix of past interactions."""
        ...

    def scores(self, history: ArrayLike) -> FloatArray:
        """Score of every course for each history row (learners x courses)."""
        ...

    def recommend(self, history: ArrayLike, k: int) -> IntArray:
        """Top-k untaken courses per history row (learners x k, -1 padded)."""
        ...


RECOMMENDERS: Registry[type[Recommender]] = Registry("recommender")


@RECOMMENDERS.register("item_cosine")
class ItemCosineRecommender:
    """Item-based CF with cosine similarity on binary interactions.

    ``score(u, j) = sum over courses i taken by u of sim(i, j)``; histories need
    not be rows of the training matrix (a new learner's history works as is).
    """

    def __init__(self) -> None:
        self.similarity: FloatArray | None = None
        self._neighbours: tuple[IntArray, IntArray, FloatArray] | None = None
        """The similarity's nonzero entries by row (CSR: row starts, columns, values)."""

    def fit(self, matrix: ArrayLike) -> None:
        sim = cosine_similarity(matrix)
        self.similarity = sim
        rows, cols = np.nonzero(sim)  # row-major: each row's columns in increasing order
        starts = np.searchsorted(rows, np.arange(sim.shape[0] + 1)).astype(np.int64)
        self._neighbours = (starts, cols.astype(np.int64), sim[rows, cols])

    def scores(self, history: ArrayLike) -> FloatArray:
        """``history @ similarity``, from the neighbours of the courses each learner took.

        A learner's scores add the nonzero similarities of the courses it took, row by
        row in increasing course id (``np.bincount`` sums in input order): the cost is
        the size of those rows, not C x C, and every score is one fixed sequence of
        additions whatever the BLAS build, so courses with equal similarity columns
        keep bitwise-equal scores.  A binary history only adds (times 1.0, exactly).
        """
        if self.similarity is None or self._neighbours is None:
            raise RuntimeError("fit the recommender before scoring")
        h = np.atleast_2d(np.asarray(history))
        n = self.similarity.shape[0]
        if h.ndim != 2 or h.shape[1] != n:
            raise ValueError("history has the wrong number of courses")
        starts, cols, values = self._neighbours
        out: FloatArray = np.zeros(h.shape, dtype=np.float64)
        for row, weights in enumerate(h):
            taken = np.flatnonzero(weights)
            first = starts[taken]
            lengths = starts[taken + 1] - first
            # Positions of the taken rows' entries, row after row.
            at = np.repeat(first - (np.cumsum(lengths) - lengths), lengths) + \
                np.arange(int(lengths.sum()))
            w = values[at]
            if weights.dtype != np.bool_:
                w = w * np.repeat(weights[taken].astype(np.float64), lengths)
            out[row] = np.bincount(cols[at], w, minlength=n)
        return out

    def recommend(self, history: ArrayLike, k: int) -> IntArray:
        return top_k(self.scores(history), np.asarray(history, dtype=bool), k)


@RECOMMENDERS.register("popularity")
class PopularityRecommender:
    """Baseline: the most taken courses the learner has not taken yet."""

    def __init__(self) -> None:
        self.counts: FloatArray | None = None

    def fit(self, matrix: ArrayLike) -> None:
        x = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
        self.counts = x.sum(axis=0)

    def scores(self, history: ArrayLike) -> FloatArray:
        if self.counts is None:
            raise RuntimeError("fit the recommender before scoring")
        h = np.atleast_2d(np.asarray(history, dtype=np.float64))
        if h.shape[1] != self.counts.shape[0]:
            raise ValueError("history has the wrong number of courses")
        out: FloatArray = np.broadcast_to(self.counts, h.shape).copy()
        return out

    def recommend(self, history: ArrayLike, k: int) -> IntArray:
        return top_k(self.scores(history), np.asarray(history, dtype=bool), k)
