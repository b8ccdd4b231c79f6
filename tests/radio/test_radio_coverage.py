"""Coverage map: best-server SINR of static grid UEs, against formulas written out here."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.radio.coverage import MAX_POINTS, CoverageMap, sinr_map
from sim.radio.schema import RadioSpec

TX_DBM = 40.0
BANDWIDTH = 100e6
FC_GHZ = 3.5
H_UT = 1.5
NOISE_FIGURE = 9.0
NOISE_DBM = -174.0 + 10 * math.log10(BANDWIDTH) + NOISE_FIGURE  # -85 dBm
C = 3.0e8


def cell(name: str, x: float, y: float, deployment: str = "UMi", height: float = 10.0,
         **extra: Any) -> dict[str, Any]:
    return {"name": name, "position": [x, y], "deployment": deployment, "height": height,
            "tx_power": TX_DBM, "carrier": FC_GHZ * 1e9, "bandwidth": BANDWIDTH, **extra}


def two_cells(los: str, deployment: str = "UMi", height: float = 10.0,
              tx_west: float = TX_DBM) -> RadioSpec:
    return RadioSpec.model_validate({
        "cells": [cell("west", -100.0, 0.0, deployment, height, tx_power=tx_west),
                  cell("east", 100.0, 0.0, deployment, height)],
        "los": los})


# --- TR 38.901 Table 7.4.1-1, written out (d <= d'_BP for the distances used here) ---

def path_loss_db(deployment: str, los: bool, d2d: float, h_bs: float) -> float:
    d3d = math.hypot(max(d2d, 10.0), h_bs - H_UT)
    d_bp = 4 * (h_bs - 1.0) * (H_UT - 1.0) * FC_GHZ * 1e9 / C  # d'_BP, h_E = 1 m
    assert d2d <= d_bp, "the near-slope formula below holds up to the breakpoint"
    if deployment == "UMi":
        pl_los = 32.4 + 21.0 * math.log10(d3d) + 20.0 * math.log10(FC_GHZ)
        pl_nlos = 22.4 + 35.3 * math.log10(d3d) + 21.3 * math.log10(FC_GHZ) \
            - 0.3 * (H_UT - 1.5)
    else:  # UMa
        pl_los = 28.0 + 22.0 * math.log10(d3d) + 20.0 * math.log10(FC_GHZ)
        pl_nlos = 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(FC_GHZ) \
            - 0.6 * (H_UT - 1.5)
    return float(pl_los if los else max(pl_los, pl_nlos))


def umi_los_probability(d2d: float) -> float:
    """Table 7.4.2-1, UMi street canyon."""
    if d2d <= 18.0:
        return 1.0
    return 18.0 / d2d + math.exp(-d2d / 36.0) * (1.0 - 18.0 / d2d)


def mw(dbm: float) -> float:
    return math.pow(10.0, dbm / 10.0)


def index_of(axis: np.ndarray, value: float) -> int:
    i = int(np.argmin(np.abs(axis - value)))
    assert axis[i] == pytest.approx(value, abs=1e-6), "the grid must contain the point"
    return i


def grid(spec: RadioSpec, loads: list[float] | None) -> CoverageMap:
    return sinr_map(spec, loads, resolution_m=5.0, margin_m=100.0)


# ------------------------------------------------------------------------------ tests

def test_grid_covers_the_cells_plus_margin_symmetrically() -> None:
    cov = grid(two_cells("los"), [0.0, 0.0])
    assert cov.x[0] == pytest.approx(-200.0) and cov.x[-1] == pytest.approx(200.0)
    assert cov.y[0] == pytest.approx(-100.0) and cov.y[-1] == pytest.approx(100.0)
    assert np.allclose(np.diff(cov.x), 5.0) and np.allclose(np.diff(cov.y), 5.0)
    assert cov.sinr_db.shape == cov.best_cell.shape == (len(cov.y), len(cov.x)) == (41, 81)
    assert cov.cell_names == ["west", "east"]
    assert cov.cell_xy.tolist() == [[-100.0, 0.0], [100.0, 0.0]]
    assert np.isnan(cov.azimuth).all()  # omni


def test_grid_is_capped_at_max_points_per_axis() -> None:
    cov = sinr_map(two_cells("los"), resolution_m=0.1, margin_m=100.0)
    assert len(cov.x) == MAX_POINTS and len(cov.y) <= MAX_POINTS
    assert cov.x[0] == pytest.approx(-200.0) and cov.x[-1] == pytest.approx(200.0)
    small = sinr_map(two_cells("los"), margin_m=100.0, max_points=21)
    assert len(small.x) == 21 and np.allclose(np.diff(small.x), 20.0)


def test_default_loads_are_full_load() -> None:
    spec = two_cells("los")
    assert np.array_equal(sinr_map(spec, max_points=41).sinr_db,
                          sinr_map(spec, [1.0, 1.0], max_points=41).sinr_db)
    assert sinr_map(spec, max_points=41).loads.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("los", ["los", "nlos"])
def test_best_server_boundary_is_the_perpendicular_bisector(los: str) -> None:
    cov = grid(two_cells(los), [0.0, 0.0])
    for row in cov.best_cell:  # every row crosses the bisector x = 0
        assert (row[cov.x < -1e-9] == 0).all()
        assert (row[cov.x > 1e-9] == 1).all()


def test_a_stronger_cell_pushes_the_boundary_away() -> None:
    cov = grid(two_cells("los", tx_west=TX_DBM + 6.0), [0.0, 0.0])
    y0 = index_of(cov.y, 0.0)
    # Equal RSRP where 21 log10(d_e / d_w) = 6 on the axis: x = 100 (r-1)/(r+1), r = 10^(6/21)
    r = 10 ** (6.0 / 21.0)
    boundary = 100.0 * (r - 1) / (r + 1)  # about 31 m (d3D ~ d2D there, within 0.5 m)
    row = cov.best_cell[y0]
    assert (row[cov.x < boundary - 3.0] == 0).all()
    assert (row[cov.x > boundary + 3.0] == 1).all()


@pytest.mark.parametrize(("deployment", "los", "height"),
                         [("UMi", "los", 10.0), ("UMi", "nlos", 10.0),
                          ("UMa", "los", 25.0), ("UMa", "nlos", 25.0)])
def test_sinr_without_interference_is_the_snr_of_the_formula(deployment: str, los: str,
                                                              height: float) -> None:
    cov = grid(two_cells(los, deployment, height), [0.0, 0.0])
    for x, y, serving in ((-60.0, 40.0, -100.0), (-100.0, -35.0, -100.0),
                          (150.0, 90.0, 100.0), (5.0, 0.0, 100.0)):
        i, j = index_of(cov.x, x), index_of(cov.y, y)
        d2d = math.hypot(x - serving, y)
        snr = TX_DBM - path_loss_db(deployment, los == "los", d2d, height) - NOISE_DBM
        assert cov.sinr_db[j, i] == pytest.approx(snr, abs=0.02)  # tabulated path loss


@pytest.mark.parametrize("los", ["los", "nlos"])
def test_midpoint_at_full_load_has_signal_equal_to_interference(los: str) -> None:
    cov = grid(two_cells(los), [1.0, 1.0])
    i, j = index_of(cov.x, 0.0), index_of(cov.y, 0.0)
    signal = mw(TX_DBM - path_loss_db("UMi", los == "los", 100.0, 10.0))
    expected = 10 * math.log10(signal / (signal + mw(NOISE_DBM)))
    assert cov.sinr_db[j, i] == pytest.approx(expected, abs=0.02)
    assert -0.1 < cov.sinr_db[j, i] < 0.0  # about 0 dB: the noise is tiny next to them
    # Half load on the interferer: S / (S/2 + N).
    half = grid(two_cells(los), [1.0, 0.5])
    expected_half = 10 * math.log10(signal / (0.5 * signal + mw(NOISE_DBM)))
    assert half.sinr_db[j, i] == pytest.approx(expected_half, abs=0.02)


def test_loads_weight_interference_but_not_attachment() -> None:
    quiet = grid(two_cells("nlos"), [0.0, 0.0])
    loaded = grid(two_cells("nlos"), [0.3, 0.8])
    assert np.array_equal(quiet.best_cell, loaded.best_cell)
    assert (loaded.sinr_db <= quiet.sinr_db + 1e-9).all()
    i, j = index_of(loaded.x, -60.0), index_of(loaded.y, 40.0)  # served by west
    s = mw(TX_DBM - path_loss_db("UMi", False, math.hypot(40.0, 40.0), 10.0))
    interferer = mw(TX_DBM - path_loss_db("UMi", False, math.hypot(160.0, 40.0), 10.0))
    expected = 10 * math.log10(s / (0.8 * interferer + mw(NOISE_DBM)))
    assert loaded.sinr_db[j, i] == pytest.approx(expected, abs=0.02)


def test_auto_los_takes_the_median_state_of_each_link() -> None:
    one = RadioSpec.model_validate({"cells": [cell("only", 0.0, 0.0)], "los": "auto"})
    auto = sinr_map(one, [0.0], resolution_m=2.0, margin_m=120.0)
    gx, gy = np.meshgrid(auto.x, auto.y)
    d = np.hypot(gx, gy)
    p = np.vectorize(umi_los_probability)(d)
    clear = np.abs(p - 0.5) > 1e-3  # away from the threshold distance
    for los, where in (("los", p > 0.5), ("nlos", p < 0.5)):
        forced = sinr_map(one.model_copy(update={"los": los}), [0.0], resolution_m=2.0,
                          margin_m=120.0)
        mask = where & clear
        assert mask.sum() > 100
        assert np.allclose(auto.sinr_db[mask], forced.sinr_db[mask])
    # LOS and NLOS differ in between: the map really switches state at Pr_LOS = 0.5.
    los_map = sinr_map(one.model_copy(update={"los": "los"}), [0.0], resolution_m=2.0,
                       margin_m=120.0)
    assert not np.allclose(auto.sinr_db[(p < 0.5) & clear], los_map.sinr_db[(p < 0.5) & clear])


def test_auto_map_has_no_shadowing_and_is_reproducible() -> None:
    spec = two_cells("auto").model_copy(update={"shadowing": True})
    a = sinr_map(spec, [1.0, 1.0], max_points=61)
    b = sinr_map(spec, [1.0, 1.0], max_points=61)
    assert np.array_equal(a.sinr_db, b.sinr_db)
    # Without shadowing, the map is mirror-symmetric like the two cells.
    assert np.allclose(a.sinr_db, a.sinr_db[:, ::-1], atol=0.02)
    assert np.allclose(a.sinr_db, a.sinr_db[::-1, :], atol=0.02)


def test_sectors_serve_the_points_they_face() -> None:
    spec = RadioSpec.model_validate({
        "cells": [cell(f"s{k}", 0.0, 0.0, "UMa", 25.0, azimuth=az)
                  for k, az in enumerate((30.0, 150.0, 270.0))],
        "los": "nlos"})
    cov = sinr_map(spec, [0.0, 0.0, 0.0], resolution_m=10.0, margin_m=300.0)
    assert cov.azimuth.tolist() == [30.0, 150.0, 270.0]
    gx, gy = np.meshgrid(cov.x, cov.y)
    angle = np.degrees(np.arctan2(gy, gx))
    offset = np.abs((angle[..., None] - cov.azimuth + 180.0) % 360.0 - 180.0)
    nearest = offset.argmin(axis=-1)
    clear = (np.sort(offset, axis=-1)[..., 1] - offset.min(axis=-1) > 4.0) \
        & (np.hypot(gx, gy) > 30.0)
    assert clear.sum() > 1000
    assert np.array_equal(cov.best_cell[clear], nearest[clear])


def test_bad_inputs_are_refused() -> None:
    spec = two_cells("los")
    with pytest.raises(ValueError, match="3 values for 2 cells"):
        sinr_map(spec, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=">= 0"):
        sinr_map(spec, [1.0, -0.5])
    with pytest.raises(ValueError, match="resolution_m"):
        sinr_map(spec, resolution_m=0.0)


def test_chunked_evaluation_gives_the_same_map(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = two_cells("auto")
    whole = sinr_map(spec, [0.5, 1.0], max_points=41)
    monkeypatch.setattr("sim.radio.coverage.MAX_LINKS", 50)  # 25 grid UEs per network
    parts = sinr_map(spec, [0.5, 1.0], max_points=41)
    assert np.array_equal(whole.sinr_db, parts.sinr_db)
    assert np.array_equal(whole.best_cell, parts.best_cell)
