"""A3-event handover (TS 38.331 §5.5.4.4), vectorised over all UEs.

Each radio update hands in the RSRP matrix ``(n_ue, n_cell)`` in dBm and the time.
A UE enters the A3 condition when its best neighbour beats the serving cell by
more than ``hysteresis + offset``; if the condition holds for the *same* best
neighbour for ``time_to_trigger``, the UE hands over to it and is interrupted
(its flows stall) for ``interruption_s``.

Simplifications, each chosen to keep an update a handful of numpy operations:

* Only the strongest neighbour is tracked.  If another neighbour becomes the
  strongest, the time-to-trigger restarts for it; 3GPP keeps a timer per
  triggered cell.  A UE between two neighbours that keep swapping rank may thus
  hand over later than a real UE would, never earlier.
* Conditions are evaluated when :meth:`A3Handover.update` is called.  Called only
  at radio updates Δ apart, time-to-trigger is in effect rounded up to whole
  intervals.  The radio access (``sim.radio.access``) therefore also calls it when
  a running timer expires between updates (RSRP is constant in between), so a
  handover lags the true crossing by between ``time_to_trigger`` and
  ``time_to_trigger + Δ``.
* An interrupted UE is not evaluated: it cannot start another handover until its
  interruption ends, and any pending timer is dropped.
* No L3 filtering of RSRP; feed filtered values if wanted.

Hysteresis and time-to-trigger together suppress ping-pong: a fluctuation must
beat the serving cell by the hysteresis and for the whole time-to-trigger.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["A3Handover", "HandoverRecords"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
_A = TypeVar("_A", bound=np.ndarray[Any, Any])

TIME_EPS = 1e-9
"""Seconds of slack when comparing elapsed time with time-to-trigger, so update
times that are sums of float steps (0.1 + 0.2 ...) do not miss by one update."""


@dataclass(frozen=True)
class HandoverRecords:
    """Executed handovers as columns of a tidy table, one row per handover."""

    time_s: FloatArray
    ue: IntArray
    source: IntArray
    target: IntArray
    rsrp_source_dbm: FloatArray
    rsrp_target_dbm: FloatArray

    def __len__(self) -> int:
        return int(self.ue.shape[0])

    @classmethod
    def empty(cls) -> HandoverRecords:
        f, i = np.zeros(0), np.zeros(0, dtype=np.intp)
        return cls(f, i, i, i, f, f)

    @classmethod
    def concat(cls, parts: Sequence[HandoverRecords]) -> HandoverRecords:
        if not parts:
            return cls.empty()
        return cls(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls))
        )

    def columns(self) -> dict[str, NDArray[np.float64] | NDArray[np.intp]]:
        """Column name -> array, ready for a results table."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class A3Handover:
    """Serving cells of n UEs driven by the A3 event, with time-to-trigger.

    The first :meth:`update` (or an explicit :meth:`attach`) attaches every UE to its
    strongest cell.  Times passed in must not decrease.
    """

    def __init__(
        self,
        hysteresis_db: float,
        time_to_trigger_s: float,
        interruption_s: float,
        offset_db: float = 0.0,
    ) -> None:
        for name, value in (
            ("hysteresis_db", hysteresis_db),
            ("time_to_trigger_s", time_to_trigger_s),
            ("interruption_s", interruption_s),
        ):
            if not (value >= 0.0 and math.isfinite(value)):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        if not math.isfinite(offset_db):
            raise ValueError(f"offset_db must be finite, got {offset_db}")
        self.hysteresis_db = float(hysteresis_db)
        self.offset_db = float(offset_db)
        self.time_to_trigger_s = float(time_to_trigger_s)
        self.interruption_s = float(interruption_s)
        self._margin = self.hysteresis_db + self.offset_db
        self._shape: tuple[int, int] | None = None
        self._t = -math.inf
        self._log: list[HandoverRecords] = []
        self._rows = np.zeros(0, dtype=np.intp)
        self._buf = np.zeros((0, 0))
        self._serving = np.zeros(0, dtype=np.intp)
        self._cand = np.zeros(0, dtype=np.intp)
        self._since = np.zeros(0)
        self._int_start = np.zeros(0)
        self._int_end = np.zeros(0)

    @property
    def attached(self) -> bool:
        return self._shape is not None

    @property
    def serving(self) -> IntArray:
        """Serving cell index per UE (read-only)."""
        return _readonly(self._serving)

    @property
    def candidate(self) -> IntArray:
        """Neighbour whose A3 timer is running, or -1, per UE (read-only)."""
        return _readonly(self._cand)

    @property
    def trigger_start(self) -> FloatArray:
        """When the running A3 timer started (NaN if none), per UE."""
        return np.where(self._cand >= 0, self._since, np.nan)

    @property
    def interruption_end(self) -> FloatArray:
        """End of each UE's latest interruption (−inf if never handed over)."""
        return _readonly(self._int_end)

    def interrupted(self, t: float) -> NDArray[np.bool_]:
        """Per UE: is ``t`` within ``[t_ho, t_ho + interruption_s)`` of its last handover."""
        mask: NDArray[np.bool_] = (t >= self._int_start) & (t < self._int_end)
        return mask

    def history(self) -> HandoverRecords:
        """Every handover executed so far."""
        return HandoverRecords.concat(self._log)

    def attach(self, rsrp_dbm: ArrayLike, t: float) -> IntArray:
        """Attach every UE to its strongest cell (best server); forget any A3 state."""
        rsrp = self._check(rsrp_dbm, t, attaching=True)
        n_ue, n_cell = rsrp.shape
        self._shape = (n_ue, n_cell)
        self._rows = np.arange(n_ue)
        self._buf = np.empty((n_ue, n_cell))
        self._serving = rsrp.argmax(axis=1).astype(np.intp)
        self._cand = np.full(n_ue, -1, dtype=np.intp)
        self._since = np.full(n_ue, np.nan)
        self._int_start = np.full(n_ue, -math.inf)
        self._int_end = np.full(n_ue, -math.inf)
        self._t = t
        return self.serving

    def update(self, rsrp_dbm: ArrayLike, t: float) -> HandoverRecords:
        """Evaluate A3 for every UE at time ``t``; the handovers executed now."""
        if not self.attached:
            self.attach(rsrp_dbm, t)
            return HandoverRecords.empty()
        rsrp = self._check(rsrp_dbm, t, attaching=False)
        self._t = t
        rows, serving = self._rows, self._serving
        serv_rsrp = rsrp[rows, serving]
        if self._margin >= 0.0:
            # Only a cell stronger than the serving one can pass the check, so the
            # strongest cell overall is the candidate; no copy of the matrix needed.
            cand = rsrp.argmax(axis=1)
            cand_rsrp = rsrp[rows, cand]
            enter = cand != serving
        else:
            buf = self._buf
            np.copyto(buf, rsrp)
            buf[rows, serving] = -np.inf
            cand = buf.argmax(axis=1)
            cand_rsrp = buf[rows, cand]
            enter = np.ones(cand.shape, dtype=np.bool_)
        enter &= (cand_rsrp > serv_rsrp + self._margin) & (t >= self._int_end)
        restart = enter & (cand != self._cand)
        self._since[restart] = t
        self._cand = np.where(enter, cand, -1)
        fire = np.flatnonzero(enter & (t - self._since >= self.time_to_trigger_s - TIME_EPS))
        if fire.size == 0:
            return HandoverRecords.empty()
        target = cand[fire]
        records = HandoverRecords(
            time_s=np.full(fire.size, t),
            ue=fire,
            source=serving[fire],
            target=target,
            rsrp_source_dbm=serv_rsrp[fire],
            rsrp_target_dbm=cand_rsrp[fire],
        )
        serving[fire] = target
        self._cand[fire] = -1
        self._int_start[fire] = t
        self._int_end[fire] = t + self.interruption_s
        self._log.append(records)
        return records

    def _check(self, rsrp_dbm: ArrayLike, t: float, *, attaching: bool) -> FloatArray:
        rsrp = np.asarray(rsrp_dbm, dtype=np.float64)
        if rsrp.ndim != 2 or rsrp.shape[1] == 0:
            raise ValueError(f"rsrp_dbm must have shape (n_ue, n_cell >= 1), got {rsrp.shape}")
        if not attaching and rsrp.shape != self._shape:
            raise ValueError(f"rsrp_dbm shape {rsrp.shape} differs from {self._shape}")
        if not math.isfinite(t) or t < self._t:
            raise ValueError(f"update time {t} must be finite and not before {self._t}")
        return rsrp


def _readonly(arr: _A) -> _A:
    view = arr.view()
    view.flags.writeable = False
    return view
