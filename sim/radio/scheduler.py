"""Cell schedulers as time shares: who gets how much of a cell's air time.

At flow level a cell is time-shared: a UE alone on the cell would get its peak
rate ``peak_u``; with others it gets a fraction ``share_u`` of the time and so the
rate ``share_u * peak_u``, with ``sum(share_u) <= 1`` over the UEs that have data
(``active``).  A scheduler decides the shares.  Slot-by-slot decisions average out
to these fractions over the interval between radio updates; what is lost is the
multi-user diversity gain that fast fading gives a channel-aware scheduler (there
is no fast fading in this model; see docs/radio.md).

All functions are vectorised over every UE of every cell at once: ``cell[u]`` is
the serving cell of UE u, so one call handles the whole network.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from sim.registry import Registry

__all__ = ["SCHEDULERS", "MaxCi", "ProportionalFair", "RoundRobin", "Scheduler"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class Scheduler(Protocol):
    """Splits each cell's time among its active UEs."""

    def shares(self, cell: IntArray, active: BoolArray, peak: FloatArray,
               n_cells: int, ues: IntArray | None = None) -> FloatArray:
        """Time share of each UE (0 for inactive UEs); per cell they sum to 1 or 0.

        The arrays may cover a subset of the UEs (one cell's); `ues` then gives
        their global indices, for schedulers that keep per-UE history.
        """
        ...

    def observe(self, throughput: FloatArray, dt: float) -> None:
        """Learn the throughput each UE got over the last `dt` seconds."""
        ...


SCHEDULERS: Registry[type[Scheduler]] = Registry("scheduler")


@SCHEDULERS.register("round_robin")
class RoundRobin:
    """Equal time shares: each of the n active UEs of a cell gets 1/n of its time."""

    def __init__(self, n_ues: int) -> None:
        self.n_ues = n_ues

    def shares(self, cell: IntArray, active: BoolArray, peak: FloatArray,
               n_cells: int, ues: IntArray | None = None) -> FloatArray:
        counts = np.bincount(cell[active], minlength=n_cells).astype(float)
        out = np.zeros(len(cell))
        out[active] = 1.0 / counts[cell[active]]
        return out

    def observe(self, throughput: FloatArray, dt: float) -> None:
        """Round robin keeps no history."""


@SCHEDULERS.register("max_ci")
class MaxCi:
    """Max C/I: all of a cell's time to its active UE with the highest peak rate.

    Ties go to the lowest UE index, so the choice is deterministic.
    """

    def __init__(self, n_ues: int) -> None:
        self.n_ues = n_ues

    def shares(self, cell: IntArray, active: BoolArray, peak: FloatArray,
               n_cells: int, ues: IntArray | None = None) -> FloatArray:
        out = np.zeros(len(cell))
        on = np.flatnonzero(active)
        if len(on) == 0:
            return out
        # Sort by cell, then peak descending, then index: the first of each cell wins.
        order = on[np.lexsort((on, -peak[on], cell[on]))]
        cells = cell[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = cells[1:] != cells[:-1]
        out[order[first]] = 1.0
        return out

    def observe(self, throughput: FloatArray, dt: float) -> None:
        """Max C/I keeps no history."""


@SCHEDULERS.register("proportional_fair")
class ProportionalFair:
    """Proportional fair: time shares in proportion to ``peak_u / average_u``.

    A slot-level PF scheduler serves the UE with the largest instantaneous rate over
    its average throughput; over many slots UE u is served a fraction of the time
    proportional to ``peak_u / average_u``.  The average is an exponentially
    weighted moving average with time constant `window` (seconds).  For static
    full-buffer UEs the fixed point is equal time shares (share_u ~ 1 / share_u),
    as the theory of PF without fast fading says (Kelly 1997; Jalali, Padovani &
    Pankaj 2000).
    """

    def __init__(self, n_ues: int, window: float = 1.0) -> None:
        if window <= 0:
            raise ValueError("proportional fair window must be positive")
        self.window = window
        self.average = np.zeros(n_ues)

    def shares(self, cell: IntArray, active: BoolArray, peak: FloatArray,
               n_cells: int, ues: IntArray | None = None) -> FloatArray:
        out = np.zeros(len(cell))
        on = np.flatnonzero(active)
        if len(on) == 0:
            return out
        avg = self.average[on if ues is None else ues[on]]
        fresh = avg <= 0.0
        # A UE with no history yet counts as having had its equal share.
        counts = np.bincount(cell[on], minlength=n_cells).astype(float)
        avg = np.where(fresh, peak[on] / counts[cell[on]], avg)
        weight = np.divide(peak[on], avg, out=np.ones(len(on)), where=avg > 0)
        totals = np.bincount(cell[on], weights=weight, minlength=n_cells)
        out[on] = np.divide(weight, totals[cell[on]], out=np.zeros(len(on)),
                            where=totals[cell[on]] > 0)
        return out

    def observe(self, throughput: FloatArray, dt: float) -> None:
        alpha = min(1.0, dt / self.window)
        fresh = self.average <= 0.0
        self.average = np.where(fresh, throughput,
                                self.average + alpha * (throughput - self.average))
