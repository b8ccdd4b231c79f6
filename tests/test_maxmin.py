"""The progressive-filling solver on allocations worked out by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.maxmin import max_min_rates, max_min_small


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
    small = max_min_small(paths, capacity, caps)
    assert small == pytest.approx(list(vectorised), rel=1e-9, abs=1e-12)


def test_plain_python_solver_on_the_parking_lot() -> None:
    assert max_min_small([[0, 1, 2], [0], [1], [2]], [10, 20, 30], [np.inf] * 4) == \
        pytest.approx([5, 5, 15, 25])
