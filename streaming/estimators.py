"""Throughput estimators: how an ABR rule turns past segment throughputs into one rate.

Each estimator reads the per-segment throughputs (bit/s) and download times (s) of an
`AbrState`, oldest first, and is a pure function of them:

* ``harmonic`` -- harmonic mean of the last `window` samples, the throughput of
  downloading those segments back to back for equal sizes, robust to one lucky fast
  segment (FESTIVE, Jiang, Sekar & Zhang, CoNEXT 2012; the MPC paper, Yin et al. 2015).
* ``mean`` -- arithmetic mean of the last `window` samples (the sliding window of the
  DASH reference player before its EWMA, and of sabre's ``--moving-average sliding``).
* ``ewma`` -- two exponentially weighted moving averages whose weights decay with
  download *time*, with a fast and a slow half-life (3 s and 8 s by default, the
  dash.js defaults described by Spiteri, Sitaraman & Sparacio, MMSys 2018); the
  estimate is the smaller of the two, so a drop is believed at once and a rise only
  once it lasts.

The EWMA of half-life h weighs a sample of download time d by ``1 - 0.5**(d / h)`` and
discounts the estimate so far by ``0.5**(d / h)``.  Started from zero, it is divided by
the total weight ``1 - 0.5**(T / h)`` (T the summed download time), so the first
estimate equals the first sample rather than a fraction of it.  The player keeps the
last 64 samples (`Session.history`), which bounds the memory of the EWMA too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["ESTIMATORS", "Estimator", "EstimatorName", "harmonic_mean", "two_ewma"]

EstimatorName = Literal["harmonic", "mean", "ewma"]
ESTIMATORS: tuple[EstimatorName, ...] = ("harmonic", "mean", "ewma")


def harmonic_mean(values: Sequence[float]) -> float:
    """Harmonic mean; 0 if any value is 0 (an idle sample dominates, as it should)."""
    if not values:
        raise ValueError("harmonic mean of no values")
    if any(v <= 0 for v in values):
        return 0.0
    return len(values) / math.fsum(1.0 / v for v in values)


def ewma(throughputs: Sequence[float], times: Sequence[float], half_life: float) -> float:
    """Download-time weighted EWMA of `throughputs`, corrected for its zero start."""
    estimate = 0.0
    total = 0.0
    for x, d in zip(throughputs, times, strict=True):
        keep = 0.5 ** (d / half_life)
        estimate = keep * estimate + (1.0 - keep) * x
        total += d
    weight = 1.0 - 0.5 ** (total / half_life)
    if weight <= 0.0:  # zero download time overall: no decay has happened yet
        return throughputs[-1]
    return float(estimate / weight)


def two_ewma(throughputs: Sequence[float], times: Sequence[float], fast: float,
             slow: float) -> float:
    """min(fast EWMA, slow EWMA): the cautious two-half-life estimate."""
    return min(ewma(throughputs, times, fast), ewma(throughputs, times, slow))


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Estimator:
    """One of `ESTIMATORS` with its parameters (`window` for the sliding ones)."""

    name: str = "harmonic"
    window: int = 5
    fast_half_life: float = 3.0
    slow_half_life: float = 8.0

    def __post_init__(self) -> None:
        if self.name not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, "
                             f"got {self.name!r}")
        w = self.window
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValueError(f"window must be an integer >= 1, got {w!r}")
        _positive("fast_half_life", self.fast_half_life)
        _positive("slow_half_life", self.slow_half_life)

    def estimate(self, throughputs: Sequence[float],
                 download_times: Sequence[float]) -> float | None:
        """The estimated throughput (bit/s), or None without samples."""
        if not throughputs:
            return None
        if self.name == "ewma":
            return two_ewma(throughputs, download_times, self.fast_half_life,
                            self.slow_half_life)
        recent = throughputs[-self.window:]
        if self.name == "mean":
            return math.fsum(recent) / len(recent)
        return harmonic_mean(recent)
