"""The radio hop inside a run: cells share their time among UEs with data.

Each radio UE has an uplink and a downlink channel in the flow network (its
access channels).  Their capacity is the UE's share of its serving cell's time
times its peak rate: ``capacity_u = share_u * peak_u``, so for each cell and
direction ``sum(rate_u / peak_u) <= 1``.  The shares come from the cell's
scheduler over the UEs that have data *now*: a UE becomes active when a flow
starts on its channel and idle when the last one ends (the network tells us
through ``on_busy``), and the cell's time is re-split at each such change and at
every radio update.  Full-buffer UEs are always active and carry no flows; their
throughput is their allocated rate.

During a handover's interruption a UE's channels get capacity 0, so its flows
stall and resume when the interruption ends.

Cell load (the interference weight of :mod:`sim.radio.sinr`) is the fraction of
the last radio interval during which the cell had at least one active downlink UE.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.engine import Wake
from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.radio.handover import HandoverRecords
from sim.radio.ran import RadioAccessNetwork
from sim.radio.scheduler import SCHEDULERS, ProportionalFair, Scheduler

__all__ = ["RadioAccess"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class _Direction:
    """Scheduler state and accounting of one direction (downlink or uplink)."""

    def __init__(self, downlink: bool, scheduler: Scheduler, channels: IntArray,
                 n_cells: int) -> None:
        self.downlink = downlink
        self.scheduler = scheduler
        self.channels = channels
        n = len(channels)
        self.busy = np.zeros(n, dtype=bool)
        self.rate = np.zeros(n)
        """Allocated rate (bit/s) of each UE since `since`."""
        self.capacity = np.full(n, np.nan)
        """Rate last given to the network as the UE's channel capacity (bit/s)."""
        self.since = np.zeros(n)
        self.served = np.zeros(n)
        """Bits allocated to each UE since the last radio update."""
        self.served_total = np.zeros(n)
        self.cell_busy_time = np.zeros(n_cells)
        self.cell_busy_since = np.full(n_cells, np.nan)


class RadioAccess:
    """Binds a :class:`RadioAccessNetwork` to the flow network and the engine."""

    def __init__(self, ran: RadioAccessNetwork, network: FlowNetwork, topology: Topology,
                 scheduler: str, pf_window: float, update_interval: float,
                 ue_sample_interval: float, duration: float) -> None:
        self.ran = ran
        self.network = network
        self.env = network.env
        self.update_interval = update_interval
        self.ue_sample_interval = ue_sample_interval
        self.duration = duration
        n = ran.ues.n
        up = [topology.uplink(g, i) for g, _, count in ran.ues.groups for i in range(count)]
        down = [topology.downlink(g, i) for g, _, count in ran.ues.groups for i in range(count)]
        network.mark_eager(up + down)
        self._of_channel: dict[int, tuple[int, bool]] = {c: (u, False) for u, c in enumerate(up)}
        self._of_channel.update({c: (u, True) for u, c in enumerate(down)})
        self.full = ran.ues.full_buffer

        def make() -> Scheduler:
            cls: Any = SCHEDULERS.get(scheduler)
            made: Scheduler = cls(n, pf_window) if cls is ProportionalFair else cls(n)
            return made

        cells = ran.cells.n
        self.dl = _Direction(True, make(), np.asarray(down, dtype=np.int64), cells)
        self.ul = _Direction(False, make(), np.asarray(up, dtype=np.int64), cells)
        self._members: list[IntArray] = []
        self._check_token = 0
        self._last_update = 0.0
        self._next_sample = 0.0
        self._samples = 0
        self._updates = 0
        self.cell_rows: list[tuple[float, FloatArray, FloatArray, FloatArray, FloatArray]] = []
        self.ue_rows: list[tuple[float, FloatArray, FloatArray, IntArray, IntArray, IntArray,
                                 FloatArray, FloatArray]] = []
        self.handovers: list[HandoverRecords] = []
        network.on_busy = self._on_busy

    # ------------------------------------------------------------------ events

    def start(self) -> None:
        Wake(self.env, 0.0, self._update)

    def _update(self, _: Any) -> None:
        now = self.env.now
        self._check_token += 1  # a pending between-update check is replaced by this update
        dt = now - self._last_update
        ran = self.ran
        if dt > 0:
            for d in (self.dl, self.ul):
                self._account(d, np.arange(ran.ues.n), now)
                self._close_busy(d, now)
            ran.load_dl = self.dl.cell_busy_time / dt
            self._record_cells(now, dt)
            for d in (self.dl, self.ul):
                d.scheduler.observe(d.served / dt, dt)
                d.served[:] = 0.0
                d.cell_busy_time[:] = 0.0
        handovers = ran.update(now, dt)
        self._last_update = now
        self._after_radio_change(handovers, now)
        if now >= self._next_sample - 1e-9:
            self._record_ues(now)
            self._samples += 1
            self._next_sample = self._samples * self.ue_sample_interval
        # Update k is scheduled at k * interval exactly (no drift from summing steps).
        self._updates += 1
        when = self._updates * self.update_interval
        if when <= self.duration + 1e-9:
            Wake(self.env, when - now, self._update)
        self._schedule_handover_check(now)

    def _after_radio_change(self, handovers: HandoverRecords, now: float,
                            everywhere: bool = True) -> None:
        """New serving cells or peak rates: regroup cells and re-split their time.

        After a radio update every cell is re-split (all peak rates changed); after
        handovers between updates only the cells the UEs left and joined.
        """
        ran = self.ran
        if len(handovers):
            self.handovers.append(handovers)
            for end in np.unique(ran.handover.interruption_end[handovers.ue]):
                if end > now:
                    Wake(self.env, float(end - now), self._interruption_over,
                         np.unique(handovers.target).tolist())
        cells = ran.cells.n
        order = np.argsort(ran.serving, kind="stable")
        bounds = np.searchsorted(ran.serving[order], np.arange(cells + 1))
        self._members = [order[bounds[c]:bounds[c + 1]] for c in range(cells)]
        if everywhere:
            touched = list(range(cells))
            ues = np.arange(ran.ues.n)
        else:
            touched = np.unique(np.concatenate([handovers.source, handovers.target])).tolist()
            ues = np.concatenate([self._members[c] for c in touched])
            ues = np.concatenate([ues, handovers.ue.astype(np.int64)])
            ues = np.unique(ues)
        for d in (self.dl, self.ul):
            self._resplit(d, ues, touched, now)  # it opens the cells' busy time too

    def _schedule_handover_check(self, now: float) -> None:
        due = self.ran.next_handover_time()
        if now < due < self._last_update + self.update_interval - 1e-12:
            self._check_token += 1
            Wake(self.env, due - now, self._handover_check, self._check_token)

    def _handover_check(self, ev: Wake) -> None:
        if ev.data != self._check_token:
            return  # superseded by a later radio update
        now = self.env.now
        handovers = self.ran.recheck(now)
        if len(handovers):
            self._after_radio_change(handovers, now, everywhere=False)
        self._schedule_handover_check(now)

    def _interruption_over(self, ev: Wake) -> None:
        """The UEs of cells `ev.data` whose interruption ended may send again."""
        now = self.env.now
        cells: list[int] = ev.data
        ues = np.concatenate([self._members[c] for c in cells]) if cells else np.zeros(0, int)
        for d in (self.dl, self.ul):
            self._resplit(d, ues.astype(np.int64), cells, now)

    def _on_busy(self, channel: int, busy: bool) -> None:
        if channel not in self._of_channel:
            return  # another eager channel (a traced link)
        ue, downlink = self._of_channel[channel]
        d = self.dl if downlink else self.ul
        d.busy[ue] = busy
        cell = int(self.ran.serving[ue])
        self._resplit(d, self._members[cell], [cell], self.env.now)

    # ---------------------------------------------------------------- sharing

    def _active(self, d: _Direction, ues: IntArray, now: float) -> NDArray[np.bool_]:
        interrupted = self.ran.handover.interrupted(now)[ues]
        peak = (self.ran.peak_dl if d.downlink else self.ran.peak_ul)[ues]
        # Out of coverage (CQI 0, no rate) a UE cannot be scheduled: it gets no time.
        active: NDArray[np.bool_] = (d.busy[ues] | self.full[ues]) & ~interrupted & (peak > 0)
        return active

    def _account(self, d: _Direction, ues: IntArray, now: float) -> None:
        d.served[ues] += d.rate[ues] * (now - d.since[ues])
        d.served_total[ues] += d.rate[ues] * (now - d.since[ues])
        d.since[ues] = now

    def _resplit(self, d: _Direction, ues: IntArray, cells: list[int], now: float) -> None:
        """Re-split the time of `cells` (whose UEs are `ues`) and set channel capacities."""
        if len(ues) == 0:
            return
        self._account(d, ues, now)
        self._close_busy(d, now, cells)
        ran = self.ran
        active = self._active(d, ues, now)
        peak = (ran.peak_dl if d.downlink else ran.peak_ul)[ues]
        shares = d.scheduler.shares(ran.serving[ues], active, peak, ran.cells.n, ues)
        rate = shares * peak
        d.rate[ues] = rate
        self._open_busy(d, now, cells)
        # Only channels that carry flows and whose capacity changes: an idle channel's
        # capacity is pushed when its first flow starts (on_busy re-splits its cell
        # first).  A full-buffer UE's channel too gets its allocation once it carries
        # a flow; its background traffic itself needs no flow.
        changed = d.busy[ues] & (rate != d.capacity[ues])
        if changed.any():
            moved = ues[changed]
            d.capacity[moved] = rate[changed]
            self.network.set_capacities(d.channels[moved].tolist(),
                                        (rate[changed] / 8.0).tolist())

    def _close_busy(self, d: _Direction, now: float, cells: list[int] | None = None) -> None:
        idx = np.arange(self.ran.cells.n) if cells is None else np.asarray(cells)
        open_ = ~np.isnan(d.cell_busy_since[idx])
        d.cell_busy_time[idx[open_]] += now - d.cell_busy_since[idx[open_]]
        d.cell_busy_since[idx] = np.nan

    def _open_busy(self, d: _Direction, now: float, cells: list[int] | None = None) -> None:
        ran = self.ran
        idx = np.arange(ran.cells.n) if cells is None else np.asarray(cells)
        has = np.bincount(ran.serving[d.rate > 0], minlength=ran.cells.n) > 0
        d.cell_busy_since[idx] = np.where(has[idx], now, np.nan)

    # ---------------------------------------------------------------- records

    def _record_cells(self, now: float, dt: float) -> None:
        ran = self.ran
        cells = ran.cells.n
        active = np.bincount(ran.serving[self.dl.busy | self.full], minlength=cells)
        self.cell_rows.append((
            now - dt, ran.load_dl.copy(), active.astype(float),
            np.bincount(ran.serving, weights=self.dl.served, minlength=cells) / dt,
            np.bincount(ran.serving, weights=self.ul.served, minlength=cells) / dt))

    def _record_ues(self, now: float) -> None:
        ran = self.ran
        self.ue_rows.append((now, ran.positions[:, 0].copy(), ran.positions[:, 1].copy(),
                             ran.serving.copy(), ran.cqi_dl.copy(), ran.cqi_ul.copy(),
                             ran.sinr_dl.copy(), ran.peak_dl.copy()))

    def finish(self, now: float) -> None:
        """Close the accounting at the end of the run (the last partial interval)."""
        dt = now - self._last_update
        if dt > 1e-12:
            for d in (self.dl, self.ul):
                self._account(d, np.arange(self.ran.ues.n), now)
                self._close_busy(d, now)
            self.ran.load_dl = self.dl.cell_busy_time / dt
            self._record_cells(now, dt)
            self._last_update = now

    # ----------------------------------------------------------------- results

    def _ue_labels(self) -> tuple[NDArray[np.object_], IntArray]:
        groups = np.concatenate([np.full(count, g, dtype=object)
                                 for g, _, count in self.ran.ues.groups]) \
            if self.ran.ues.groups else np.zeros(0, dtype=object)
        members = np.concatenate([np.arange(count) for _, _, count in self.ran.ues.groups]) \
            if self.ran.ues.groups else np.zeros(0, dtype=np.int64)
        return groups, members.astype(np.int64)

    def tables(self) -> dict[str, dict[str, NDArray[Any]]]:
        """cell_series, ue_radio and handovers, columnar (see results/README.md)."""
        names = np.asarray(self.ran.cells.names, dtype=object)
        n_cells = len(names)
        rows = self.cell_rows
        cell_series = {
            "t": np.repeat(np.asarray([r[0] for r in rows], dtype=float), n_cells),
            "cell": np.tile(names, len(rows)),
            "load": _cat([r[1] for r in rows]),
            "active_ues": _cat([r[2] for r in rows]).astype(np.int64),
            "allocated_dl_bps": _cat([r[3] for r in rows]),
            "allocated_ul_bps": _cat([r[4] for r in rows]),
        }
        groups, members = self._ue_labels()
        n = self.ran.ues.n
        ue = self.ue_rows
        ue_radio = {
            "t": np.repeat(np.asarray([r[0] for r in ue], dtype=float), n),
            "group": np.tile(groups, len(ue)), "member": np.tile(members, len(ue)),
            "x_m": _cat([r[1] for r in ue]), "y_m": _cat([r[2] for r in ue]),
            "cell": names[_cat([r[3] for r in ue]).astype(np.int64)] if ue
            else np.zeros(0, dtype=object),
            "cqi_dl": _cat([r[4] for r in ue]).astype(np.int64),
            "cqi_ul": _cat([r[5] for r in ue]).astype(np.int64),
            "sinr_dl_db": _cat([r[6] for r in ue]),
            "peak_dl_bps": _cat([r[7] for r in ue]),
        }
        ho = HandoverRecords.concat(self.handovers)
        handovers = {
            "t": ho.time_s.astype(float), "group": groups[ho.ue], "member": members[ho.ue],
            "source": names[ho.source], "target": names[ho.target],
            "rsrp_source_dbm": ho.rsrp_source_dbm.astype(float),
            "rsrp_target_dbm": ho.rsrp_target_dbm.astype(float),
            "interruption_s": np.full(len(ho), self.ran.handover.interruption_s),
        }
        return {"cell_series": cell_series, "ue_radio": ue_radio, "handovers": handovers}

    def summary(self, start: float, end: float) -> dict[str, Any]:
        """Radio section of summary.json over the statistics window [start, end)."""
        names = self.ran.cells.names
        times = np.asarray([r[0] for r in self.cell_rows], dtype=float)
        inside = times >= start - 1e-9
        widths = np.diff(np.append(times, end))[inside] if len(times) else np.zeros(0)
        span = max(float(widths.sum()), 1e-12)

        def mean_of(column: int) -> FloatArray:
            if not inside.any():
                return np.zeros(len(names))
            values = np.stack([r[column] for r, keep in zip(self.cell_rows, inside,
                                                            strict=True) if keep])
            out: FloatArray = (values * widths[:, None]).sum(axis=0) / span
            return out

        load, dl, ul = mean_of(1), mean_of(3), mean_of(4)
        ho = HandoverRecords.concat(self.handovers)
        in_window = int(((ho.time_s >= start) & (ho.time_s < end)).sum())
        kept = [r[6] for r in self.ue_rows if r[0] >= start - 1e-9]
        sinr = np.concatenate(kept) if kept else np.zeros(0)
        return {
            "cells": len(names), "ues": self.ran.ues.n, "handovers": in_window,
            "handovers_per_ue_per_hour": in_window / max(self.ran.ues.n, 1) / (end - start)
            * 3600.0,
            "sinr_dl_db_mean": float(sinr.mean()) if len(sinr) else None,
            "sinr_dl_db_p5": float(np.percentile(sinr, 5)) if len(sinr) else None,
            "cell_load_mean": float(load.mean()) if len(load) else None,
            "cell_allocated_dl_bps_mean": float(dl.mean()) if len(dl) else None,
            "cell_allocated_ul_bps_mean": float(ul.mean()) if len(ul) else None,
            "per_cell": {name: {"load": float(load[i]), "allocated_dl_bps": float(dl[i]),
                                "allocated_ul_bps": float(ul[i])}
                         for i, name in enumerate(names)},
        }


def _cat(parts: list[Any]) -> NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0)
