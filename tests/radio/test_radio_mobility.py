"""UE mobility models: exact straight lines, random waypoint statistics, trace replay."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.radio.mobility import (
    MOBILITY,
    RandomWaypoint,
    Static,
    StraightLine,
    Trace,
    make_mobility,
)
from sim.radio.placement import Area, uniform_rect
from sim.registry import UnknownPluginError

# Mean distance between two uniform points in the unit square (Ghosh 1951).
MEAN_UNIT_SQUARE_DISTANCE = (2 + math.sqrt(2) + 5 * math.log(1 + math.sqrt(2))) / 15


def test_static_never_moves() -> None:
    start = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = Static(start)
    assert m.advance(10.0).tolist() == [0.0, 0.0]
    assert np.array_equal(m.positions, start)
    assert m.time == 10.0
    with pytest.raises(ValueError):
        m.positions[0, 0] = 5.0  # read-only view


def test_straight_line_positions_are_exact() -> None:
    start = [[0.0, 0.0], [10.0, 5.0], [-3.0, 7.0]]
    heading = [0.0, 120.0, 270.0]
    speed = [2.0, 3.0, 0.5]
    m = StraightLine(start, heading, speed)
    dt = 0.25
    for k in range(1, 41):
        moved = m.advance(dt)
        t = k * dt
        for i in range(3):
            h = math.radians(heading[i])
            want = (start[i][0] + speed[i] * t * math.cos(h),
                    start[i][1] + speed[i] * t * math.sin(h))
            assert m.positions[i].tolist() == pytest.approx(want, abs=1e-12)
            assert moved[i] == pytest.approx(speed[i] * dt, abs=1e-12)
    assert m.time == pytest.approx(10.0)


def test_straight_line_shared_heading_and_speed() -> None:
    m = StraightLine([[0.0, 0.0], [1.0, 1.0]], 45.0, 2.0)
    m.advance(3.0)
    step = 6.0 / math.sqrt(2)
    np.testing.assert_allclose(m.positions, [[step, step], [1 + step, 1 + step]], atol=1e-12)
    with pytest.raises(ValueError, match="one value per UE"):
        StraightLine([[0.0, 0.0]], [0.0, 1.0], 1.0)


def _rwp(n: int, area: Area, v_min: float, v_max: float, pause: float | tuple[float, float],
         seed: int) -> RandomWaypoint:
    rng = np.random.default_rng(seed)
    return RandomWaypoint(uniform_rect(n, area, rng), area, v_min, v_max, pause, rng)


@pytest.mark.parametrize(("side", "dt"), [(1000.0, 1.0), (10.0, 7.0)])
def test_random_waypoint_stays_inside_and_speed_bounded(side: float, dt: float) -> None:
    # The small area makes UEs finish several legs within one step.
    area = Area(-side / 2, 0.0, side / 2, side)
    v_min, v_max = 2.0, 9.0
    m = _rwp(500, area, v_min, v_max, 0.0, seed=1)
    for _ in range(200):
        before = m.positions.copy()
        moved = m.advance(dt)
        pos = m.positions
        assert np.all(area.contains(pos))
        # No pauses: the path length is exactly the time spent walking times speeds
        # drawn in [v_min, v_max]; the displacement can only be shorter.
        assert np.all(moved >= v_min * dt - 1e-9)
        assert np.all(moved <= v_max * dt + 1e-9)
        assert np.all(np.hypot(*(pos - before).T) <= moved + 1e-9)
    assert np.all((m.speeds >= v_min) & (m.speeds <= v_max))


def test_random_waypoint_pauses_slow_the_average_speed() -> None:
    # Constant speed v and pause P: mean speed = v·E[L/v] / (E[L/v] + P), with E[L] the
    # mean distance between two uniform points of the square.
    side, v, pause = 100.0, 10.0, 5.0
    m = _rwp(2000, Area(0, 0, side, side), v, v, pause, seed=4)
    duration = 600.0
    total = np.zeros(m.n)
    for _ in range(600):
        moved = m.advance(duration / 600)
        assert np.all(moved <= v * duration / 600 + 1e-9)
        total += moved
    trip = MEAN_UNIT_SQUARE_DISTANCE * side / v
    assert total.mean() / duration == pytest.approx(v * trip / (trip + pause), rel=0.02)


def test_random_waypoint_uniform_pause_range() -> None:
    side, v, lo, hi = 100.0, 10.0, 2.0, 8.0
    m = _rwp(2000, Area(0, 0, side, side), v, v, (lo, hi), seed=6)
    total = np.sum([m.advance(1.0) for _ in range(600)], axis=0)
    trip = MEAN_UNIT_SQUARE_DISTANCE * side / v
    mean_pause = (lo + hi) / 2
    assert total.mean() / 600 == pytest.approx(v * trip / (trip + mean_pause), rel=0.02)


def test_random_waypoint_is_denser_at_the_centre() -> None:
    side = 1000.0
    m = _rwp(2000, Area(0, 0, side, side), 5.0, 15.0, 0.0, seed=2)
    for _ in range(300):  # warm-up of ~10 mean trip times
        m.advance(2.0)
    centre, edge = [], []
    for _ in range(100):
        m.advance(5.0)
        p = m.positions / side
        centre.append(np.mean(np.all((p > 0.25) & (p < 0.75), axis=1)))
        edge.append(np.mean(np.any((p < 0.1) | (p > 0.9), axis=1)))
    # Uniform would give 0.25 in the central quarter and 0.36 in the 10 % rim.
    # Bettstetter's product approximation f(x)f(y), f(x) = 6x(1 − x), gives
    # (∫_{1/4}^{3/4} f)^2 = (11/16)^2 ≈ 0.473 and 1 − (∫_{0.1}^{0.9} f)^2 ≈ 0.109.
    assert np.mean(centre) > 0.40
    assert np.mean(centre) == pytest.approx((11 / 16) ** 2, abs=0.04)
    assert np.mean(edge) < 0.20


def test_random_waypoint_reproducible_with_seed() -> None:
    area = Area(0, 0, 300, 300)
    a, b, c = (_rwp(50, area, 1.0, 5.0, (0.0, 3.0), seed=s) for s in (9, 9, 10))
    for _ in range(100):
        da, db = a.advance(1.0), b.advance(1.0)
        c.advance(1.0)
        assert np.array_equal(da, db)
    assert np.array_equal(a.positions, b.positions)
    assert not np.array_equal(a.positions, c.positions)


def test_random_waypoint_rejects_zero_min_speed_and_outside_start() -> None:
    area = Area(0, 0, 10, 10)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="Yoon"):
        RandomWaypoint([[1.0, 1.0]], area, 0.0, 5.0, 0.0, rng)
    with pytest.raises(ValueError, match="inside the area"):
        RandomWaypoint([[11.0, 1.0]], area, 1.0, 5.0, 0.0, rng)
    with pytest.raises(ValueError, match="pause"):
        RandomWaypoint([[1.0, 1.0]], area, 1.0, 5.0, (3.0, 1.0), rng)


TRACE = """time_s,ue,x_m,y_m
0,7,0,0
10,7,100,0
20,7,100,50
5,2,10,10
15,2,10,10
"""


def _write(tmp_path: Path, text: str, name: str = "trace.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_trace_interpolates_per_ue(tmp_path: Path) -> None:
    tr = Trace.from_csv(_write(tmp_path, TRACE))
    assert tr.ue_ids == ("2", "7")  # numeric label order
    # At t = 0 UE "2" has not reached its first sample: it holds it.
    assert tr.positions.tolist() == [[10.0, 10.0], [0.0, 0.0]]
    expected = {  # t -> (UE "2", UE "7")
        2.5: ((10, 10), (25, 0)),
        5.0: ((10, 10), (50, 0)),
        10.0: ((10, 10), (100, 0)),
        13.0: ((10, 10), (100, 15)),
        20.0: ((10, 10), (100, 50)),
        40.0: ((10, 10), (100, 50)),
    }
    t = 0.0
    for when, want in expected.items():
        tr.advance(when - t)
        t = when
        assert tr.positions.tolist() == [list(map(float, w)) for w in want]
    assert tr.at(7.5).tolist() == [[10.0, 10.0], [75.0, 0.0]]
    assert tr.at(-5.0).tolist() == [[10.0, 10.0], [0.0, 0.0]]


def test_trace_distance_follows_the_path(tmp_path: Path) -> None:
    tr = Trace.from_csv(_write(tmp_path, TRACE))
    # 5 s → 15 s crosses the corner at (100, 0): 50 m east then 25 m north, while
    # the straight displacement would be hypot(50, 25).
    tr.advance(5.0)
    assert tr.advance(10.0).tolist() == pytest.approx([0.0, 75.0])
    assert tr.advance(100.0).tolist() == pytest.approx([0.0, 25.0])
    assert tr.advance(1.0).tolist() == [0.0, 0.0]


def test_trace_from_arrays_with_string_labels(tmp_path: Path) -> None:
    text = "ue,x_m,y_m,time_s\nbus,0,0,0\ncar,5,5,0\nbus,0,30,3\n"
    tr = Trace.from_csv(_write(tmp_path, text))
    assert tr.ue_ids == ("bus", "car")
    tr.advance(1.0)
    assert tr.positions.tolist() == [[0.0, 10.0], [5.0, 5.0]]


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("time_s,ue,x_m\n0,1,2\n", 1, "y_m"),
        ("time_s,ue,x_m,y_m\n0,1,0,0\n1,1,2\n", 3, "fields"),
        ("time_s,ue,x_m,y_m\n0,1,0,0\n\n1,1,abc,0\n", 4, "numbers"),
        ("time_s,ue,x_m,y_m\n0,1,0,0\n1,1,nan,0\n", 3, "finite"),
        ("time_s,ue,x_m,y_m\n0,1,0,0\n1,2,0,0\n0,1,5,5\n", 4, "already has a sample"),
        ("time_s,ue,x_m,y_m\n0, ,0,0\n", 2, "empty ue"),
    ],
)
def test_malformed_trace_names_file_and_line(
    tmp_path: Path, text: str, line: int, match: str
) -> None:
    path = _write(tmp_path, text, "bad.csv")
    with pytest.raises(ValueError, match=match) as err:
        Trace.from_csv(path)
    assert f"{path}, line {line}:" in str(err.value)


def test_empty_trace_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "time_s,ue,x_m,y_m\n", "empty.csv")
    with pytest.raises(ValueError, match="no samples") as err:
        Trace.from_csv(path)
    assert str(path) in str(err.value)


def test_registry_builds_every_model(tmp_path: Path) -> None:
    assert set(MOBILITY) >= {"static", "random_waypoint", "straight_line", "trace"}
    start = np.array([[1.0, 1.0], [2.0, 2.0]])
    rng = np.random.default_rng(0)
    rwp = make_mobility(
        "random_waypoint",
        {"area": [0, 0, 10, 10], "v_min_mps": 1, "v_max_mps": 2, "pause_s": [0, 1]},
        start, rng,
    )
    assert isinstance(rwp, RandomWaypoint)
    line = make_mobility("straight_line", {"heading_deg": 90, "speed_mps": 1}, start, rng)
    line.advance(2.0)
    np.testing.assert_allclose(line.positions, [[1.0, 3.0], [2.0, 4.0]], atol=1e-12)
    assert isinstance(make_mobility("static", {}, start, rng), Static)
    path = _write(tmp_path, TRACE)
    assert make_mobility("trace", {"file": str(path)}, start, rng).n == 2
    with pytest.raises(ValueError, match="has 2 UEs"):
        make_mobility("trace", {"file": str(path)}, start[:1], rng)
    with pytest.raises(ValueError, match="speed_mps"):
        make_mobility("straight_line", {"heading_deg": 0}, start, rng)
    with pytest.raises(UnknownPluginError, match="random_waypoint"):
        make_mobility("random_waypont", {}, start, rng)


def test_negative_dt_rejected() -> None:
    with pytest.raises(ValueError, match="dt"):
        Static([[0.0, 0.0]]).advance(-1.0)


def test_trace_reproduces_samples_bit_for_bit() -> None:
    rng = np.random.default_rng(8)
    n_ue, n_t = 20, 12
    times = np.sort(rng.uniform(0, 100, n_t))
    t_col = np.tile(times, n_ue)
    ue_col = np.repeat(np.arange(n_ue), n_t)
    xy = rng.uniform(-1e3, 1e3, (n_ue * n_t, 2))
    tr = Trace(t_col, ue_col, xy[:, 0], xy[:, 1])
    want = xy.reshape(n_ue, n_t, 2)
    for k, t in enumerate(times):
        assert np.array_equal(tr.at(float(t)), want[:, k])
