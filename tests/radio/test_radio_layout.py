"""Hexagonal site grid and sectorisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.radio.layout import hex_sites, pairwise_d2d, sectorise


def nearest_neighbour(xy: np.ndarray) -> np.ndarray:
    d = np.array([[math.dist(a, b) for b in xy] for a in xy])
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


@pytest.mark.parametrize(("rings", "n"), [(0, 1), (1, 7), (2, 19), (3, 37)])
def test_site_counts(rings, n):
    assert hex_sites(rings, 500.0).shape == (n, 2)
    assert n == 1 + 3 * rings * (rings + 1)


def test_one_ring_at_isd_from_centre():
    s = hex_sites(1, 500.0)
    np.testing.assert_allclose(s[0], [0.0, 0.0])
    np.testing.assert_allclose(np.hypot(s[1:, 0], s[1:, 1]), 500.0)
    angles = np.degrees(np.arctan2(s[1:, 1], s[1:, 0])) % 360
    np.testing.assert_allclose(angles, [30, 90, 150, 210, 270, 330])


@pytest.mark.parametrize("rings", [1, 2, 3])
def test_nearest_neighbours_are_isd_apart(rings):
    s = hex_sites(rings, 200.0, center=(1000.0, -300.0))
    np.testing.assert_allclose(nearest_neighbour(s), 200.0)
    assert len({(round(x, 6), round(y, 6)) for x, y in s}) == len(s)
    np.testing.assert_allclose(s[0], [1000.0, -300.0])


def test_second_ring_geometry():
    s = hex_sites(2, 1.0)
    r = np.sort(np.hypot(s[7:, 0], s[7:, 1]))
    np.testing.assert_allclose(r, [math.sqrt(3)] * 6 + [2.0] * 6)
    # ring 2 starts at its 30 deg corner and goes counter-clockwise
    np.testing.assert_allclose(s[7], [2 * math.cos(math.pi / 6), 1.0])
    np.testing.assert_allclose(s[8], [math.sqrt(3) * math.cos(math.pi / 3),
                                      math.sqrt(3) * math.sin(math.pi / 3)], atol=1e-12)
    centre_neighbours = np.sum(np.isclose(np.hypot(s[:, 0], s[:, 1]), 1.0))
    assert centre_neighbours == 6


def test_three_sectors():
    s = hex_sites(1, 500.0)
    cells = sectorise(s, 3)
    assert cells.n_cells == 21 and cells.sectors == 3
    np.testing.assert_array_equal(cells.boresight_deg.reshape(7, 3), [[30, 150, 270]] * 7)
    np.testing.assert_array_equal(cells.site, np.repeat(np.arange(7), 3))
    np.testing.assert_allclose(cells.xy, np.repeat(s, 3, axis=0))


def test_one_sector_is_omni():
    cells = sectorise(hex_sites(1, 500.0), 1)
    assert cells.n_cells == 7
    assert np.isnan(cells.boresight_deg).all()
    np.testing.assert_array_equal(cells.site, np.arange(7))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="sectors"):
        sectorise(hex_sites(1, 500.0), 2)
    with pytest.raises(ValueError, match="rings"):
        hex_sites(-1, 500.0)
    with pytest.raises(ValueError, match="isd"):
        hex_sites(1, 0.0)


def test_pairwise_d2d():
    d = pairwise_d2d([[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0], [6.0, 8.0], [3.0, 0.0]])
    np.testing.assert_allclose(d, [[0, 10, 3], [5, 5, 4]])
