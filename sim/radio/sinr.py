"""Received power, RSRP, best server and SINR with load-weighted interference.

A neighbour cell interferes only while it transmits, so its interference is its
received power weighted by its load (the fraction of time it was busy over the
last radio interval), the usual flow-level abstraction of inter-cell interference
(e.g. Fehske, Klessig, Voigt & Fettweis, "Concurrent load-aware adjustment of user
association and antenna tilts in self-organizing radio networks", IEEE TVT 2013).
Only cells on the same carrier interfere (reuse 1 within a carrier).

Powers are in mW inside the sums and in dBm at the edges; thermal noise is
-174 dBm/Hz + 10 log10(B) + NF.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "THERMAL_DBM_PER_HZ",
    "best_server",
    "dbm_to_mw",
    "mw_to_dbm",
    "noise_dbm",
    "rsrp_dbm",
    "sinr_db",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

THERMAL_DBM_PER_HZ = -174.0
"""Thermal noise density at 290 K, dBm/Hz."""


def dbm_to_mw(dbm: FloatArray | float) -> FloatArray:
    return np.power(10.0, np.asarray(dbm, dtype=float) / 10.0)


def mw_to_dbm(mw: FloatArray | float) -> FloatArray:
    with np.errstate(divide="ignore"):
        out: FloatArray = 10.0 * np.log10(np.asarray(mw, dtype=float))
    return out


def noise_dbm(bandwidth_hz: FloatArray | float, noise_figure_db: FloatArray | float) -> FloatArray:
    """Thermal noise power over the channel bandwidth at the receiver, dBm."""
    bandwidth = np.asarray(bandwidth_hz, dtype=float)
    figure = np.asarray(noise_figure_db, dtype=float)
    out: FloatArray = THERMAL_DBM_PER_HZ + 10.0 * np.log10(bandwidth) + figure
    return out


def rsrp_dbm(rx_dbm: FloatArray, n_prb: IntArray | NDArray[np.int_]) -> FloatArray:
    """RSRP: received power per resource element (12 subcarriers per PRB), dBm.

    `rx_dbm` is (n_ue, n_cell) total received power over each cell's bandwidth.
    """
    return rx_dbm - 10.0 * np.log10(12.0 * np.asarray(n_prb, dtype=float))[None, :]


def best_server(rsrp: FloatArray) -> IntArray:
    """Strongest cell of each UE by RSRP (ties: the lowest cell index)."""
    best: IntArray = np.argmax(rsrp, axis=1).astype(np.int64)
    return best


def sinr_db(rx_dbm: FloatArray, serving: IntArray, load: FloatArray, noise: FloatArray,
            carrier: NDArray[np.float64] | None = None) -> FloatArray:
    """SINR of each UE from its serving cell, dB.

    rx_dbm: (n_ue, n_cell) received power from each cell over its bandwidth;
    serving: (n_ue,) serving cell; load: (n_cell,) fraction of time each cell is
    busy; noise: (n_ue,) noise power in dBm; carrier: (n_cell,) carrier frequency,
    so that only co-channel cells interfere (None: all on one carrier).
    """
    rx = dbm_to_mw(rx_dbm)
    ues = np.arange(rx.shape[0])
    signal = rx[ues, serving]
    weighted = rx * load[None, :]
    if carrier is not None:
        weighted = weighted * (carrier[None, :] == carrier[serving][:, None])
    interference = weighted.sum(axis=1) - weighted[ues, serving]
    return mw_to_dbm(signal) - mw_to_dbm(np.maximum(interference, 0.0) + dbm_to_mw(noise))
