"""Base-station antenna gain: the single-element pattern of TR 38.901 Table 7.3-1, and omni.

Angles follow the TR 38.901 global coordinate system: azimuth is measured
counter-clockwise from the +x axis, zenith from the vertical (90 deg is the
horizon, larger values look down).  A sector antenna is a single element; array
gain and beamforming belong to link adaptation, not here.

Electrical downtilt moves the vertical boresight to zenith ``90 + tilt``, i.e. the
vertical cut is evaluated at ``theta - tilt``.  That is the usual system-level
shortcut; it ignores the small azimuth distortion a true rotation of the element
(TR 38.901 section 7.1.3) would add off boresight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.registry import Registry

__all__ = [
    "ANTENNAS",
    "AntennaPattern",
    "OmniPattern",
    "SectorPattern",
    "angles_to_ues",
    "wrap_deg",
]

FloatArray = NDArray[np.float64]


class AntennaPattern(Protocol):
    """Gain in dBi towards (azimuth offset from boresight, zenith), both in degrees."""

    def gain_db(self, azimuth_offset_deg: ArrayLike, zenith_deg: ArrayLike) -> FloatArray: ...


def wrap_deg(angle_deg: ArrayLike) -> FloatArray:
    """Angle folded into [-180, 180)."""
    return np.asarray((np.asarray(angle_deg, np.float64) + 180.0) % 360.0 - 180.0, np.float64)


ANTENNAS: Registry[type[AntennaPattern]] = Registry("antenna")


@ANTENNAS.register("3gpp")
@dataclass(frozen=True)
class SectorPattern:
    """TR 38.901 Table 7.3-1 element: 65 deg beams, 30 dB floor, 8 dBi peak.

    A_H = -min(12 (phi/phi_3dB)^2, A_max), A_V = -min(12 ((theta - theta_tilt)/theta_3dB)^2,
    SLA_V) and the combined pattern -min(-(A_H + A_V), A_max), so the back lobe is
    capped at A_max below the peak whatever the direction.
    """

    downtilt_deg: float = 0.0
    phi_3db_deg: float = 65.0
    theta_3db_deg: float = 65.0
    a_max_db: float = 30.0
    sla_v_db: float = 30.0
    max_gain_dbi: float = 8.0

    def horizontal_db(self, azimuth_offset_deg: ArrayLike) -> FloatArray:
        """A_H(phi), 0 at boresight; the offset is wrapped into [-180, 180)."""
        phi = wrap_deg(azimuth_offset_deg)
        return -np.minimum(12.0 * (phi / self.phi_3db_deg) ** 2, self.a_max_db)

    def vertical_db(self, zenith_deg: ArrayLike) -> FloatArray:
        """A_V(theta), 0 at the tilted vertical boresight 90 + downtilt."""
        off = np.asarray(zenith_deg, np.float64) - (90.0 + self.downtilt_deg)
        return -np.minimum(12.0 * (off / self.theta_3db_deg) ** 2, self.sla_v_db)

    def gain_db(self, azimuth_offset_deg: ArrayLike, zenith_deg: ArrayLike) -> FloatArray:
        """Element gain in dBi, broadcasting the two angle arrays."""
        att = np.minimum(
            -(self.horizontal_db(azimuth_offset_deg) + self.vertical_db(zenith_deg)),
            self.a_max_db,
        )
        return np.asarray(self.max_gain_dbi - att, np.float64)


@ANTENNAS.register("omni")
@dataclass(frozen=True)
class OmniPattern:
    """Isotropic in both planes; NaN angles (omni cells have no boresight) are fine."""

    gain_dbi: float = 0.0

    def gain_db(self, azimuth_offset_deg: ArrayLike, zenith_deg: ArrayLike) -> FloatArray:
        shape = np.broadcast_shapes(np.shape(azimuth_offset_deg), np.shape(zenith_deg))
        return np.full(shape, self.gain_dbi)


def angles_to_ues(
    cell_xy: ArrayLike, cell_h_m: ArrayLike, boresight_deg: ArrayLike,
    ue_xy: ArrayLike, ue_h_m: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Azimuth offset from boresight and zenith angle from each cell to each UE.

    cell_xy (n_cell, 2), cell_h_m and boresight_deg (n_cell,) or scalars, ue_xy
    (n_ue, 2), ue_h_m (n_ue,) or scalar.  Returns two (n_ue, n_cell) arrays in
    degrees: the offset wrapped into [-180, 180) and the zenith, > 90 when the UE
    is below the antenna.  A UE exactly under the mast gets azimuth offset 0.
    """
    cells = np.asarray(cell_xy, np.float64).reshape(-1, 2)
    ues = np.asarray(ue_xy, np.float64).reshape(-1, 2)
    delta = ues[:, None, :] - cells[None, :, :]
    d2d = np.hypot(delta[..., 0], delta[..., 1])
    azimuth = np.degrees(np.arctan2(delta[..., 1], delta[..., 0]))
    dh = np.asarray(cell_h_m, np.float64)[None, ...] - np.asarray(ue_h_m, np.float64).reshape(
        -1, 1
    )
    zenith = 90.0 + np.degrees(np.arctan2(dh, d2d))
    offset = wrap_deg(azimuth - np.asarray(boresight_deg, np.float64)[None, ...])
    return np.where(d2d > 0.0, offset, 0.0), np.asarray(zenith, np.float64)
