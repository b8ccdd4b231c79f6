"""Item-based CF on a matrix worked by hand, and the synthetic interaction model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.recommender import (
    RECOMMENDERS,
    ItemCosineRecommender,
    PopularityRecommender,
    cosine_similarity,
    synthetic_interactions,
    top_k,
)

# 4 learners x 5 courses.
X = np.array([
    [1, 1, 0, 0, 0],   # u0 took c0, c1
    [1, 0, 1, 0, 0],   # u1 took c0, c2
    [0, 1, 1, 1, 0],   # u2 took c1, c2, c3
    [0, 0, 0, 1, 1],   # u3 took c3, c4
])
R = 1 / math.sqrt(2)


def test_cosine_by_hand() -> None:
    # Column norms: c0..c3 were taken by 2 learners (norm sqrt 2), c4 by one (norm 1).
    # Co-takers: (c0,c1) u0, (c0,c2) u1, (c1,c2) u2, (c1,c3) u2, (c2,c3) u2, (c3,c4) u3;
    # so those pairs have 1 / (sqrt2 sqrt2) = 1/2, except (c3,c4): 1 / (sqrt2 * 1).
    h = 0.5
    expected = np.array([
        [0, h, h, 0, 0],
        [h, 0, h, h, 0],
        [h, h, 0, h, 0],
        [0, h, h, 0, R],
        [0, 0, 0, R, 0],
    ])
    np.testing.assert_allclose(cosine_similarity(X), expected, atol=1e-12)


def test_top_k_by_hand() -> None:
    rec = ItemCosineRecommender()
    rec.fit(X)
    # u0 (c0, c1): c2 = 1/2 + 1/2 = 1, c3 = 0 + 1/2, c4 = 0.
    # u1 (c0, c2): c1 = 1/2 + 1/2 = 1, c3 = 0 + 1/2, c4 = 0.
    # u2 (c1, c2, c3): c0 = 1/2 + 1/2 + 0 = 1, c4 = 1/sqrt2 ~ 0.707.
    # u3 (c3, c4): c0 = 0, c1 = 1/2, c2 = 1/2 (tie -> lower id c1 first).
    # Full score rows (taken courses too), summing the similarity rows of the history.
    np.testing.assert_allclose(rec.scores(X), [
        [0.5, 0.5, 1.0, 0.5, 0.0],
        [0.5, 1.0, 0.5, 0.5, 0.0],
        [1.0, 1.0, 1.0, 1.0, R],
        [0.0, 0.5, 0.5, R, R],
    ])
    assert rec.recommend(X, 2).tolist() == [[2, 3], [1, 3], [0, 4], [1, 2]]
    # k larger than what is left: zero scores are ranked by id, then -1 pads.
    assert rec.recommend(X, 3).tolist() == [[2, 3, 4], [1, 3, 4], [0, 4, -1], [1, 2, 0]]
    # A new learner who took only c4: c3 = 1/sqrt2, others 0 -> c3, then c0, c1.
    assert rec.recommend([0, 0, 0, 0, 1], 3).tolist() == [[3, 0, 1]]
    # Someone who took everything gets nothing.
    assert rec.recommend(np.ones(5), 2).tolist() == [[-1, -1]]


def test_ties_are_exact_despite_rounding() -> None:
    # 0.1 + 0.2 != 0.3 in floating point, but they must tie (lowest id wins).
    assert top_k([[0.1 + 0.2, 0.3, 0.0]], [[False, False, False]], 2).tolist() == [[0, 1]]
    assert top_k([[0.3, 0.1 + 0.2, 0.0]], [[False, False, False]], 2).tolist() == [[0, 1]]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 12).flatmap(lambda courses: st.tuples(
    st.lists(st.lists(st.sampled_from([-1.0, 0.0, 0.1 + 0.2, 0.3, 0.5, 2.0]),
                      min_size=courses, max_size=courses), min_size=1, max_size=4),
    st.lists(st.lists(st.booleans(), min_size=courses, max_size=courses),
             min_size=4, max_size=4),
    st.integers(0, courses + 2))))
def test_top_k_is_the_head_of_a_sort_by_score_then_id(
        case: tuple[list[list[float]], list[list[bool]], int]) -> None:
    # Few distinct values (0.1 + 0.2 and 0.3 tie after rounding) and negative scores
    # below the untaken zeros: the partition must give the head of sorted(-score, id).
    scores, taken, k = case
    taken = taken[:len(scores)]
    got = top_k(np.array(scores).reshape(len(scores), -1),
                np.array(taken, dtype=bool).reshape(len(scores), -1), k).tolist()
    for row, ranked in zip(scores, taken, strict=True):
        free = [j for j in range(len(row)) if not ranked[j]]
        head = sorted(free, key=lambda j: (-round(row[j], 9), j))[:k]
        assert got.pop(0) == head + [-1] * (k - len(head))


def reference_top_k(similarity: np.ndarray, history: np.ndarray, k: int) -> list[int]:
    """Plain-Python item CF: each score a correctly rounded sum (math.fsum) over the
    courses taken, then rank by (-score to 9 decimals, course id), -1 padded."""
    n = len(history)
    taken = [i for i in range(n) if history[i]]
    score = {j: round(math.fsum(float(similarity[i, j]) for i in taken), 9)
             for j in range(n) if not history[j]}
    ranked = sorted(score, key=lambda j: (-score[j], j))[:k]
    return ranked + [-1] * (k - len(ranked))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12).flatmap(lambda courses: st.tuples(
    st.lists(st.lists(st.booleans(), min_size=courses, max_size=courses),
             min_size=1, max_size=10),
    st.lists(st.lists(st.booleans(), min_size=courses, max_size=courses),
             min_size=1, max_size=6),
    st.integers(0, courses + 1))))
def test_history_scoring_ranks_as_dense_scoring(
        case: tuple[list[list[bool]], list[list[bool]], int]) -> None:
    # Small binary matrices are full of exact ties (equal columns, zero rows), which
    # is where a change of summation order would show in the ranking.
    matrix, histories, k = case
    rec = ItemCosineRecommender()
    rec.fit(np.array(matrix))
    assert rec.similarity is not None
    h = np.array(histories)
    dense = h.astype(float) @ rec.similarity
    np.testing.assert_allclose(rec.scores(h), dense, rtol=0, atol=1e-12)
    assert rec.recommend(h, k).tolist() == top_k(dense, h, k).tolist()
    assert rec.recommend(h, k).tolist() == [reference_top_k(rec.similarity, row, k)
                                            for row in h]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_history_scoring_ranks_as_dense_scoring_on_a_catalogue(seed: int) -> None:
    # The shape of a course_learning run: 150 learners, 1000 courses, histories that
    # grow by random courses; the top-3 of the history rows equals the dense one's.
    rng = np.random.default_rng(seed)
    data = synthetic_interactions(150, 1000, rng)
    rec = ItemCosineRecommender()
    rec.fit(data.matrix)
    assert rec.similarity is not None
    h = data.matrix.copy()
    for _ in range(4):
        h[np.arange(len(h)), rng.integers(0, 1000, len(h))] = True
        dense = h.astype(float) @ rec.similarity
        np.testing.assert_allclose(rec.scores(h), dense, rtol=0, atol=1e-12)
        assert np.array_equal(rec.recommend(h, 3), top_k(dense, h, 3))
    # Weighted histories (not used by the workload) keep the dense definition too.
    w = h * rng.random(h.shape)
    np.testing.assert_allclose(rec.scores(w), w @ rec.similarity, rtol=0, atol=1e-12)


def test_popularity_baseline_and_registry() -> None:
    assert set(RECOMMENDERS.names()) >= {"item_cosine", "popularity"}
    rec = RECOMMENDERS.get("popularity")()
    assert isinstance(rec, PopularityRecommender)
    rec.fit(X)
    # Counts 2, 2, 2, 2, 1: u3 has c3, c4 -> c0, c1 (ties by id).
    assert rec.recommend(X[3], 2).tolist() == [[0, 1]]
    with pytest.raises(RuntimeError):
        ItemCosineRecommender().scores(X)


def test_synthetic_model() -> None:
    rng = np.random.default_rng(2024)
    n_learners, n_courses, k_topics = 4000, 60, 4
    data = synthetic_interactions(n_learners, n_courses, rng, n_topics=k_topics, alpha=0.8,
                                  concentration=0.2, mean_courses=4.0)
    m = data.matrix
    assert m.shape == (n_learners, n_courses) and m.dtype == bool
    np.testing.assert_allclose(data.taste.sum(axis=1), 1.0)
    # Mean courses per learner: 4 before clipping, a little less after.
    mean = m.sum(axis=1).mean()
    assert 3.0 < mean <= 4.1
    # Expected take rate of course c: E[min(1, lambda w_c theta[t_c])]; without
    # clipping that is mean_courses * w_c, so popular courses are taken more.
    counts = m.sum(axis=0)
    assert counts[:5].sum() > counts[-5:].sum() * 3
    # Taste structure: courses of one topic are more similar than across topics.
    sim = cosine_similarity(m)
    same = data.course_topic[:, None] == data.course_topic[None, :]
    off = ~np.eye(n_courses, dtype=bool)
    assert sim[same & off].mean() > 2 * sim[~same].mean()
    # Same seed, same matrix.
    again = synthetic_interactions(n_learners, n_courses, np.random.default_rng(2024),
                                   n_topics=k_topics, alpha=0.8, concentration=0.2,
                                   mean_courses=4.0)
    assert np.array_equal(again.matrix, m)


def test_recommender_learns_topics() -> None:
    # Recommendations for a learner should be mostly in the topics they took.
    rng = np.random.default_rng(9)
    data = synthetic_interactions(3000, 40, rng, n_topics=4, concentration=0.1)
    history = data.matrix[:300]
    topics = data.course_topic

    def in_topic_share(rec: ItemCosineRecommender | PopularityRecommender) -> float:
        rec.fit(data.matrix)
        hits = total = 0
        for row, pick in zip(history, rec.recommend(history, 3), strict=True):
            seen = set(topics[row].tolist())
            chosen = pick[pick >= 0]
            if seen and len(chosen):
                hits += sum(int(topics[c]) in seen for c in chosen)
                total += len(chosen)
        return hits / total

    assert in_topic_share(ItemCosineRecommender()) > 0.8
    # The popularity baseline ignores taste: the check is not met by chance.
    assert in_topic_share(PopularityRecommender()) < 0.5
