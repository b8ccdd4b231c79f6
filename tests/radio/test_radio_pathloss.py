"""TR 38.901 path loss, LOS probability and shadowing against the tables written out by hand.

The reference functions below are scalar transcriptions of Table 7.4.1-1 and
Table 7.4.2-1 with ``math``; they share no code with sim.radio.pathloss.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.radio.pathloss import PATHLOSS, InH, RMa, ShadowFading, UMa, UMi

C = 3.0e8
log10 = math.log10


def d3(d2d: float, h_bs: float, h_ut: float) -> float:
    return math.sqrt(d2d**2 + (h_bs - h_ut) ** 2)


# --- Table 7.4.1-1, scalar -------------------------------------------------------------

def ref_uma(d2d: float, h_bs: float, h_ut: float, fc: float, los: bool) -> float:
    d = d3(d2d, h_bs, h_ut)
    dbp = 4 * (h_bs - 1.0) * (h_ut - 1.0) * fc * 1e9 / C
    if d2d <= dbp:
        pl_los = 28.0 + 22 * log10(d) + 20 * log10(fc)
    else:
        pl_los = 28.0 + 40 * log10(d) + 20 * log10(fc) - 9 * log10(dbp**2 + (h_bs - h_ut) ** 2)
    if los:
        return pl_los
    return max(pl_los, 13.54 + 39.08 * log10(d) + 20 * log10(fc) - 0.6 * (h_ut - 1.5))


def ref_umi(d2d: float, h_bs: float, h_ut: float, fc: float, los: bool) -> float:
    d = d3(d2d, h_bs, h_ut)
    dbp = 4 * (h_bs - 1.0) * (h_ut - 1.0) * fc * 1e9 / C
    if d2d <= dbp:
        pl_los = 32.4 + 21 * log10(d) + 20 * log10(fc)
    else:
        pl_los = 32.4 + 40 * log10(d) + 20 * log10(fc) - 9.5 * log10(dbp**2 + (h_bs - h_ut) ** 2)
    if los:
        return pl_los
    return max(pl_los, 35.3 * log10(d) + 22.4 + 21.3 * log10(fc) - 0.3 * (h_ut - 1.5))


def ref_rma(d2d: float, h_bs: float, h_ut: float, fc: float, los: bool,
            w: float = 20.0, h: float = 5.0) -> float:
    d = d3(d2d, h_bs, h_ut)
    dbp = 2 * math.pi * h_bs * h_ut * fc * 1e9 / C

    def pl1(x: float) -> float:
        return (20 * log10(40 * math.pi * x * fc / 3) + min(0.03 * h**1.72, 10) * log10(x)
                - min(0.044 * h**1.72, 14.77) + 0.002 * log10(h) * x)

    pl_los = pl1(d) if d2d <= dbp else pl1(dbp) + 40 * log10(d / dbp)
    if los:
        return pl_los
    nlos = (161.04 - 7.1 * log10(w) + 7.5 * log10(h)
            - (24.37 - 3.7 * (h / h_bs) ** 2) * log10(h_bs)
            + (43.42 - 3.1 * log10(h_bs)) * (log10(d) - 3)
            + 20 * log10(fc) - (3.2 * (log10(11.75 * h_ut)) ** 2 - 4.97))
    return max(pl_los, nlos)


def ref_inh(d2d: float, h_bs: float, h_ut: float, fc: float, los: bool) -> float:
    d = max(d3(d2d, h_bs, h_ut), 1.0)
    pl_los = 32.4 + 17.3 * log10(d) + 20 * log10(fc)
    if los:
        return pl_los
    return max(pl_los, 38.3 * log10(d) + 17.30 + 24.9 * log10(fc))


# --- path loss -------------------------------------------------------------------------

CASES = [
    # model, reference, h_bs, h_ut, fc, distances (straddling the breakpoint)
    (UMa(), ref_uma, 25.0, 1.5, 3.5, [50.0, 200.0, 1000.0, 4000.0]),   # d'_BP = 560 m
    (UMa(), ref_uma, 25.0, 1.5, 28.0, [50.0, 1000.0, 4000.0]),          # d'_BP = 4480 m
    (UMi(), ref_umi, 10.0, 1.5, 3.5, [50.0, 150.0, 500.0, 3000.0]),     # d'_BP = 210 m
    (RMa(), ref_rma, 35.0, 1.5, 3.5, [50.0, 1000.0, 5000.0, 8000.0]),   # d_BP = 3848 m
    (RMa(), ref_rma, 35.0, 1.5, 0.7, [100.0, 500.0, 2000.0, 4000.0]),   # d_BP = 770 m
    (InH(), ref_inh, 3.0, 1.0, 3.5, [0.5, 5.0, 20.0, 100.0]),
]


@pytest.mark.parametrize("los", [True, False])
@pytest.mark.parametrize(("model", "ref", "h_bs", "h_ut", "fc", "dists"), CASES)
def test_path_loss_matches_table(model, ref, h_bs, h_ut, fc, dists, los):
    got = model.path_loss_db(np.array(dists), h_bs, h_ut, fc, los)
    want = [ref(d, h_bs, h_ut, fc, los) for d in dists]
    assert got.shape == (len(dists),)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_breakpoints_are_inside_the_tested_ranges():
    # guards the CASES above: each straddles its breakpoint
    assert 200 < 4 * 24 * 0.5 * 3.5e9 / C < 1000
    assert 150 < 4 * 9 * 0.5 * 3.5e9 / C < 500
    assert 1000 < 2 * math.pi * 35 * 1.5 * 3.5e9 / C < 5000
    assert 500 < 2 * math.pi * 35 * 1.5 * 0.7e9 / C < 2000


def test_hand_computed_uma_los_value():
    # 28 + 22 log10(sqrt(50^2 + 23.5^2)) + 20 log10(3.5) = 77.212 dB
    assert UMa().path_loss_db(50.0, 25.0, 1.5, 3.5, True) == pytest.approx(77.2122, abs=1e-3)


def test_uma_los_is_continuous_at_breakpoint():
    dbp = 4 * 24 * 0.5 * 3.5e9 / C
    pl = UMa().path_loss_db(np.array([dbp * (1 - 1e-9), dbp * (1 + 1e-9)]), 25.0, 1.5, 3.5, True)
    assert pl[0] == pytest.approx(pl[1], abs=1e-6)


def test_elementwise_los_mask_and_broadcasting():
    d = np.array([[50.0, 300.0], [1000.0, 2500.0]])
    los = np.array([[True, False], [False, True]])
    got = UMa().path_loss_db(d, 25.0, np.array([[1.5], [10.0]]), 3.5, los)
    want = [[ref_uma(50, 25, 1.5, 3.5, True), ref_uma(300, 25, 1.5, 3.5, False)],
            [ref_uma(1000, 25, 10.0, 3.5, False), ref_uma(2500, 25, 10.0, 3.5, True)]]
    np.testing.assert_allclose(got, want, atol=1e-9)


@pytest.mark.parametrize(
    ("model", "ref", "h_bs", "h_ut", "fc", "d2d"),
    [
        (UMa(), ref_uma, 25.0, 22.5, 3.5, 15.0),  # high-rise UT next to the mast
        (InH(), ref_inh, 3.0, 1.0, 3.5, 1.0),
        (RMa(), ref_rma, 35.0, 1.5, 3.5, 10.0),
    ],
)
def test_nlos_never_below_los(model, ref, h_bs, h_ut, fc, d2d):
    """Cases where the NLOS' formula alone is below LOS, so max(LOS, NLOS') decides."""
    d = d3(d2d, h_bs, h_ut)
    if model.name == "UMa":
        nlos_prime = 13.54 + 39.08 * log10(d) + 20 * log10(fc) - 0.6 * (h_ut - 1.5)
    elif model.name == "InH":
        nlos_prime = 38.3 * log10(d) + 17.30 + 24.9 * log10(fc)
    else:
        nlos_prime = (161.04 - 7.1 * log10(20) + 7.5 * log10(5)
                      - (24.37 - 3.7 * (5 / h_bs) ** 2) * log10(h_bs)
                      + (43.42 - 3.1 * log10(h_bs)) * (log10(d) - 3)
                      + 20 * log10(fc) - (3.2 * (log10(11.75 * h_ut)) ** 2 - 4.97))
    pl_los = ref(d2d, h_bs, h_ut, fc, True)
    assert nlos_prime < pl_los  # the rule matters here
    got = model.path_loss_db(d2d, h_bs, h_ut, fc, False)
    assert got == pytest.approx(pl_los, abs=1e-9)


def test_distance_below_minimum_is_clamped():
    m = UMa()
    assert m.path_loss_db(2.0, 25.0, 1.5, 3.5, False) == m.path_loss_db(10.0, 25.0, 1.5, 3.5, False)
    want = ref_uma(10, 25, 1.5, 3.5, True)
    assert m.path_loss_db(0.0, 25.0, 1.5, 3.5, True) == pytest.approx(want)
    # InH clamps d3D at 1 m: a UT at the antenna height right below it
    assert InH().path_loss_db(0.0, 3.0, 3.0, 3.5, True) == pytest.approx(32.4 + 20 * log10(3.5))


def test_rma_street_and_building_parameters_are_used():
    got = RMa(street_width_m=40.0, building_height_m=10.0).path_loss_db(
        np.array([300.0, 3000.0]), 35.0, 1.5, 3.5, False)
    want = [ref_rma(d, 35.0, 1.5, 3.5, False, w=40.0, h=10.0) for d in (300.0, 3000.0)]
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert not np.allclose(got, RMa().path_loss_db(np.array([300.0, 3000.0]), 35, 1.5, 3.5, False))


# --- LOS probability (Table 7.4.2-1) ---------------------------------------------------

def ref_p_umi(d: float) -> float:
    return 1.0 if d <= 18 else 18 / d + math.exp(-d / 36) * (1 - 18 / d)


def ref_p_uma(d: float, h_ut: float) -> float:
    if d <= 18:
        return 1.0
    c = 0.0 if h_ut <= 13 else ((h_ut - 13) / 10) ** 1.5
    return (18 / d + math.exp(-d / 63) * (1 - 18 / d)) * (
        1 + c * 5 / 4 * (d / 100) ** 3 * math.exp(-d / 150))


def ref_p_rma(d: float) -> float:
    return 1.0 if d <= 10 else math.exp(-(d - 10) / 1000)


def ref_p_inh_mixed(d: float) -> float:
    if d <= 1.2:
        return 1.0
    if d < 6.5:
        return math.exp(-(d - 1.2) / 4.7)
    return math.exp(-(d - 6.5) / 32.6) * 0.32


def ref_p_inh_open(d: float) -> float:
    if d <= 5:
        return 1.0
    if d <= 49:
        return math.exp(-(d - 5) / 70.8)
    return math.exp(-(d - 49) / 211.7) * 0.54


@pytest.mark.parametrize("h_ut", [1.5, 17.0, 22.5])
def test_uma_los_probability(h_ut):
    d = [5.0, 18.0, 30.0, 100.0, 400.0]
    np.testing.assert_allclose(UMa().los_probability(np.array(d), h_ut),
                               [ref_p_uma(x, h_ut) for x in d], atol=1e-12)


def test_other_los_probabilities():
    d = [1.0, 3.0, 10.0, 18.0, 40.0, 100.0, 600.0]
    np.testing.assert_allclose(UMi().los_probability(np.array(d), 1.5),
                               [ref_p_umi(x) for x in d], atol=1e-12)
    np.testing.assert_allclose(RMa().los_probability(np.array(d), 1.5),
                               [ref_p_rma(x) for x in d], atol=1e-12)
    np.testing.assert_allclose(InH().los_probability(np.array(d), 1.0),
                               [ref_p_inh_mixed(x) for x in d], atol=1e-12)
    np.testing.assert_allclose(InH(office="open").los_probability(np.array(d), 1.0),
                               [ref_p_inh_open(x) for x in d], atol=1e-12)


def test_los_probability_shape_follows_inputs():
    p = UMi().los_probability(np.full((4, 3), 50.0), 1.5)
    assert p.shape == (4, 3)
    p = UMa().los_probability(np.full((4, 1), 50.0), np.array([1.5, 15.0, 20.0]))
    assert p.shape == (4, 3)


def test_draw_los_frequency_and_forcing():
    rng = np.random.default_rng(7)
    m = UMi()
    d = np.full((20000, 2), 60.0)
    los = m.draw_los(d, 1.5, rng)
    p = ref_p_umi(60.0)
    n = d.size
    assert los.dtype == np.bool_ and los.shape == d.shape
    assert abs(los.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert m.draw_los(d, 1.5, rng, "los").all()
    assert not m.draw_los(d, 1.5, rng, "nlos").any()
    with pytest.raises(ValueError, match="los mode"):
        m.draw_los(d, 1.5, rng, "sometimes")


# --- shadowing statistics --------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "sigma", "dcorr"),
    [("UMa", (4.0, 6.0), (37.0, 50.0)), ("UMi", (4.0, 7.82), (10.0, 13.0)),
     ("RMa", (4.0, 8.0), (37.0, 120.0)), ("InH", (3.0, 8.03), (10.0, 6.0))],
)
def test_shadow_std_and_decorrelation(name, sigma, dcorr):
    m = PATHLOSS.get(name)()
    los = np.array([True, False])
    near = 50.0  # inside every deployment's LOS breakpoint
    np.testing.assert_array_equal(m.shadow_std_db(los, near, 10.0, 1.5, 3.5), sigma)
    np.testing.assert_array_equal(m.decorrelation_m(los), dcorr)


def test_rma_los_shadowing_on_both_sides_of_the_breakpoint():
    # Table 7.4.1-1 RMa LOS: sigma_SF = 4 dB with PL1 (10 m <= d2D <= d_BP), 6 dB with
    # PL2 (d_BP <= d2D <= 10 km); NLOS 8 dB everywhere.  d_BP = 2 pi h_BS h_UT fc / c.
    h_bs, h_ut, fc = 35.0, 1.5, 3.5
    d_bp = 2 * math.pi * h_bs * h_ut * fc * 1e9 / 3.0e8  # c = 3.0e8 m/s (note 1)
    assert d_bp == pytest.approx(3848.5, abs=0.1)
    m = RMa()
    assert float(m.los_breakpoint_m(h_bs, h_ut, fc)) == pytest.approx(d_bp)
    d = np.array([10.0, 1000.0, d_bp - 1.0, d_bp + 1.0, 6000.0, 10_000.0])
    np.testing.assert_array_equal(m.shadow_std_db(True, d, h_bs, h_ut, fc),
                                  [4.0, 4.0, 4.0, 6.0, 6.0, 6.0])
    np.testing.assert_array_equal(m.shadow_std_db(False, d, h_bs, h_ut, fc), [8.0] * 6)
    # A lower carrier moves the breakpoint in: at 0.7 GHz d_BP is about 770 m.
    np.testing.assert_array_equal(m.shadow_std_db(True, [700.0, 800.0], h_bs, h_ut, 0.7),
                                  [4.0, 6.0])
    # The other deployments have one LOS sigma at every distance.
    np.testing.assert_array_equal(UMa().shadow_std_db(True, [50.0, 4000.0], 25.0, 1.5, 3.5),
                                  [4.0, 4.0])


def test_registry_names():
    assert PATHLOSS.names() == ["InH", "RMa", "UMa", "UMi"]
    assert PATHLOSS.get("UMi") is UMi


def test_inh_rejects_unknown_office():
    with pytest.raises(ValueError, match="office"):
        InH(office="atrium")


def test_shadow_fading_lag_correlation_across_ues():
    rng = np.random.default_rng(2024)
    n_ue, n_cell, sigma, dcorr, step = 20000, 2, 6.0, 37.0, 20.0
    sf = ShadowFading(n_ue, n_cell, rng)
    x0 = sf.db(sigma).ravel()
    sf.advance(np.full(n_ue, step), dcorr)
    x1 = sf.db(sigma).ravel()
    for _ in range(4):
        sf.advance(np.full(n_ue, step), dcorr)
    x5 = sf.db(sigma).ravel()
    n = x0.size
    for x, lag in ((x1, step), (x5, 5 * step)):
        rho = math.exp(-lag / dcorr)
        tol = 4 * (1 - rho**2) / math.sqrt(n) + 4 / n
        assert abs(np.corrcoef(x0, x)[0, 1] - rho) < tol
    for x in (x0, x1, x5):
        assert abs(x.std() - sigma) < 4 * sigma / math.sqrt(2 * n)
        assert abs(x.mean()) < 4 * sigma / math.sqrt(n)


def test_shadow_fading_series_autocorrelation_along_a_path():
    rng = np.random.default_rng(11)
    sigma, dcorr, step, n = 4.0, 10.0, 5.0, 20000
    sf = ShadowFading(1, 1, rng)
    series = np.empty(n)
    for i in range(n):
        series[i] = sf.db(sigma)[0, 0]
        sf.advance([step], dcorr)
    rho = math.exp(-step / dcorr)
    lag1 = np.corrcoef(series[:-1], series[1:])[0, 1]
    lag2 = np.corrcoef(series[:-2], series[2:])[0, 1]
    # AR(1) estimator variance ~ (1 - rho^2)/n at lag 1; lag 2 a little larger
    tol = 5 * math.sqrt((1 + rho**2) / n)
    assert abs(lag1 - rho) < tol
    assert abs(lag2 - rho**2) < tol
    assert abs(series.std() - sigma) < 0.1 * sigma


def test_shadow_fading_still_ues_keep_their_values_and_los_switch_rescales():
    rng = np.random.default_rng(3)
    m = UMa()
    sf = ShadowFading(3, 4, rng)
    before = sf.normal
    los = np.array([[True, False, True, False]] * 3)
    sf.advance(np.array([0.0, 5.0, 0.0]), m.decorrelation_m(los))
    after = sf.normal
    np.testing.assert_array_equal(after[[0, 2]], before[[0, 2]])
    assert not np.allclose(after[1], before[1])
    np.testing.assert_allclose(sf.db(m.shadow_std_db(los, 100.0, 25.0, 1.5, 3.5)),
                               np.where(los, 4.0, 6.0) * after)
    assert sf.shape == (3, 4)
    with pytest.raises(ValueError, match="non-negative"):
        sf.advance(np.array([-1.0, 0.0, 0.0]), 37.0)
