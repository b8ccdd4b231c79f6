"""Link adaptation against the TS 38.306 peak rate and the TR 36.942 A.2 thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.radio.link_adaptation import (
    cqi_thresholds_db,
    peak_rate_bps,
    sinr_to_cqi,
    spectral_efficiency,
    tdd_share,
    ue_peak_rate_bps,
)
from sim.radio.nr_tables import prb_count

# Spectral efficiency per CQI 1..15, TS 38.214 Tables 5.2.2.1-3 (256QAM) and 5.2.2.1-2 (64QAM).
SE_256 = [0.1523, 0.3770, 0.8770, 1.4766, 1.9141, 2.4063, 2.7305, 3.3223, 3.9023, 4.5234,
          5.1152, 5.5547, 6.2266, 6.9141, 7.4063]
SE_64 = [0.1523, 0.2344, 0.3770, 0.6016, 0.8770, 1.1758, 1.4766, 1.9141, 2.4063, 2.7305,
         3.3223, 3.9023, 4.5234, 5.1152, 5.5547]
ALPHA = 0.6  # TR 36.942 Annex A.2

# 100 MHz at 30 kHz: one slot of 0.5 ms holds 14 symbols, T_s = 1e-3 / 28 s.
N_PRB = 273
T_S = 1e-3 / 28
OH_FR1_DL = 0.14


def expected_thresholds(se: list[float], alpha: float = ALPHA) -> list[float]:
    return [10 * math.log10(2 ** (s / alpha) - 1) for s in se]


def rate_of(se: float, layers: int = 1) -> float:
    return se * layers * N_PRB * 12 / T_S * (1 - OH_FR1_DL)


def test_peak_rate_100mhz_30khz_256qam() -> None:
    assert prb_count(100e6, 30e3) == N_PRB
    expected = 8 * (948 / 1024) * N_PRB * 12 / T_S * (1 - OH_FR1_DL)
    assert expected == pytest.approx(584.25e6, abs=0.01e6)
    assert peak_rate_bps(N_PRB, 1, 1, 8, overhead=OH_FR1_DL) == pytest.approx(expected, rel=1e-12)
    top = ue_peak_rate_bps(np.array([60.0]), n_prb=N_PRB, mu=1, overhead=OH_FR1_DL)
    assert top[0] == pytest.approx(expected, rel=1e-4)


def test_peak_rate_formula_other_cases() -> None:
    # FR2 400 MHz at 120 kHz: 264 PRB, T_s = 1e-3 / (14 * 8); 2 layers of 64QAM, f = 0.75.
    expected = 2 * 6 * 0.75 * (948 / 1024) * 264 * 12 / (1e-3 / 112) * (1 - 0.18)
    got = peak_rate_bps(264, 3, 2, 6, overhead=0.18, scaling=0.75)
    assert got == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="scaling"):
        peak_rate_bps(264, 3, 2, 6, overhead=0.18, scaling=1.5)
    with pytest.raises(ValueError, match="overhead"):
        peak_rate_bps(264, 3, 2, 6, overhead=1.0)


@pytest.mark.parametrize(("table", "se"), [("qam256", SE_256), ("qam64", SE_64)])
def test_thresholds_invert_attenuated_shannon(table: str, se: list[float]) -> None:
    got = cqi_thresholds_db(table)
    assert got[0] == -np.inf
    np.testing.assert_allclose(got[1:], expected_thresholds(se), rtol=0, atol=1e-9)
    # CQI 1 needs about -7.2 dB and the top of the 256QAM table about 37.2 dB.
    assert got[1] == pytest.approx(-7.16, abs=0.01)


def test_alpha_is_configurable() -> None:
    got = cqi_thresholds_db("qam256", alpha=0.75)
    np.testing.assert_allclose(got[1:], expected_thresholds(SE_256, 0.75), atol=1e-9)
    assert np.all(got[1:] < cqi_thresholds_db("qam256")[1:])
    with pytest.raises(ValueError, match="alpha"):
        cqi_thresholds_db("qam256", alpha=0.0)


@pytest.mark.parametrize(("table", "se"), [("qam256", SE_256), ("qam64", SE_64)])
def test_rate_is_a_staircase_stepping_at_the_thresholds(table: str, se: list[float]) -> None:
    thresholds = expected_thresholds(se)
    module_thresholds = cqi_thresholds_db(table)
    levels = [0.0, *se]
    for k in range(1, 16):
        below, above = thresholds[k - 1] - 1e-6, thresholds[k - 1] + 1e-6
        rates = ue_peak_rate_bps(
            np.array([below, module_thresholds[k], above]),
            n_prb=N_PRB, mu=1, overhead=OH_FR1_DL, table=table,
        )
        assert rates[0] == pytest.approx(rate_of(levels[k - 1]), rel=1e-12), k
        assert rates[1] == pytest.approx(rate_of(levels[k]), rel=1e-12), k
        assert rates[2] == pytest.approx(rate_of(levels[k]), rel=1e-12), k
        cqi = sinr_to_cqi([below, above], table)
        assert cqi.tolist() == [k - 1, k]


def test_rate_monotonic_zero_below_cqi1_and_capped() -> None:
    sinr = np.linspace(-30.0, 60.0, 20001)
    rate = ue_peak_rate_bps(sinr, n_prb=N_PRB, mu=1, overhead=OH_FR1_DL)
    assert np.all(np.diff(rate) >= 0)
    cqi1 = expected_thresholds(SE_256)[0]
    assert np.all(rate[sinr < cqi1] == 0.0)
    assert np.all(rate[sinr >= cqi1] > 0.0)
    assert rate.max() == pytest.approx(rate_of(7.4063), rel=1e-12)
    assert len(np.unique(rate)) == 16  # 15 CQI levels and zero


def test_vectorised_shapes_and_nan() -> None:
    rng = np.random.default_rng(1)
    sinr = rng.uniform(-20, 40, size=(50, 200))
    se = spectral_efficiency(sinr)
    assert se.shape == sinr.shape
    assert set(np.unique(se)) <= {0.0, *SE_256}
    assert spectral_efficiency(np.array([np.nan, -np.inf, np.inf])).tolist() == [0.0, 0.0, 7.4063]
    assert sinr_to_cqi(25.0).shape == ()
    assert int(sinr_to_cqi(25.0)) == 10  # CQI 10 at 22.67 dB <= 25 dB < CQI 11 at 25.65 dB


def test_layers_and_duplex_share_scale_linearly() -> None:
    one = ue_peak_rate_bps([20.0], n_prb=N_PRB, mu=1, overhead=OH_FR1_DL)
    four = ue_peak_rate_bps([20.0], n_prb=N_PRB, mu=1, overhead=OH_FR1_DL, layers=4,
                            duplex_share=0.75)
    assert four[0] == pytest.approx(3.0 * one[0], rel=1e-12)
    with pytest.raises(ValueError, match="duplex_share"):
        ue_peak_rate_bps([20.0], n_prb=N_PRB, mu=1, overhead=OH_FR1_DL, duplex_share=1.2)


def test_tdd_share_dddsu() -> None:
    # Special slot 10 DL : 2 guard : 2 UL symbols (assumed split).
    dl, ul = tdd_share("DDDSU")
    assert dl == pytest.approx((3 + 10 / 14) / 5, rel=1e-12)
    assert ul == pytest.approx((1 + 2 / 14) / 5, rel=1e-12)
    assert dl + ul == pytest.approx(1 - (2 / 14) / 5)  # only the guard symbols are lost
    dl, ul = tdd_share("dddsu", special_dl_symbols=6, special_ul_symbols=0)
    assert (dl, ul) == pytest.approx(((3 + 6 / 14) / 5, 1 / 5))
    assert tdd_share("DDDDDDDSUU") == pytest.approx(((7 + 10 / 14) / 10, (2 + 2 / 14) / 10))
    assert tdd_share("FDD") == (1.0, 1.0)


@pytest.mark.parametrize("bad", ["", "DDXU", "D D"])
def test_tdd_share_rejects_bad_patterns(bad: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        tdd_share(bad)


def test_tdd_share_rejects_oversized_special_slot() -> None:
    with pytest.raises(ValueError, match="special"):
        tdd_share("DDDSU", special_dl_symbols=12, special_ul_symbols=4)
