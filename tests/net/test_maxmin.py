"""The progressive-filling solver on allocations worked out by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.net.maxmin import SMALL_CLASSES, max_min_classes, max_min_rates


def test_single_link_is_shared_equally() -> None:
    rates = max_min_rates(np.ones((1, 4)), np.array([12.0]))
    assert rates == pytest.approx([3, 3, 3, 3])


def test_bottleneck_then_leftover() -> None:
    # Worked by hand: flow 0 crosses links 0 and 1, flow 1 only link 0, flows 2
    # and 3 only link 1; both links have capacity 1.
    # Link 1 (3 flows, capacity 1) saturates first at 1/3; link 0 then gives
    # flow 1 the rest, 1 - 1/3 = 2/3.
    w = np.array([[1, 1, 0, 0], [1, 0, 1, 1]], dtype=float)
    rates = max_min_rates(w, np.array([1.0, 1.0]))
    assert rates == pytest.approx([1 / 3, 2 / 3, 1 / 3, 1 / 3])


def test_flow_caps_release_capacity_to_others() -> None:
    rates = max_min_rates(np.ones((1, 3)), np.array([9.0]), np.array([1.0, np.inf, np.inf]))
    assert rates == pytest.approx([1, 4, 4])


def test_weighted_constraint_time_shares_a_cell() -> None:
    # A cell shared in time: sum(rate / peak) <= 1 with peaks 10 and 40: equal rates
    # r satisfy r/10 + r/40 = 1, so r = 8.
    w = np.array([[1 / 10, 1 / 40]])
    assert max_min_rates(w, np.array([1.0])) == pytest.approx([8, 8])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6).flatmap(lambda links: st.tuples(
    st.lists(st.floats(0.1, 1e3), min_size=links, max_size=links),
    st.lists(st.lists(st.integers(0, links - 1), min_size=1, max_size=links, unique=True),
             min_size=1, max_size=8),
    st.lists(st.one_of(st.just(np.inf), st.floats(0.05, 500)), min_size=8, max_size=8))))
def test_plain_python_solver_agrees_with_numpy(case: tuple) -> None:  # type: ignore[type-arg]
    capacity, paths, caps = case
    caps = caps[: len(paths)]
    weights = np.zeros((len(capacity), len(paths)))
    for j, path in enumerate(paths):
        weights[path, j] = 1.0
    vectorised = max_min_rates(weights, np.array(capacity), np.array(caps))
    small = max_min_classes(paths, [1] * len(paths), capacity, caps)
    assert small == pytest.approx(list(vectorised), rel=1e-9, abs=1e-12)


def test_plain_python_solver_on_the_parking_lot() -> None:
    assert max_min_classes([[0, 1, 2], [0], [1], [2]], [1] * 4, [10, 20, 30], [np.inf] * 4) == \
        pytest.approx([5, 5, 15, 25])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda links: st.tuples(
    st.lists(st.floats(0.1, 1e3), min_size=links, max_size=links),
    st.lists(st.lists(st.integers(0, links - 1), max_size=links, unique=True),
             min_size=1, max_size=2 * SMALL_CLASSES),
    st.lists(st.integers(1, 6), min_size=2 * SMALL_CLASSES, max_size=2 * SMALL_CLASSES),
    st.lists(st.one_of(st.just(np.inf), st.floats(0.05, 500)),
             min_size=2 * SMALL_CLASSES, max_size=2 * SMALL_CLASSES))))
def test_classes_get_the_rates_of_their_flows_solved_one_by_one(case: tuple) -> None:  # type: ignore[type-arg]
    # A class of n identical flows must get the rate each of those n flows gets when
    # every flow is its own column of progressive filling (both solver paths).
    capacity, paths, counts, caps = case
    # A class on no channel is held by its cap alone, which must then be finite.
    caps = [c if (path or np.isfinite(c)) else 1.0 for c, path in zip(caps, paths, strict=False)]
    counts = counts[: len(paths)]
    flows = [j for j, n in enumerate(counts) for _ in range(n)]
    weights = np.zeros((len(capacity), len(flows)))
    for f, j in enumerate(flows):
        weights[paths[j], f] = 1.0
    each = max_min_rates(weights, np.array(capacity), np.array([caps[j] for j in flows]))
    classes = max_min_classes(paths, counts, capacity, caps)
    assert [classes[j] for j in flows] == pytest.approx(list(each), rel=1e-9, abs=1e-12)
