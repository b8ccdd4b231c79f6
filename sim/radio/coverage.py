"""Coverage map: best-server SINR over a grid of static virtual UEs.

A planner's view of the radio access network: the area around the cells is
covered by a grid of UEs that do not move, and each gets the SINR of the cell it
attaches to.  The map is computed with the run's own channel code
(:class:`sim.radio.ran.RadioAccessNetwork`): TR 38.901 path loss, the sector
antenna pattern, attachment by RSRP and load-weighted interference, so what the
map shows is exactly what a UE standing there would see in a run, with two
planning simplifications:

* no shadowing (the map shows the median channel, not one draw of it);
* under ``los: auto``, each link is in its *median* LOS state: LOS where
  Pr_LOS(d) > 0.5, NLOS beyond (see :func:`_median_los`).  A forced ``los: los``
  or ``los: nlos`` is kept as it is.

Interference is weighted by per-cell ``loads`` (the fraction of time each cell
transmits); the default, every cell fully loaded, is the planner's worst case.
UE height and noise figure default to those of :class:`UeRadioSpec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.radio.mobility import Static
from sim.radio.ran import RadioAccessNetwork, UeArrays, _los_distance, cells_of
from sim.radio.schema import RadioSpec, UeRadioSpec

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

__all__ = ["MAX_POINTS", "CoverageMap", "sinr_map"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MAX_POINTS = 201
"""Default most grid points per axis (odd: a symmetric area has its centre on the grid).

Building the network costs about 50 LOS bisection steps per UE-to-site link
(``RadioAccessNetwork._prepare_channel`` draws a random LOS state for every link
before :func:`_median_los` replaces it), so large layouts may want fewer points."""
MAX_LINKS = 2_000_000
"""Most UE-to-cell links evaluated at once (bounds memory on large layouts)."""
MEDIAN = 0.5
"""The LOS draw of every link under ``los: auto``: LOS where Pr_LOS exceeds it."""

_UE_DEFAULTS = UeRadioSpec.model_fields


@dataclass(frozen=True)
class CoverageMap:
    """Best-server SINR on a regular grid; rows are y, columns are x."""

    x: FloatArray
    """Grid x coordinates (nx,), metres."""
    y: FloatArray
    """Grid y coordinates (ny,), metres."""
    sinr_db: FloatArray
    """(ny, nx) downlink SINR from the best server, dB."""
    best_cell: IntArray
    """(ny, nx) index into `cell_names` of the cell each point attaches to (best RSRP)."""
    cell_names: list[str]
    cell_xy: FloatArray
    """(n_cell, 2) cell positions, metres."""
    azimuth: FloatArray
    """(n_cell,) sector boresight in degrees from +x, counter-clockwise; NaN for omni."""
    loads: FloatArray
    """(n_cell,) interference weight of each cell used for the map."""


def _median_los(ran: RadioAccessNetwork) -> None:
    """Put every link of `ran` in its median LOS state (LOS iff Pr_LOS(d) > 0.5).

    The run keeps one uniform draw u per UE-to-site link and treats the link as LOS
    while ``d < d*(u)``, the distance where Pr_LOS falls to u; it stores d* in
    ``ran._los_distance`` (n_ue, n_site), filled per block of sites sharing a path
    loss model and UE height (``ran._blocks``, see ``_prepare_channel``).  Setting
    u = 0.5 for every link replaces the random state by the median one.  All UEs of
    a block share the same d*, so it is computed once per block and broadcast.
    Must run before the first ``update``, which computes the channel.
    """
    for cols, model, h_ut, _, _ in ran._blocks:
        rows = np.flatnonzero(ran.ues.height == h_ut)
        d_star = _los_distance(model, np.full(len(cols), MEDIAN), h_ut)
        ran._los_distance[np.ix_(rows, cols)] = d_star[None, :]


def _axis(low: float, high: float, step: float) -> FloatArray:
    """Points `step` apart, centred on [low, high] and covering it."""
    n = math.ceil((high - low) / step - 1e-9) + 1
    centre = 0.5 * (low + high)
    out = centre + (np.arange(n, dtype=np.float64) - (n - 1) / 2.0) * step
    return np.asarray(out, dtype=np.float64)


def _grid(xy: FloatArray, resolution_m: float | None, margin_m: float | None,
          max_points: int) -> tuple[FloatArray, FloatArray]:
    """x and y of the grid over the cells' bounding box plus the margin."""
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float((hi - lo).max())
    margin = max(100.0, 0.25 * span) if margin_m is None else float(margin_m)
    if margin < 0:
        raise ValueError(f"margin_m must be >= 0, got {margin}")
    lo, hi = lo - margin, hi + margin
    side = float((hi - lo).max())
    if side <= 0:
        raise ValueError("the map area is empty: give margin_m > 0")
    coarsest = side / (max_points - 1)
    step = coarsest if resolution_m is None else float(resolution_m)
    if not step > 0:
        raise ValueError(f"resolution_m must be > 0, got {resolution_m}")
    step = max(step, coarsest)
    return _axis(float(lo[0]), float(hi[0]), step), _axis(float(lo[1]), float(hi[1]), step)


def sinr_map(scenario: Scenario | RadioSpec, loads: ArrayLike | None = None,
             resolution_m: float | None = None, margin_m: float | None = None, *,
             max_points: int = MAX_POINTS, ue_height: float | None = None,
             noise_figure: float | None = None) -> CoverageMap:
    """Best-server downlink SINR over the area around the cells.

    scenario: a scenario with a ``radio`` section, or the radio section itself.
    loads: interference weight per cell, in :func:`cells_of` order (default 1 for
    every cell: full load).  resolution_m: grid spacing (default, and at the finest:
    `max_points` points on the longer side).  margin_m: distance the area
    extends beyond the outermost cells (default max(100 m, a quarter of the cells'
    extent)).  ue_height and noise_figure default to the :class:`UeRadioSpec`
    defaults (1.5 m, 9 dB).
    """
    radio = scenario if isinstance(scenario, RadioSpec) else scenario.radio
    if radio is None:
        raise ValueError("the scenario has no radio section: no cells to map")
    spec = radio.model_copy(update={"shadowing": False})
    cells = cells_of(spec)
    if loads is None:
        weight = np.ones(cells.n)
    else:
        weight = np.asarray(loads, dtype=float).reshape(-1)
        if weight.shape != (cells.n,):
            raise ValueError(f"loads has {weight.size} values for {cells.n} cells")
        if not np.all(np.isfinite(weight) & (weight >= 0)):
            raise ValueError("loads must be finite and >= 0")
    height = float(_UE_DEFAULTS["height"].default if ue_height is None else ue_height)
    figure = float(_UE_DEFAULTS["noise_figure"].default if noise_figure is None
                   else noise_figure)
    tx = float(_UE_DEFAULTS["tx_power"].default)
    x, y = _grid(cells.xy, resolution_m, margin_m, max_points)
    gx, gy = np.meshgrid(x, y)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    sinr = np.empty(len(points))
    best = np.empty(len(points), dtype=np.int64)
    chunk = max(1, MAX_LINKS // cells.n)
    rng = np.random.default_rng(0)  # drives nothing: no shadowing, LOS set below
    for first in range(0, len(points), chunk):
        part = points[first:first + chunk]
        n = len(part)
        ues = UeArrays(groups=[("coverage", 0, n)], height=np.full(n, height),
                       noise_figure=np.full(n, figure), tx_dbm=np.full(n, tx),
                       full_buffer=np.zeros(n, dtype=bool))
        ran = RadioAccessNetwork(spec, cells, ues, [Static(part)], rng)
        if spec.los == "auto":
            _median_los(ran)
        ran.load_dl = weight
        ran.update(0.0, 0.0)  # the first update attaches each UE to its best-RSRP cell
        sinr[first:first + n] = ran.sinr_dl
        best[first:first + n] = ran.serving
    shape = (len(y), len(x))
    return CoverageMap(x=x, y=y, sinr_db=sinr.reshape(shape), best_cell=best.reshape(shape),
                       cell_names=list(cells.names), cell_xy=cells.xy.copy(),
                       azimuth=cells.azimuth.copy(), loads=weight)
