"""TR 38.901 Table 7.3-1 element pattern, omni pattern and cell-to-UE angles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.radio.antenna import ANTENNAS, OmniPattern, SectorPattern, angles_to_ues, wrap_deg


def ref_gain(phi: float, theta: float, tilt: float = 0.0) -> float:
    """Table 7.3-1 written out: 65 deg beams, A_max = SLA_V = 30 dB, 8 dBi peak."""
    phi = (phi + 180.0) % 360.0 - 180.0
    a_h = -min(12 * (phi / 65.0) ** 2, 30.0)
    a_v = -min(12 * ((theta - 90.0 - tilt) / 65.0) ** 2, 30.0)
    return 8.0 - min(-(a_h + a_v), 30.0)


def test_boresight_gain_is_8_dbi():
    assert SectorPattern().gain_db(0.0, 90.0) == pytest.approx(8.0)


@pytest.mark.parametrize("phi", [32.5, -32.5])
def test_half_power_beamwidth_horizontal(phi):
    assert SectorPattern().gain_db(phi, 90.0) == pytest.approx(8.0 - 3.0)


def test_half_power_beamwidth_vertical_and_downtilt():
    assert SectorPattern().gain_db(0.0, 90.0 + 32.5) == pytest.approx(5.0)
    tilted = SectorPattern(downtilt_deg=10.0)
    assert tilted.gain_db(0.0, 100.0) == pytest.approx(8.0)
    assert tilted.gain_db(0.0, 100.0 + 32.5) == pytest.approx(5.0)
    assert tilted.gain_db(0.0, 100.0 - 32.5) == pytest.approx(5.0)


def test_saturates_at_a_max():
    p = SectorPattern()
    assert p.gain_db(180.0, 90.0) == pytest.approx(8.0 - 30.0)
    assert p.gain_db(0.0, 180.0) == pytest.approx(8.0 - 12 * (90 / 65) ** 2)
    # the vertical cut saturates at SLA_V only more than 102.6 deg off its boresight
    assert SectorPattern(downtilt_deg=20.0).gain_db(0.0, 0.0) == pytest.approx(8.0 - 30.0)
    # each cut alone is under 30 dB but their sum is not: the combined cap applies
    assert 12 * (50 / 65) ** 2 < 30 and 2 * 12 * (50 / 65) ** 2 < 30
    assert 12 * (90 / 65) ** 2 < 30 and 12 * (90 / 65) ** 2 + 12 * (60 / 65) ** 2 > 30
    assert p.gain_db(90.0, 150.0) == pytest.approx(8.0 - 30.0)
    assert p.gain_db(-110.0, 20.0) == pytest.approx(-22.0)


def test_vectorised_against_reference():
    rng = np.random.default_rng(5)
    phi = rng.uniform(-400, 400, 200)
    theta = rng.uniform(0, 180, 200)
    got = SectorPattern(downtilt_deg=6.0).gain_db(phi, theta)
    want = [ref_gain(a, b, 6.0) for a, b in zip(phi, theta, strict=True)]
    np.testing.assert_allclose(got, want, atol=1e-9)
    grid = SectorPattern().gain_db(np.array([[0.0], [40.0]]), np.array([80.0, 90.0, 120.0]))
    assert grid.shape == (2, 3)
    assert grid[1, 2] == pytest.approx(ref_gain(40.0, 120.0))


def test_azimuth_wraps():
    p = SectorPattern()
    assert p.gain_db(350.0, 90.0) == pytest.approx(p.gain_db(-10.0, 90.0))
    np.testing.assert_allclose(wrap_deg([180.0, -180.0, 540.0, 359.0]), [-180, -180, -180, -1])


def test_omni():
    g = OmniPattern().gain_db(np.array([0.0, 90.0, np.nan]), 120.0)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    assert OmniPattern(gain_dbi=2.0).gain_db(10.0, 90.0) == 2.0


def test_registry():
    assert ANTENNAS.get("3gpp") is SectorPattern
    assert ANTENNAS.get("omni") is OmniPattern


def test_angles_to_ues():
    cells = np.array([[0.0, 0.0], [100.0, 0.0]])
    ues = np.array([[100 * math.cos(math.radians(30)), 50.0], [0.0, 0.0], [100.0, -40.0]])
    off, zen = angles_to_ues(cells, np.array([25.0, 10.0]), np.array([30.0, 150.0]),
                             ues, np.array([1.5, 1.5, 11.5]))
    assert off.shape == zen.shape == (3, 2)
    # UE 0 sits on cell 0's boresight, 100 m away, 23.5 m below
    assert off[0, 0] == pytest.approx(0.0, abs=1e-9)
    assert zen[0, 0] == pytest.approx(90 + math.degrees(math.atan2(23.5, 100.0)))
    # UE 1 from cell 1 is due west (180 deg), 30 deg beyond the 150 deg boresight
    assert off[1, 1] == pytest.approx(30.0)
    # UE 1 under cell 0's mast: azimuth undefined, reported as boresight
    assert off[1, 0] == 0.0 and zen[1, 0] == pytest.approx(180.0)
    # UE 2 is due south of cell 1 (270 deg): 120 deg past 150, wraps to -240 -> 120
    assert off[2, 1] == pytest.approx(120.0)
    # UE 2 above cell 1's antenna looks up: zenith < 90
    assert zen[2, 1] == pytest.approx(90 - math.degrees(math.atan2(1.5, 40.0)))
