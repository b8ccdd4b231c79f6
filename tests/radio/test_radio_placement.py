"""Initial UE placement: area-uniform discs and rectangles, weighted Gaussian hotspots."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.radio.placement import Area, explicit, hotspots, uniform_disc, uniform_rect


def test_explicit_copies_and_checks_shape() -> None:
    src = [[0.0, 1.0], [2.5, -3.0]]
    pts = explicit(src)
    assert pts.shape == (2, 2)
    assert pts.tolist() == src
    assert explicit([]).shape == (0, 2)
    with pytest.raises(ValueError, match="pairs"):
        explicit([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="finite"):
        explicit([[math.nan, 0.0]])


def test_area_validates_and_contains() -> None:
    with pytest.raises(ValueError, match="positive width"):
        Area(0, 0, 0, 10)
    with pytest.raises(ValueError, match="x_min, y_min"):
        Area.from_bounds([0, 1, 2])
    a = Area.from_bounds([-10, 0, 10, 5])
    assert (a.width, a.height) == (20.0, 5.0)
    inside = a.contains(np.array([[0.0, 0.0], [10.0, 5.0], [10.1, 1.0], [0.0, -0.1]]))
    assert inside.tolist() == [True, True, False, False]


def test_uniform_disc_is_uniform_per_area() -> None:
    n, radius = 40_000, 120.0
    centre = np.array([300.0, -50.0])
    pts = uniform_disc(n, centre, radius, np.random.default_rng(3))
    r = np.hypot(*(pts - centre).T)
    assert pts.shape == (n, 2)
    assert r.max() <= radius + 1e-9
    # Area-uniform: P(r < R/2) = (1/2)^2 = 1/4; a uniform radius would give 1/2.
    tol = 5 * math.sqrt(0.25 * 0.75 / n)
    assert abs(np.mean(r < radius / 2) - 0.25) < tol
    assert abs(np.mean(r < 0.9 * radius) - 0.81) < 5 * math.sqrt(0.81 * 0.19 / n)
    # Isotropic: each quadrant holds a quarter.
    dx, dy = (pts - centre).T
    assert abs(np.mean((dx > 0) & (dy > 0)) - 0.25) < tol


def test_uniform_rect_inside_and_uniform() -> None:
    n = 20_000
    area = Area(100.0, -200.0, 400.0, 0.0)
    pts = uniform_rect(n, area, np.random.default_rng(5))
    assert np.all(area.contains(pts))
    tol = 5 * math.sqrt(0.25 / n)
    assert abs(np.mean(pts[:, 0] < 250.0) - 0.5) < tol
    assert abs(np.mean(pts[:, 1] < -100.0) - 0.5) < tol
    # Uniform on [a, b] has variance (b - a)^2 / 12.
    assert np.var(pts[:, 0]) == pytest.approx(300.0**2 / 12, rel=0.03)


def test_hotspot_spread_matches_sigma() -> None:
    n, sigma = 20_000, 30.0
    area = Area(0, 0, 1000, 1000)
    pts = hotspots(n, [[500.0, 400.0]], [1.0], sigma, area, np.random.default_rng(7))
    assert np.allclose(pts.mean(axis=0), [500.0, 400.0], atol=5 * sigma / math.sqrt(n))
    assert pts.std(axis=0) == pytest.approx([sigma, sigma], rel=0.03)
    # Radial distance of a 2-D isotropic Gaussian is Rayleigh: P(r < σ) = 1 − e^(−1/2).
    r = np.hypot(pts[:, 0] - 500.0, pts[:, 1] - 400.0)
    p = 1 - math.exp(-0.5)
    assert abs(np.mean(r < sigma) - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_hotspot_weights_and_per_hotspot_sigma() -> None:
    n = 20_000
    area = Area(0, 0, 2000, 1000)
    centres = [[300.0, 500.0], [1700.0, 500.0]]
    pts = hotspots(n, centres, [3.0, 1.0], [20.0, 60.0], area, np.random.default_rng(11))
    left = pts[:, 0] < 1000.0
    assert abs(left.mean() - 0.75) < 5 * math.sqrt(0.75 * 0.25 / n)
    assert pts[left, 0].std() == pytest.approx(20.0, rel=0.05)
    assert pts[~left, 0].std() == pytest.approx(60.0, rel=0.05)


def test_hotspot_near_corner_is_clipped_into_area() -> None:
    area = Area(0, 0, 500, 500)
    pts = hotspots(5_000, [[0.0, 0.0]], [1.0], 50.0, area, np.random.default_rng(2))
    assert np.all(area.contains(pts))
    # About half of the draws fall below each axis and are clipped onto the border.
    assert abs(np.mean(pts[:, 0] == 0.0) - 0.5) < 0.05


def test_hotspot_rejects_bad_weights() -> None:
    area = Area(0, 0, 1, 1)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="weights"):
        hotspots(3, [[0.5, 0.5]], [0.0], 0.1, area, rng)
    with pytest.raises(ValueError, match="sigma"):
        hotspots(3, [[0.5, 0.5]], [1.0], -1.0, area, rng)


def test_same_seed_same_placement() -> None:
    a = uniform_disc(100, [0, 0], 10, np.random.default_rng(42))
    b = uniform_disc(100, [0, 0], 10, np.random.default_rng(42))
    c = uniform_disc(100, [0, 0], 10, np.random.default_rng(43))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
