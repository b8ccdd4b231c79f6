"""Initial UE positions, in metres, as an ``(n, 2)`` float array.

Pure functions of their arguments and the ``numpy.random.Generator`` passed in, so
a placement is reproducible from the run's seed and never touches global state.
The rectangle :class:`Area` is shared with the mobility models, which keep UEs
inside the same bounds the placement used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Area", "explicit", "hotspots", "uniform_disc", "uniform_rect"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Area:
    """An axis-aligned rectangle ``[x_min, x_max] × [y_min, y_max]`` in metres."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float

    def __post_init__(self) -> None:
        bounds = (self.x_min, self.y_min, self.x_max, self.y_max)
        if not all(np.isfinite(bounds)):
            raise ValueError(f"area bounds must be finite, got {bounds}")
        if not (self.x_max > self.x_min and self.y_max > self.y_min):
            raise ValueError(f"area must have positive width and height, got {bounds}")

    @classmethod
    def from_bounds(cls, bounds: Sequence[float]) -> Area:
        """From ``[x_min, y_min, x_max, y_max]`` as written in YAML."""
        if len(bounds) != 4:
            raise ValueError(f"area needs [x_min, y_min, x_max, y_max], got {list(bounds)}")
        x_min, y_min, x_max, y_max = (float(b) for b in bounds)
        return cls(x_min, y_min, x_max, y_max)

    @property
    def width(self) -> float:
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        return self.y_max - self.y_min

    @property
    def lower(self) -> FloatArray:
        return np.array([self.x_min, self.y_min])

    @property
    def upper(self) -> FloatArray:
        return np.array([self.x_max, self.y_max])

    def contains(self, points: FloatArray) -> NDArray[np.bool_]:
        """Per point: inside or on the border."""
        inside: NDArray[np.bool_] = np.all(
            (points >= self.lower) & (points <= self.upper), axis=-1
        )
        return inside

    def clip(self, points: FloatArray) -> FloatArray:
        return np.clip(points, self.lower, self.upper)


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"number of UEs must be >= 0, got {n}")


def explicit(points: ArrayLike) -> FloatArray:
    """Positions listed one by one, e.g. ``[[0, 0], [120.5, -30]]``; copied and checked."""
    arr = np.array(points, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"positions must be a list of [x, y] pairs, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("positions must be finite")
    return arr


def uniform_disc(n: int, centre: ArrayLike, radius: float, rng: np.random.Generator) -> FloatArray:
    """Uniform per unit area in a disc, e.g. around a cell site.

    The radius is ``R·sqrt(U)``, not ``R·U``: area grows with r², so a uniform radius
    would crowd UEs near the centre.
    """
    _check_count(n)
    if not radius >= 0.0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    r = radius * np.sqrt(rng.random(n))
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    return np.asarray(centre, dtype=np.float64) + np.column_stack(
        (r * np.cos(theta), r * np.sin(theta))
    )


def uniform_rect(n: int, area: Area, rng: np.random.Generator) -> FloatArray:
    """Uniform in a rectangle."""
    _check_count(n)
    return rng.uniform(area.lower, area.upper, size=(n, 2))


def hotspots(
    n: int,
    centres: ArrayLike,
    weights: ArrayLike,
    sigma: float | ArrayLike,
    area: Area,
    rng: np.random.Generator,
) -> FloatArray:
    """UEs gathered around K hotspots: a weighted mixture of isotropic Gaussians.

    Each UE picks hotspot k with probability ``weights[k] / sum(weights)`` and is
    displaced by N(0, σ_k²) on each axis.  Points outside ``area`` are clipped to its
    border (not redrawn), so a hotspot near an edge piles some UEs on that edge; this
    keeps the cost fixed and the result a simple function of the draws.
    """
    _check_count(n)
    c = np.asarray(centres, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] == 0:
        raise ValueError(f"centres must be a non-empty list of [x, y], got shape {c.shape}")
    k = c.shape[0]
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (k,))
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"hotspot weights must be >= 0 with a positive sum, got {w.tolist()}")
    s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (k,))
    if np.any(~(s >= 0)):
        raise ValueError(f"hotspot sigma must be >= 0, got {s.tolist()}")
    which = rng.choice(k, size=n, p=w / w.sum())
    points = c[which] + rng.standard_normal((n, 2)) * s[which, None]
    return area.clip(points)
