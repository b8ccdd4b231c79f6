"""Summary statistics with stable keys, shared by every workload's summary section.

The confidence interval of a mean within one run uses the method of batch means:
the observations, in time order, are cut into 20 contiguous batches whose means
are nearly independent, and a Student t interval is put on their mean (Law,
*Simulation Modeling and Analysis*, 5th ed., section 9.5.3).  Replications give
their own intervals across runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["BATCHES", "PERCENTILES", "batch_means_ci", "latency_summary", "t_interval"]

PERCENTILES = (50, 90, 95, 99)
BATCHES = 20


def t_interval(samples: NDArray[np.float64], level: float = 0.95) -> tuple[float, float]:
    """Student t confidence interval of the mean of independent samples."""
    n = len(samples)
    if n < 2:
        return math.nan, math.nan
    mean = float(np.mean(samples))
    # stdtrit is the t quantile without importing scipy.stats (a second of start-up);
    # imported here, so validating a scenario does not import scipy at all.
    from scipy.special import stdtrit

    half = float(stdtrit(n - 1, 0.5 + level / 2) * np.std(samples, ddof=1) / math.sqrt(n))
    return mean - half, mean + half


def batch_means_ci(values: NDArray[np.float64], level: float = 0.95,
                   batches: int = BATCHES) -> tuple[float, float]:
    """Confidence interval of the mean of a time-ordered series by batch means.

    Every value belongs to a batch (sizes differ by at most one), and the interval
    is centred on the mean of all values, so the reported mean is always inside it.
    """
    if len(values) < 2 * batches:
        return math.nan, math.nan
    means = np.asarray([part.mean() for part in np.array_split(values, batches)])
    low, high = t_interval(means, level)
    half = (high - low) / 2
    mean = float(np.mean(values))
    return mean - half, mean + half


def latency_summary(values: NDArray[np.float64], times: NDArray[np.float64] | None,
                    *, consume: bool = False) -> dict[str, Any]:
    """count, mean with 95% CI, percentiles and max of durations observed at `times`.

    `times` None: `values` are already in time order.  With `consume` the caller
    gives `values` up: the percentiles partition it in place instead of a copy (the
    same result; one O(n) array less at the peak).
    """
    out: dict[str, Any] = {"count": len(values)}
    if len(values) == 0:
        out.update({"mean": None, "ci95_low": None, "ci95_high": None})
        out.update({f"p{p}": None for p in PERCENTILES})
        out["max"] = None
        return out
    if times is None or (len(times) > 1 and bool(np.all(times[1:] >= times[:-1]))):
        ordered = np.ascontiguousarray(values)  # in time order: the sort would move nothing
    else:
        ordered = values[np.argsort(times, kind="stable")]
    low, high = batch_means_ci(ordered)
    out["mean"] = float(np.mean(values))
    out["ci95_low"] = None if math.isnan(low) else low
    out["ci95_high"] = None if math.isnan(high) else high
    del ordered
    pct = np.percentile(values, PERCENTILES, overwrite_input=consume)
    out.update({f"p{p}": float(v) for p, v in zip(PERCENTILES, pct, strict=True)})
    out["max"] = float(np.max(values))
    return out
