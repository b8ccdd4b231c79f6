"""Hit ratios of caches under the independent reference model (IRM), in closed form.

Under the IRM item i is requested with fixed probability p_i, independently of
the past.  These formulas are what the simulated caches of :mod:`edge.cache` are
validated against, and they give a quick sizing estimate without a run.

* LRU, Che's approximation (Che, Tung & Wang, "Hierarchical Web caching
  systems: modeling, design and experimental results", IEEE JSAC 20(7), 2002;
  justified by Fricker, Robert & Roberts, "A versatile and accurate
  approximation for LRU cache performance", ITC 24, 2012): an item stays in the
  cache for a *characteristic time* T_C after its last request, where T_C solves
  ``sum_i s_i (1 - exp(-p_i T)) = C`` (``s_i = 1`` for unit sizes; time counted
  in requests), and is hit with probability ``h_i = 1 - exp(-p_i T_C)``.
* FIFO and RANDOM (same hit ratio under the IRM, Gelenbe 1973), approximation of
  Fricker, Robert & Roberts (2012): ``h_i = p_i T / (1 + p_i T)`` with T solving
  ``sum_i s_i h_i = C``.
* Static top-k: the fixed set of the k most probable items hits with
  probability ``sum of the k largest p_i`` (optimal fixed placement for unit
  sizes).

The overall hit ratio is ``sum_i p_i h_i``; the byte hit ratio weights by size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

__all__ = [
    "che_characteristic_time",
    "che_hit_probabilities",
    "che_hit_ratio",
    "fifo_characteristic_time",
    "fifo_hit_probabilities",
    "fifo_hit_ratio",
    "static_topk_hit_ratio",
]

FloatArray = NDArray[np.float64]


def _prepare(p: ArrayLike, sizes: ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    probs = np.asarray(p, dtype=np.float64)
    if probs.ndim != 1 or probs.size == 0 or probs.min() < 0:
        raise ValueError("probabilities must be a non-empty 1-D array of non-negatives")
    total = probs.sum()
    if not total > 0:
        raise ValueError("probabilities must not all be zero")
    s = np.ones_like(probs) if sizes is None else np.asarray(sizes, dtype=np.float64)
    if s.shape != probs.shape or (s.size and s.min() <= 0):
        raise ValueError("sizes need one positive value per item")
    return probs / total, s


def _solve(occupancy: Callable[[float], float], capacity: float, reachable: float) -> float:
    """T with ``occupancy(T) = capacity``, occupancy increasing from 0 to `reachable`.

    Returns ``inf`` when the capacity holds every item that is ever requested.
    """
    if capacity <= 0:
        return 0.0
    if capacity >= reachable:
        return float("inf")
    hi = 1.0
    while occupancy(hi) < capacity:
        hi *= 2.0
    return float(brentq(lambda t: occupancy(t) - capacity, 0.0, hi, xtol=1e-12, rtol=1e-12))


def che_characteristic_time(p: ArrayLike, capacity: float,
                            sizes: ArrayLike | None = None) -> float:
    """Che's T_C, in requests: ``sum_i s_i (1 - exp(-p_i T_C)) = capacity``."""
    probs, s = _prepare(p, sizes)
    reachable = float(s[probs > 0].sum())
    return _solve(lambda t: float(np.dot(s, -np.expm1(-probs * t))), capacity, reachable)


def che_hit_probabilities(p: ArrayLike, capacity: float,
                          sizes: ArrayLike | None = None) -> FloatArray:
    """Per-item LRU hit probability ``1 - exp(-p_i T_C)``."""
    probs, _ = _prepare(p, sizes)
    t = che_characteristic_time(probs, capacity, sizes)
    if np.isinf(t):
        return (probs > 0).astype(np.float64)
    h: FloatArray = -np.expm1(-probs * t)
    return h


def che_hit_ratio(p: ArrayLike, capacity: float, sizes: ArrayLike | None = None, *,
                  byte: bool = False) -> float:
    """LRU hit ratio ``sum_i p_i h_i`` (or byte hit ratio with ``byte=True``)."""
    return _ratio(p, sizes, che_hit_probabilities(p, capacity, sizes), byte)


def fifo_characteristic_time(p: ArrayLike, capacity: float,
                             sizes: ArrayLike | None = None) -> float:
    """T solving ``sum_i s_i p_i T / (1 + p_i T) = capacity`` (FIFO / RANDOM)."""
    probs, s = _prepare(p, sizes)
    reachable = float(s[probs > 0].sum())
    return _solve(lambda t: float(np.dot(s, probs * t / (1.0 + probs * t))),
                  capacity, reachable)


def fifo_hit_probabilities(p: ArrayLike, capacity: float,
                           sizes: ArrayLike | None = None) -> FloatArray:
    """Per-item FIFO / RANDOM hit probability ``p_i T / (1 + p_i T)``."""
    probs, _ = _prepare(p, sizes)
    t = fifo_characteristic_time(probs, capacity, sizes)
    if np.isinf(t):
        return (probs > 0).astype(np.float64)
    h: FloatArray = probs * t / (1.0 + probs * t)
    return h


def fifo_hit_ratio(p: ArrayLike, capacity: float, sizes: ArrayLike | None = None, *,
                   byte: bool = False) -> float:
    """FIFO / RANDOM hit ratio (or byte hit ratio with ``byte=True``)."""
    return _ratio(p, sizes, fifo_hit_probabilities(p, capacity, sizes), byte)


def static_topk_hit_ratio(p: ArrayLike, k: int) -> float:
    """Hit ratio of a fixed cache of the ``k`` most probable unit-size items."""
    probs, _ = _prepare(p, None)
    if k <= 0:
        return 0.0
    return float(np.sort(probs)[::-1][:k].sum())


def _ratio(p: ArrayLike, sizes: ArrayLike | None, h: FloatArray, byte: bool) -> float:
    probs, s = _prepare(p, sizes)
    weights = probs * s if byte else probs
    return float(np.dot(weights, h) / weights.sum())
