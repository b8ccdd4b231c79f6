"""Link adaptation: SINR -> CQI -> spectral efficiency -> the rate a UE gets alone in a cell.

A flow-level simulator needs a rate per UE, not decoded blocks, so link adaptation is
a staircase of SINR thresholds. The thresholds come from the attenuated Shannon bound
of 3GPP TR 36.942 Annex A.2, throughput = α · log2(1 + SINR) with α = 0.6 for the
link-level implementation loss: CQI k is usable when that bound reaches the CQI's
spectral efficiency SE_k, i.e. at SINR >= 10 log10(2^(SE_k / α) - 1) dB. The CQI tables
of TS 38.214 are defined for a 10 % block error target (Tables 5.2.2.1-2 and -3), and
the bound stands in for the link curves at that target; the staircase caps the rate at
the table's highest efficiency, which plays the role of the bound's maximum throughput.

Rates follow the TS 38.306 section 4.1.2 approximate data rate: with the top CQI of the
256QAM table (SE 7.4063 ≈ 8 · 948/1024) `ue_peak_rate_bps` reproduces `peak_rate_bps`
within 0.01 %.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.radio.nr_tables import (
    R_MAX,
    SUBCARRIERS_PER_PRB,
    SYMBOLS_PER_SLOT,
    CqiTable,
    cqi_table,
)

__all__ = [
    "ALPHA_TR36942",
    "cqi_thresholds_db",
    "ofdm_symbol_duration_s",
    "peak_rate_bps",
    "sinr_to_cqi",
    "spectral_efficiency",
    "tdd_share",
    "ue_peak_rate_bps",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ALPHA_TR36942: Final = 0.6
"""Attenuation α of the Shannon bound, TR 36.942 Annex A.2 (downlink)."""

_SPECIAL_DL_SYMBOLS: Final = 10
_SPECIAL_UL_SYMBOLS: Final = 2


def ofdm_symbol_duration_s(mu: int) -> float:
    """Average OFDM symbol duration T_s^μ = 1e-3 / (14 · 2^μ) of TS 38.306 section 4.1.2."""
    if mu < 0:
        raise ValueError(f"numerology mu must be >= 0, not {mu}")
    return 1e-3 / (SYMBOLS_PER_SLOT * (1 << mu))


def peak_rate_bps(
    n_prb: int,
    mu: int,
    layers: int,
    q_m: int,
    *,
    overhead: float,
    scaling: float = 1.0,
    r_max: float = R_MAX,
) -> float:
    """TS 38.306 section 4.1.2 approximate maximum data rate of one carrier, in bit/s.

    v_layers · Q_m · f · R_max · (N_PRB · 12 / T_s^μ) · (1 − OH); the 1e-6 of the
    specification (Mbps) is left out.
    """
    if n_prb <= 0 or layers <= 0 or q_m <= 0:
        raise ValueError("n_prb, layers and q_m must be positive")
    if not 0.0 < scaling <= 1.0:
        raise ValueError(f"scaling factor f must be in (0, 1], not {scaling}")
    if not 0.0 <= overhead < 1.0:
        raise ValueError(f"overhead must be in [0, 1), not {overhead}")
    res_per_s = n_prb * SUBCARRIERS_PER_PRB / ofdm_symbol_duration_s(mu)
    return layers * q_m * scaling * r_max * res_per_s * (1.0 - overhead)


def cqi_thresholds_db(
    table: str | CqiTable = "qam256", alpha: float = ALPHA_TR36942
) -> FloatArray:
    """Lowest SINR (dB) at which each CQI 0..15 is chosen; entry 0 is -inf.

    Inverts α · log2(1 + SINR) = SE_k (TR 36.942 Annex A.2) at each CQI's efficiency.
    """
    if alpha <= 0.0:
        raise ValueError(f"alpha must be positive, not {alpha}")
    se = cqi_table(table).efficiency_array()
    thresholds = np.empty_like(se)
    thresholds[0] = -np.inf
    thresholds[1:] = 10.0 * np.log10(np.expm1(se[1:] / alpha * np.log(2.0)))
    return thresholds


def sinr_to_cqi(
    sinr_db: ArrayLike, table: str | CqiTable = "qam256", alpha: float = ALPHA_TR36942
) -> IntArray:
    """Highest CQI whose threshold is at or below the SINR; 0 (out of range) below CQI 1.

    NaN SINR (no serving cell) maps to CQI 0 so that it yields zero rate.
    """
    sinr = np.asarray(sinr_db, dtype=np.float64)
    thresholds = cqi_thresholds_db(table, alpha)[1:]
    cqi = np.searchsorted(thresholds, sinr, side="right").astype(np.int64)
    return np.where(np.isnan(sinr), 0, cqi)


def spectral_efficiency(
    sinr_db: ArrayLike, table: str | CqiTable = "qam256", alpha: float = ALPHA_TR36942
) -> FloatArray:
    """Spectral efficiency (bit/s/Hz per layer) of the CQI chosen at each SINR; 0 below CQI 1."""
    se = cqi_table(table).efficiency_array()
    return se[sinr_to_cqi(sinr_db, table, alpha)]


def ue_peak_rate_bps(
    sinr_db: ArrayLike,
    *,
    n_prb: int,
    mu: int,
    overhead: float,
    layers: int = 1,
    table: str | CqiTable = "qam256",
    duplex_share: float = 1.0,
    alpha: float = ALPHA_TR36942,
) -> FloatArray:
    """Rate (bit/s) a UE would get with the whole carrier to itself, one value per SINR.

    SE(CQI) · layers · 12 · N_PRB / T_s^μ · (1 − OH) · duplex_share, i.e. the TS 38.306
    formula with Q_m · R replaced by the CQI's efficiency. `duplex_share` is the fraction
    of time the direction owns the carrier (see `tdd_share`); schedulers divide this
    rate among the UEs sharing the cell.
    """
    if n_prb <= 0 or layers <= 0:
        raise ValueError("n_prb and layers must be positive")
    if not 0.0 <= overhead < 1.0:
        raise ValueError(f"overhead must be in [0, 1), not {overhead}")
    if not 0.0 <= duplex_share <= 1.0:
        raise ValueError(f"duplex_share must be in [0, 1], not {duplex_share}")
    res_per_s = n_prb * SUBCARRIERS_PER_PRB / ofdm_symbol_duration_s(mu)
    scale = layers * res_per_s * (1.0 - overhead) * duplex_share
    return spectral_efficiency(sinr_db, table, alpha) * scale


def tdd_share(
    pattern: str,
    *,
    special_dl_symbols: int = _SPECIAL_DL_SYMBOLS,
    special_ul_symbols: int = _SPECIAL_UL_SYMBOLS,
) -> tuple[float, float]:
    """Fractions of air time (downlink, uplink) of a repeating TDD slot pattern.

    `pattern` has one letter per slot: D (downlink), U (uplink), S (special). A special
    slot counts its downlink and uplink symbols; the default 10 DL : 2 guard : 2 UL
    split is a common operator choice, not a standard value (the slot formats of
    TS 38.213 Table 11.1.1-1 allow others). Set `special_ul_symbols=0` when the
    special slot's uplink symbols carry only control/SRS. "FDD" gives (1.0, 1.0):
    each direction has its own carrier all the time.
    """
    slots = pattern.strip().upper()
    if slots == "FDD":
        return 1.0, 1.0
    if not slots or set(slots) - set("DUS"):
        raise ValueError(f"TDD pattern must be letters D, U, S (or 'FDD'), not {pattern!r}")
    if special_dl_symbols < 0 or special_ul_symbols < 0 or (
        special_dl_symbols + special_ul_symbols > SYMBOLS_PER_SLOT
    ):
        raise ValueError(
            "special slot symbols must be non-negative and fit in "
            f"{SYMBOLS_PER_SLOT}: {special_dl_symbols} DL + {special_ul_symbols} UL"
        )
    n_special = slots.count("S")
    dl = slots.count("D") + n_special * special_dl_symbols / SYMBOLS_PER_SLOT
    ul = slots.count("U") + n_special * special_ul_symbols / SYMBOLS_PER_SLOT
    return dl / len(slots), ul / len(slots)
