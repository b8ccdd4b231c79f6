"""Hexagonal macro layouts: site grid and sectorisation (TR 38.901 7.8, ITU-R M.2412).

Sites sit on a triangular lattice whose neighbours lie at 30 + 60k degrees, the
orientation that makes three sectors with boresights 30, 150 and 270 degrees tile
the plane with hexagonal cells (the 19-site / 57-cell picture of the reports).
Order is deterministic so cell indices are stable across runs: ring by ring from
the centre; within ring k, starting at the site k * ISD away at 30 degrees and
walking counter-clockwise.  There is no wrap-around here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["SECTOR_BORESIGHTS_DEG", "CellLayout", "hex_sites", "pairwise_d2d", "sectorise"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SECTOR_BORESIGHTS_DEG = (30.0, 150.0, 270.0)
"""Boresight azimuths of a three-sector site, counter-clockwise from +x."""


def _unit(angle_deg: ArrayLike) -> FloatArray:
    rad = np.radians(angle_deg)
    return np.stack([np.cos(rad), np.sin(rad)], axis=-1)


def hex_sites(rings: int, isd_m: float, center: tuple[float, float] = (0.0, 0.0)) -> FloatArray:
    """(1 + 3 r (r + 1), 2) site positions: the centre, then 6k sites on ring k.

    Ring k is a hexagon with corners k * ISD away at 30 + 60j degrees; from corner j
    the side runs towards corner j + 1, which is direction 150 + 60j degrees.
    """
    if rings < 0:
        raise ValueError("rings must be >= 0")
    if isd_m <= 0:
        raise ValueError("isd_m must be positive")
    corners = _unit(30.0 + 60.0 * np.arange(6))
    sides = _unit(150.0 + 60.0 * np.arange(6))
    parts = [np.zeros((1, 2))]
    for k in range(1, rings + 1):
        steps = np.arange(k)
        ring = k * corners[:, None, :] + steps[None, :, None] * sides[:, None, :]
        parts.append(ring.reshape(-1, 2))
    return np.asarray(np.concatenate(parts) * isd_m + np.asarray(center, np.float64), np.float64)


@dataclass(frozen=True)
class CellLayout:
    """Cells of a layout, site-major: cell ``i`` belongs to site ``i // sectors``.

    ``boresight_deg`` is NaN for omni cells, which have none; pair them with an
    omni antenna.
    """

    xy: FloatArray
    boresight_deg: FloatArray
    site: IntArray
    sectors: int

    @property
    def n_cells(self) -> int:
        return int(self.site.shape[0])


def sectorise(sites: ArrayLike, sectors: int) -> CellLayout:
    """Split each site into ``sectors`` co-located cells (1: omni, 3: 30/150/270 deg)."""
    xy = np.asarray(sites, np.float64).reshape(-1, 2)
    if sectors == 1:
        bore = np.full(1, np.nan)
    elif sectors == 3:
        bore = np.asarray(SECTOR_BORESIGHTS_DEG, np.float64)
    else:
        raise ValueError(f"sectors must be 1 or 3, not {sectors}")
    n = xy.shape[0]
    return CellLayout(
        xy=np.repeat(xy, sectors, axis=0),
        boresight_deg=np.tile(bore, n),
        site=np.repeat(np.arange(n, dtype=np.int64), sectors),
        sectors=sectors,
    )


def pairwise_d2d(ue_xy: ArrayLike, cell_xy: ArrayLike) -> FloatArray:
    """Horizontal distance from each UE to each cell, shape (n_ue, n_cell)."""
    ues = np.asarray(ue_xy, np.float64).reshape(-1, 2)
    cells = np.asarray(cell_xy, np.float64).reshape(-1, 2)
    delta = ues[:, None, :] - cells[None, :, :]
    return np.asarray(np.hypot(delta[..., 0], delta[..., 1]), np.float64)
