"""SINR with load-weighted interference, against the formula written out here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.radio.sinr import best_server, noise_dbm, rsrp_dbm, sinr_db


def test_noise_is_thermal_plus_noise_figure() -> None:
    # -174 dBm/Hz over 100 MHz is -94 dBm; with a 9 dB noise figure, -85 dBm.
    assert float(noise_dbm(100e6, 9.0)) == pytest.approx(-85.0)


def test_cell_edge_sinr_falls_with_neighbour_load_by_the_formula() -> None:
    rx = np.array([[-80.0, -83.0]])  # serving -80 dBm, neighbour -83 dBm
    noise = np.array([-95.0])
    serving = np.array([0])
    alone = sinr_db(rx, serving, np.array([1.0, 0.0]), noise)
    loaded = sinr_db(rx, serving, np.array([1.0, 1.0]), noise)
    half = sinr_db(rx, serving, np.array([1.0, 0.5]), noise)
    assert alone[0] == pytest.approx(-80.0 - -95.0)  # no interference: SNR
    mw = lambda dbm: 10 ** (dbm / 10)  # noqa: E731
    for sinr, rho in ((loaded, 1.0), (half, 0.5)):
        expected = -80.0 - 10 * math.log10(rho * mw(-83.0) + mw(-95.0))
        assert sinr[0] == pytest.approx(expected)
    drop = alone[0] - loaded[0]
    assert drop == pytest.approx(10 * math.log10((mw(-83.0) + mw(-95.0)) / mw(-95.0)))


def test_own_cell_load_does_not_interfere_and_other_carriers_do_not() -> None:
    rx = np.array([[-80.0, -83.0, -70.0]])
    noise = np.array([-95.0])
    carrier = np.array([3.5e9, 3.5e9, 28e9])
    a = sinr_db(rx, np.array([0]), np.array([0.1, 1.0, 1.0]), noise, carrier)
    b = sinr_db(rx, np.array([0]), np.array([1.0, 1.0, 0.0]), noise, carrier)
    assert a[0] == pytest.approx(b[0])


def test_best_server_by_rsrp_accounts_for_bandwidth() -> None:
    # Same total power: the narrower cell has the higher power per resource element.
    rx = np.array([[-80.0, -81.0]])
    rsrp = rsrp_dbm(rx, np.array([273, 51]))
    assert rsrp[0, 0] == pytest.approx(-80.0 - 10 * math.log10(12 * 273))
    assert best_server(rsrp).tolist() == [1]
