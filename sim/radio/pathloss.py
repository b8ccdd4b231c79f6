"""Large-scale channel of 3GPP TR 38.901 (v16/v17): path loss, LOS state and shadowing.

Path loss follows Table 7.4.1-1, LOS probability Table 7.4.2-1, shadow-fading
standard deviation the sigma_SF column of Table 7.4.1-1 and its decorrelation
distance Table 7.5-6 Part-1.  Every function takes numpy arrays that broadcast
against each other (typically ``(n_ue, n_cell)``), so a whole snapshot costs a few
array operations.  Frequencies are in GHz as the table writes them; the breakpoint
distances convert to Hz internally.

Validity (Table 7.4.1-1): UMa and UMi 10 m <= d2D <= 5 km, 1.5 m <= h_UT <= 22.5 m;
RMa 10 m <= d2D <= 10 km (LOS) or 5 km (NLOS), 10 m <= h_BS <= 150 m,
1 m <= h_UT <= 10 m, 5 m <= W, h <= 50 m, 0.5 GHz <= fc <= 30 GHz; InH-Office
1 m <= d3D <= 150 m.  Distances below the minimum are clamped to it, because a UE
standing at the mast would otherwise get an unbounded (or negative) loss; distances
above the maximum are extrapolated with the same formula.  All UEs are outdoor for
the outdoor scenarios (no O2I penetration loss).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.registry import Registry

__all__ = [
    "PATHLOSS",
    "SPEED_OF_LIGHT",
    "InH",
    "LosMode",
    "PathLossModel",
    "RMa",
    "ShadowFading",
    "UMa",
    "UMi",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
LosMode = Literal["auto", "los", "nlos"]

SPEED_OF_LIGHT = 3.0e8
"""m/s, the value fixed by note 1 of Table 7.4.1-1."""


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


class PathLossModel(ABC):
    """One TR 38.901 scenario: LOS probability, path loss and shadowing statistics.

    Subclasses supply the LOS formula and the NLOS' formula; the NLOS loss is
    ``max(PL_LOS, PL'_NLOS)`` as the table prescribes, so an NLOS link is never
    better than the LOS link at the same distance.
    """

    name: ClassVar[str]
    default_h_bs_m: ClassVar[float]
    default_h_ut_m: ClassVar[float]
    min_d2d_m: ClassVar[float] = 10.0
    min_d3d_m: ClassVar[float] = 0.0
    sigma_sf_los_db: ClassVar[float]
    sigma_sf_nlos_db: ClassVar[float]
    decorrelation_los_m: ClassVar[float]
    decorrelation_nlos_m: ClassVar[float]
    sigma_sf_far_los_db: ClassVar[float | None] = None
    """sigma_SF of LOS links beyond `los_breakpoint_m`, where the table gives another."""

    @abstractmethod
    def los_probability(self, d2d_m: ArrayLike, h_ut_m: ArrayLike) -> FloatArray:
        """Pr_LOS of Table 7.4.2-1 at the given 2D distance and UT height."""

    @abstractmethod
    def _los_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray: ...

    @abstractmethod
    def _nlos_prime_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray: ...

    def path_loss_db(
        self, d2d_m: ArrayLike, h_bs_m: ArrayLike, h_ut_m: ArrayLike, fc_ghz: ArrayLike,
        los: ArrayLike,
    ) -> FloatArray:
        """Basic path loss in dB (no shadowing); ``los`` is a boolean array or scalar."""
        h_bs, h_ut, fc = _f(h_bs_m), _f(h_ut_m), _f(fc_ghz)
        d2d = np.maximum(_f(d2d_m), self.min_d2d_m)
        d3d = np.maximum(np.hypot(d2d, h_bs - h_ut), self.min_d3d_m)
        pl_los = self._los_db(d2d, d3d, h_bs, h_ut, fc)
        pl_nlos = np.maximum(pl_los, self._nlos_prime_db(d2d, d3d, h_bs, h_ut, fc))
        return np.asarray(np.where(np.asarray(los, dtype=bool), pl_los, pl_nlos), np.float64)

    def los_breakpoint_m(self, h_bs_m: ArrayLike, h_ut_m: ArrayLike,
                         fc_ghz: ArrayLike) -> FloatArray:
        """The 2D distance beyond which LOS shadowing is `sigma_sf_far_los_db` (inf: none)."""
        shape = np.broadcast(_f(h_bs_m), _f(h_ut_m), _f(fc_ghz)).shape
        return np.full(shape, np.inf)

    def shadow_std_db(self, los: ArrayLike, d2d_m: ArrayLike, h_bs_m: ArrayLike,
                      h_ut_m: ArrayLike, fc_ghz: ArrayLike) -> FloatArray:
        """sigma_SF of Table 7.4.1-1 for each link (for RMa LOS it depends on the side of
        the breakpoint, hence the geometry)."""
        is_los = np.asarray(los, dtype=bool)
        sigma = np.where(is_los, self.sigma_sf_los_db, self.sigma_sf_nlos_db)
        if self.sigma_sf_far_los_db is None:
            return np.asarray(sigma, np.float64)
        far = is_los & (_f(d2d_m) > self.los_breakpoint_m(h_bs_m, h_ut_m, fc_ghz))
        return np.asarray(np.where(far, self.sigma_sf_far_los_db, sigma), np.float64)

    def decorrelation_m(self, los: ArrayLike) -> FloatArray:
        """Shadow-fading decorrelation distance of Table 7.5-6 Part-1 for each link."""
        return np.where(
            np.asarray(los, dtype=bool), self.decorrelation_los_m, self.decorrelation_nlos_m
        )

    def draw_los(
        self, d2d_m: ArrayLike, h_ut_m: ArrayLike, rng: np.random.Generator,
        mode: LosMode = "auto",
    ) -> BoolArray:
        """LOS state per link: drawn with Pr_LOS (``"auto"``) or forced for tests and planners."""
        p = self.los_probability(d2d_m, h_ut_m)
        if mode == "los":
            return np.ones(p.shape, dtype=bool)
        if mode == "nlos":
            return np.zeros(p.shape, dtype=bool)
        if mode != "auto":
            raise ValueError(f"los mode must be 'auto', 'los' or 'nlos', not {mode!r}")
        return np.asarray(rng.random(p.shape) < p, dtype=bool)


def _breakpoint_prime_m(
    h_bs: FloatArray, h_ut: FloatArray, fc: FloatArray, h_e: float
) -> FloatArray:
    """d'_BP = 4 h'_BS h'_UT fc / c with effective heights h' = h - h_E (note 1)."""
    return 4.0 * (h_bs - h_e) * (h_ut - h_e) * fc * 1e9 / SPEED_OF_LIGHT


def _two_slope_los(
    d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray, fc: FloatArray,
    *, h_e: float, a: float, near_slope: float, bp_coef: float,
) -> FloatArray:
    """UMa/UMi LOS: ``a + n log d3D + 20 log fc`` before d'_BP, 40 dB/decade after."""
    d_bp = _breakpoint_prime_m(h_bs, h_ut, fc, h_e)
    log_fc = 20.0 * np.log10(fc)
    near = a + near_slope * np.log10(d3d) + log_fc
    far = a + 40.0 * np.log10(d3d) + log_fc - bp_coef * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    return np.asarray(np.where(d2d <= d_bp, near, far), np.float64)


def _street_los_probability(d2d_m: ArrayLike, scale_m: float) -> FloatArray:
    """The 18 m / exponential form shared by UMi and UMa (Table 7.4.2-1)."""
    d = _f(d2d_m)
    dd = np.maximum(d, 18.0)
    p = 18.0 / dd + np.exp(-dd / scale_m) * (1.0 - 18.0 / dd)
    return np.asarray(np.where(d <= 18.0, 1.0, p), np.float64)


PATHLOSS: Registry[type[PathLossModel]] = Registry("pathloss")


@PATHLOSS.register("UMa")
@dataclass(frozen=True)
class UMa(PathLossModel):
    """Urban macro, h_BS = 25 m.

    The table draws h_E at random for h_UT > 13 m; this model uses h_E = 1 m for
    every UT (exact for h_UT < 13 m, where the table also gives h_E = 1 m), so the
    loss of a high-rise UT is deterministic.  ``h_e_m`` can override it.
    """

    h_e_m: float = 1.0

    name: ClassVar[str] = "UMa"
    default_h_bs_m: ClassVar[float] = 25.0
    default_h_ut_m: ClassVar[float] = 1.5
    sigma_sf_los_db: ClassVar[float] = 4.0
    sigma_sf_nlos_db: ClassVar[float] = 6.0
    decorrelation_los_m: ClassVar[float] = 37.0
    decorrelation_nlos_m: ClassVar[float] = 50.0

    def los_probability(self, d2d_m: ArrayLike, h_ut_m: ArrayLike) -> FloatArray:
        """Street form with 63 m scale, raised for UTs above 13 m by C'(h_UT) (clipped at 23 m)."""
        d = np.maximum(_f(d2d_m), 18.0)
        h = np.clip(_f(h_ut_m), 13.0, 23.0)
        c_prime = ((h - 13.0) / 10.0) ** 1.5
        boost = 1.0 + c_prime * 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0)
        p = _street_los_probability(d2d_m, 63.0) * boost
        return np.clip(p, 0.0, 1.0)

    def _los_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        return _two_slope_los(
            d2d, d3d, h_bs, h_ut, fc, h_e=self.h_e_m, a=28.0, near_slope=22.0, bp_coef=9.0
        )

    def _nlos_prime_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        return 13.54 + 39.08 * np.log10(d3d) + 20.0 * np.log10(fc) - 0.6 * (h_ut - 1.5)


@PATHLOSS.register("UMi")
@dataclass(frozen=True)
class UMi(PathLossModel):
    """Urban micro, street canyon, h_BS = 10 m, h_E = 1 m."""

    h_e_m: float = 1.0

    name: ClassVar[str] = "UMi"
    default_h_bs_m: ClassVar[float] = 10.0
    default_h_ut_m: ClassVar[float] = 1.5
    sigma_sf_los_db: ClassVar[float] = 4.0
    sigma_sf_nlos_db: ClassVar[float] = 7.82
    decorrelation_los_m: ClassVar[float] = 10.0
    decorrelation_nlos_m: ClassVar[float] = 13.0

    def los_probability(self, d2d_m: ArrayLike, h_ut_m: ArrayLike) -> FloatArray:
        """Street form with 36 m scale; independent of h_UT."""
        p = _street_los_probability(d2d_m, 36.0)
        return np.asarray(p + np.zeros_like(_f(h_ut_m)), np.float64)

    def _los_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        return _two_slope_los(
            d2d, d3d, h_bs, h_ut, fc, h_e=self.h_e_m, a=32.4, near_slope=21.0, bp_coef=9.5
        )

    def _nlos_prime_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        return 35.3 * np.log10(d3d) + 22.4 + 21.3 * np.log10(fc) - 0.3 * (h_ut - 1.5)


@PATHLOSS.register("RMa")
@dataclass(frozen=True)
class RMa(PathLossModel):
    """Rural macro, default h_BS = 35 m, street width W = 20 m, building height h = 5 m.

    Beyond d_BP = 2 pi h_BS h_UT fc / c the LOS loss is PL1(d_BP) + 40 log(d3D/d_BP);
    PL1(d_BP) is PL1 evaluated with d3D = d_BP, as the table writes it.  The LOS
    shadow fading is 4 dB with PL1 (d2D <= d_BP) and 6 dB with PL2 (d2D > d_BP).
    """

    street_width_m: float = 20.0
    building_height_m: float = 5.0

    name: ClassVar[str] = "RMa"
    default_h_bs_m: ClassVar[float] = 35.0
    default_h_ut_m: ClassVar[float] = 1.5
    sigma_sf_los_db: ClassVar[float] = 4.0
    sigma_sf_nlos_db: ClassVar[float] = 8.0
    sigma_sf_far_los_db: ClassVar[float | None] = 6.0
    decorrelation_los_m: ClassVar[float] = 37.0
    decorrelation_nlos_m: ClassVar[float] = 120.0

    def los_breakpoint_m(self, h_bs_m: ArrayLike, h_ut_m: ArrayLike,
                         fc_ghz: ArrayLike) -> FloatArray:
        """d_BP = 2 pi h_BS h_UT fc / c, with the actual heights (no h_E for RMa)."""
        return np.asarray(2.0 * math.pi * _f(h_bs_m) * _f(h_ut_m) * _f(fc_ghz) * 1e9
                          / SPEED_OF_LIGHT, np.float64)

    def los_probability(self, d2d_m: ArrayLike, h_ut_m: ArrayLike) -> FloatArray:
        """1 up to 10 m, then exp(-(d2D - 10)/1000)."""
        d = _f(d2d_m)
        p = np.exp(-np.maximum(d - 10.0, 0.0) / 1000.0)
        return np.asarray(p + np.zeros_like(_f(h_ut_m)), np.float64)

    def _pl1(self, d3d: FloatArray, fc: FloatArray) -> FloatArray:
        h = self.building_height_m
        hp = h**1.72
        pl: FloatArray = (
            20.0 * np.log10(40.0 * math.pi * d3d * fc / 3.0)
            + min(0.03 * hp, 10.0) * np.log10(d3d)
            - min(0.044 * hp, 14.77)
            + 0.002 * math.log10(h) * d3d
        )
        return pl

    def _los_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        d_bp = self.los_breakpoint_m(h_bs, h_ut, fc)
        far = self._pl1(d_bp, fc) + 40.0 * np.log10(d3d / d_bp)
        return np.asarray(np.where(d2d <= d_bp, self._pl1(d3d, fc), far), np.float64)

    def _nlos_prime_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        w, h = self.street_width_m, self.building_height_m
        return (
            161.04
            - 7.1 * math.log10(w)
            + 7.5 * math.log10(h)
            - (24.37 - 3.7 * (h / h_bs) ** 2) * np.log10(h_bs)
            + (43.42 - 3.1 * np.log10(h_bs)) * (np.log10(d3d) - 3.0)
            + 20.0 * np.log10(fc)
            - (3.2 * np.log10(11.75 * h_ut) ** 2 - 4.97)
        )


@PATHLOSS.register("InH")
@dataclass(frozen=True)
class InH(PathLossModel):
    """Indoor hotspot, office, h_BS = 3 m, h_UT = 1 m; d3D clamped to >= 1 m.

    Path loss is the same for mixed and open offices; ``office`` picks the LOS
    probability of Table 7.4.2-1.
    """

    office: Literal["mixed", "open"] = "mixed"

    name: ClassVar[str] = "InH"
    default_h_bs_m: ClassVar[float] = 3.0
    default_h_ut_m: ClassVar[float] = 1.0
    min_d2d_m: ClassVar[float] = 0.0
    min_d3d_m: ClassVar[float] = 1.0
    sigma_sf_los_db: ClassVar[float] = 3.0
    sigma_sf_nlos_db: ClassVar[float] = 8.03
    decorrelation_los_m: ClassVar[float] = 10.0
    decorrelation_nlos_m: ClassVar[float] = 6.0

    def __post_init__(self) -> None:
        if self.office not in ("mixed", "open"):
            raise ValueError(f"InH office must be 'mixed' or 'open', not {self.office!r}")

    def los_probability(self, d2d_m: ArrayLike, h_ut_m: ArrayLike) -> FloatArray:
        """Three-piece exponential of Table 7.4.2-1 for the chosen office type."""
        d = _f(d2d_m) + np.zeros_like(_f(h_ut_m))
        if self.office == "mixed":
            mid = np.exp(-(d - 1.2) / 4.7)
            far = 0.32 * np.exp(-(d - 6.5) / 32.6)
            p = np.where(d <= 1.2, 1.0, np.where(d < 6.5, mid, far))
        else:
            mid = np.exp(-(d - 5.0) / 70.8)
            far = 0.54 * np.exp(-(d - 49.0) / 211.7)
            p = np.where(d <= 5.0, 1.0, np.where(d <= 49.0, mid, far))
        return np.asarray(p, np.float64)

    def _los_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        return 32.4 + 17.3 * np.log10(d3d) + 20.0 * np.log10(fc)

    def _nlos_prime_db(
        self, d2d: FloatArray, d3d: FloatArray, h_bs: FloatArray, h_ut: FloatArray,
        fc: FloatArray,
    ) -> FloatArray:
        return 38.3 * np.log10(d3d) + 17.30 + 24.9 * np.log10(fc)


class ShadowFading:
    """Log-normal shadowing per (UE, cell), correlated along each UE's path.

    Gudmundson's AR(1): after a UE moves ``dd`` metres the unit-variance state of
    each of its links becomes ``rho z + sqrt(1 - rho^2) e`` with
    ``rho = exp(-dd / d_corr)``, so the autocorrelation at lag ``dd`` is exactly
    ``exp(-dd / d_corr)`` and the marginal stays N(0, 1).  Keeping the state at unit
    variance and scaling by sigma only on read lets a link change its LOS state
    (hence sigma and d_corr) without breaking the process.  Links of different
    cells are independent (no inter-site correlation).
    """

    def __init__(self, n_ue: int, n_cell: int, rng: np.random.Generator) -> None:
        self._rng = rng
        self._z: FloatArray = rng.standard_normal((n_ue, n_cell))

    @property
    def shape(self) -> tuple[int, int]:
        n_ue, n_cell = self._z.shape
        return n_ue, n_cell

    @property
    def normal(self) -> FloatArray:
        """A copy of the unit-variance state, shape (n_ue, n_cell)."""
        return self._z.copy()

    def advance_rows(self, rows: NDArray[np.int64], rho: FloatArray) -> FloatArray:
        """Advance the links of some UEs by a precomputed ``rho`` (shape (len(rows), n_cell));
        return their new unit-variance state.

        The radio update recomputes only the UEs that moved far enough, and computes
        rho per UE and LOS state rather than per link.
        """
        noise = self._rng.standard_normal((len(rows), self._z.shape[1]))
        z = rho * self._z[rows] + np.sqrt(1.0 - rho * rho) * noise
        self._z[rows] = z
        return z

    def rows(self, rows: NDArray[np.int64]) -> FloatArray:
        """The unit-variance state of some UEs' links."""
        out: FloatArray = self._z[rows]
        return out

    def advance(self, moved_m: ArrayLike, decorrelation_m: ArrayLike) -> None:
        """Move the process on by each UE's travelled distance.

        ``moved_m`` is (n_ue,) (one distance per UE, all its links) or broadcasts to
        (n_ue, n_cell); ``decorrelation_m`` broadcasts to (n_ue, n_cell).
        """
        moved = _f(moved_m)
        if moved.ndim == 1:
            moved = moved[:, None]
        if np.any(moved < 0):
            raise ValueError("moved distance must be non-negative")
        rho = np.broadcast_to(np.exp(-moved / _f(decorrelation_m)), self._z.shape)
        noise = self._rng.standard_normal(self._z.shape)
        self._z = rho * self._z + np.sqrt(1.0 - rho**2) * noise

    def db(self, sigma_db: ArrayLike) -> FloatArray:
        """Shadowing in dB for the given per-link sigma (broadcast to (n_ue, n_cell))."""
        return np.asarray(_f(sigma_db) * self._z, np.float64)
