"""The radio access network's state, updated for every UE and cell at once.

Each radio update (every ``update_interval``) moves the UEs, recomputes the
channel to every cell (TR 38.901 path loss, LOS state, correlated shadowing,
antenna gain), runs the A3 handover logic on RSRP, and derives each UE's SINR,
CQI and peak rate from its serving cell.  It is all numpy on (n_ue, n_cell)
arrays: no Python loop over UEs, which is what lets thousands of UEs be updated
every simulated second.

Between updates the channel is held constant (block fading at the update
interval); the flow network sees the result as each UE's peak rate, which its
cell's scheduler shares out (see :mod:`sim.radio.access`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.radio.antenna import SectorPattern
from sim.radio.handover import A3Handover, HandoverRecords
from sim.radio.layout import hex_sites, sectorise
from sim.radio.link_adaptation import ofdm_symbol_duration_s, sinr_to_cqi, tdd_share
from sim.radio.mobility import Mobility, make_mobility
from sim.radio.nr_tables import cqi_table, overhead, prb_count
from sim.radio.pathloss import PATHLOSS, PathLossModel, ShadowFading
from sim.radio.placement import Area, explicit, hotspots, uniform_disc, uniform_rect
from sim.radio.references import cell_names, frequency_range
from sim.radio.schema import (
    AreaPlacement,
    CellDefaults,
    DiscPlacement,
    ExplicitPlacement,
    HotspotPlacement,
    RadioSpec,
    UeRadioSpec,
)
from sim.radio.sinr import noise_dbm

__all__ = ["CellArrays", "RadioAccessNetwork", "UeArrays", "cells_of"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

SUBCARRIERS_PER_PRB = 12
SECTOR = SectorPattern()
"""TR 38.901 Table 7.3-1 sector element (65 deg beams, 8 dBi)."""
ANGLE_RES = 10.0
"""Antenna pattern table points per degree (the lookup rounds down: error below 0.06 dB)."""
H_TABLE = SECTOR.horizontal_db(np.arange(0.0, 1080.0 + 1.0, 1.0 / ANGLE_RES) - 540.0)
"""A_H(phi) for phi = -540 ... 540 deg (the pattern wraps every 360)."""
V_TABLE = SECTOR.vertical_db(np.arange(0.0, 540.0 + 1.0, 1.0 / ANGLE_RES) - 180.0)
"""A_V(theta) for zenith theta = -180 ... 360 deg (90 + elevation below the horizon)."""
PL_GRID = np.linspace(0.0, 5.0, 5001)
"""log10 of the 2D distance (1 m to 100 km) at which path loss is tabulated."""
PL_STEP = float(PL_GRID[1] - PL_GRID[0])


def _los_distance(model: PathLossModel, u: FloatArray, h_ut: float) -> FloatArray:
    """Per link, the distance d* below which ``u < Pr_LOS(d)`` (Pr_LOS falls with d)."""
    lo = np.zeros(u.shape)
    hi = np.full(u.shape, 1e5)
    for _ in range(48):  # 1e5 m / 2^48: far below a millimetre
        mid = 0.5 * (lo + hi)
        inside = u < model.los_probability(mid, h_ut)
        lo = np.where(inside, mid, lo)
        hi = np.where(inside, hi, mid)
    out: FloatArray = np.where(u < model.los_probability(1e5, h_ut), np.inf, hi)
    return out


@dataclass(frozen=True)
class CellArrays:
    """Every cell's configuration as arrays indexed by cell."""

    names: list[str]
    xy: FloatArray
    height: FloatArray
    azimuth: FloatArray
    """Boresight in degrees; NaN for an omni cell."""
    downtilt: FloatArray
    carrier: FloatArray
    bandwidth: FloatArray
    n_prb: IntArray
    tx_dbm: FloatArray
    deployment: list[str]
    layers_dl: FloatArray
    layers_ul: FloatArray
    table: list[str]
    share_dl: FloatArray
    share_ul: FloatArray
    overhead_dl: FloatArray
    overhead_ul: FloatArray
    mu: int

    @property
    def n(self) -> int:
        return len(self.names)

    def rate_scale(self, downlink: bool) -> FloatArray:
        """bit/s per unit spectral efficiency of the whole cell in one direction."""
        res_per_s = self.n_prb * SUBCARRIERS_PER_PRB / ofdm_symbol_duration_s(self.mu)
        if downlink:
            out: FloatArray = self.layers_dl * res_per_s * (1 - self.overhead_dl) * self.share_dl
        else:
            out = self.layers_ul * res_per_s * (1 - self.overhead_ul) * self.share_ul
        return out


def cells_of(radio: RadioSpec) -> CellArrays:
    """The explicit cells, then the layout's cells, in the order of :func:`cell_names`."""
    rows: list[tuple[CellDefaults, float, float, float]] = [
        (c, c.position[0], c.position[1], math.nan if c.azimuth is None else c.azimuth)
        for c in radio.cells]
    if radio.layout is not None:
        lay = radio.layout
        cells = sectorise(hex_sites(lay.rings, lay.isd, lay.center), lay.sectors)
        rows += [(lay, float(x), float(y), float(b))
                 for (x, y), b in zip(cells.xy, cells.boresight_deg, strict=True)]
    mu = rows[0][0].numerology
    shares = [tdd_share(c.duplex.pattern) if c.duplex.mode == "tdd" else (1.0, 1.0)
              for c, *_ in rows]
    ranges = [frequency_range(c.carrier) for c, *_ in rows]

    def col(values: list[float]) -> FloatArray:
        return np.asarray(values, dtype=float)

    return CellArrays(
        names=cell_names(radio),
        xy=np.asarray([[x, y] for _, x, y, _ in rows], dtype=float).reshape(-1, 2),
        height=col([c.height if c.height is not None
                     else PATHLOSS.get(c.deployment).default_h_bs_m for c, *_ in rows]),
        azimuth=np.mod(col([b for *_, b in rows]), 360.0),
        downtilt=col([c.downtilt for c, *_ in rows]),
        carrier=col([c.carrier for c, *_ in rows]),
        bandwidth=col([c.bandwidth for c, *_ in rows]),
        n_prb=np.asarray([prb_count(c.bandwidth, 15e3 * 2 ** c.numerology, fr)  # type: ignore[arg-type]
                          for (c, *_), fr in zip(rows, ranges, strict=True)], dtype=np.int64),
        tx_dbm=col([c.tx_power for c, *_ in rows]),
        deployment=[c.deployment for c, *_ in rows],
        layers_dl=col([c.layers for c, *_ in rows]),
        layers_ul=col([c.uplink_layers for c, *_ in rows]),
        table=[c.cqi_table for c, *_ in rows],
        share_dl=col([s[0] for s in shares]),
        share_ul=col([s[1] for s in shares]),
        overhead_dl=col([overhead(fr, "DL") for fr in ranges]),  # type: ignore[arg-type]
        overhead_ul=col([overhead(fr, "UL") for fr in ranges]),  # type: ignore[arg-type]
        mu=mu,
    )


def place(spec: UeRadioSpec, n: int, cells: CellArrays, rng: np.random.Generator) -> FloatArray:
    """Initial positions of a group's n UEs."""
    p = spec.placement
    if isinstance(p, ExplicitPlacement):
        if len(p.positions) != n:
            raise ValueError(f"{len(p.positions)} positions for {n} users")
        return explicit([list(xy) for xy in p.positions])
    if isinstance(p, DiscPlacement):
        center = cells.xy[cells.names.index(p.center)] if isinstance(p.center, str) \
            else np.asarray(p.center, dtype=float)
        return uniform_disc(n, center.tolist(), p.radius, rng)
    if isinstance(p, AreaPlacement):
        return uniform_rect(n, Area.from_bounds(p.area), rng)
    assert isinstance(p, HotspotPlacement)
    weights = p.weights if p.weights is not None else [1.0] * len(p.centers)
    return hotspots(n, [list(c) for c in p.centers], weights, p.spread,
                    Area.from_bounds(p.area), rng)


def mobility_of(spec: UeRadioSpec, start: FloatArray, rng: np.random.Generator,
                base_dir: str | None = None) -> Mobility:
    m = spec.mobility
    params: dict[str, object]
    if m.model == "straight_line":
        params = {"heading_deg": m.heading, "speed_mps": m.speed}
    elif m.model == "random_waypoint":
        params = {"area": list(m.area), "v_min_mps": m.speed_min, "v_max_mps": m.speed_max,
                  "pause_s": m.pause}
    elif m.model == "trace":
        from pathlib import Path

        path = Path(m.file)
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        params = {"file": str(path)}
    else:
        params = {}
    return make_mobility(m.model, params, start, rng)


@dataclass(frozen=True)
class UeArrays:
    """Per-UE constants, concatenated over the radio user groups."""

    groups: list[tuple[str, int, int]]
    """(group name, first UE index, count)."""
    height: FloatArray
    noise_figure: FloatArray
    tx_dbm: FloatArray
    full_buffer: BoolArray

    @property
    def n(self) -> int:
        return len(self.height)


class RadioAccessNetwork:
    """Channel, attachment, SINR and peak rates of every UE, refreshed by :meth:`update`."""

    def __init__(self, spec: RadioSpec, cells: CellArrays, ues: UeArrays,
                 mobility: list[Mobility], rng: np.random.Generator) -> None:
        self.spec = spec
        self.cells = cells
        self.ues = ues
        self.mobility = mobility
        n_ue, n_cell = ues.n, cells.n
        self._prepare_channel(rng)
        self.recomputed = 0
        """UEs whose channel the last update recomputed."""
        self.handover = A3Handover(spec.handover.hysteresis, spec.handover.time_to_trigger,
                                   spec.handover.interruption, spec.handover.offset)
        self._scale_dl = cells.rate_scale(True)
        self._scale_ul = cells.rate_scale(False)
        self._noise_ul = noise_dbm(cells.bandwidth, spec.gnb_noise_figure)
        self.load_dl = np.zeros(n_cell)
        """Fraction of the last interval each cell was busy in the downlink."""
        self.positions = np.concatenate([m.positions for m in mobility]) if mobility \
            else np.zeros((0, 2))
        self.rx_dbm = np.zeros((n_ue, n_cell))
        self.serving = np.zeros(n_ue, dtype=np.int64)
        self.sinr_dl = np.zeros(n_ue)
        self.sinr_ul = np.zeros(n_ue)
        self.cqi_dl = np.zeros(n_ue, dtype=np.int64)
        self.cqi_ul = np.zeros(n_ue, dtype=np.int64)
        self.peak_dl = np.zeros(n_ue)
        self.peak_ul = np.zeros(n_ue)
        self._started = False

    # ------------------------------------------------------------------ channel

    def _prepare_channel(self, rng: np.random.Generator) -> None:
        """Everything about the channel that does not change as UEs move.

        * Links are per *site*: the sectors of a mast (same position, height,
          carrier and deployment) share their path loss, LOS state and shadowing,
          as in TR 38.901, where these belong to the UE-to-BS link; only the
          antenna gain differs by sector.  That also makes the work per site.
        * Path loss: for a site and a UE height, TR 38.901 loss is a function of
          the 2D distance alone, so it is tabulated once per (site kind, UE height)
          on a fine grid of log-distance and interpolated (linear in log d, where
          the formulas are linear; error below 0.01 dB).
        * LOS: each link keeps one uniform draw u and is LOS while u < Pr_LOS(d);
          Pr_LOS falls with distance, so that is d < d*(u), the distance where the
          probability drops to u, found once by bisection.  LOS then changes only
          where a moving UE crosses d*, which keeps it spatially consistent.
        """
        cells, ues = self.cells, self.ues
        n_ue, n_cell = ues.n, cells.n
        keys = [(float(cells.xy[c, 0]), float(cells.xy[c, 1]), float(cells.height[c]),
                 float(cells.carrier[c]), cells.deployment[c]) for c in range(n_cell)]
        sites = sorted(set(keys))
        self._site_of = np.asarray([sites.index(k) for k in keys], dtype=np.int64)
        n_site = len(sites)
        self._site_xy = np.asarray([[s[0], s[1]] for s in sites])
        self._site_h = np.asarray([s[2] for s in sites])
        self._blocks: list[tuple[IntArray, PathLossModel, float, FloatArray, float]] = []
        """(site columns, model, UE height, path-loss table, LOS shadowing breakpoint)."""
        kinds = sorted({s[2:] for s in sites})
        for h_bs, fc, dep in kinds:
            cols = np.asarray([i for i, s in enumerate(sites) if s[2:] == (h_bs, fc, dep)],
                              dtype=np.int64)
            model = PATHLOSS.get(dep)()
            for h_ut in np.unique(ues.height):
                d = np.power(10.0, PL_GRID)
                table = np.concatenate([  # LOS rows, then NLOS rows
                    model.path_loss_db(d, h_bs, h_ut, fc / 1e9, True),
                    model.path_loss_db(d, h_bs, h_ut, fc / 1e9, False)])
                breakpoint = float(model.los_breakpoint_m(h_bs, h_ut, fc / 1e9))
                self._blocks.append((cols, model, float(h_ut), table, breakpoint))
        draw = rng.random((n_ue, n_site))
        self._los_distance = np.full((n_ue, n_site), np.inf)
        for cols, model, h_ut, _, _ in self._blocks:
            at = np.ix_(np.flatnonzero(ues.height == h_ut), cols)
            self._los_distance[at] = _los_distance(model, draw[at], h_ut)
        models = [PATHLOSS.get(d)() for d in set(cells.deployment)]
        shortest = min(min(m.decorrelation_los_m, m.decorrelation_nlos_m) for m in models)
        self.channel_step = self.spec.channel_step or shortest / 10.0
        """Distance a UE moves before its channel is recomputed."""
        self._travel = np.zeros(n_ue)
        self._carriers = np.unique(cells.carrier)
        self._rx_mw = np.zeros((n_ue, n_cell))
        """Received power in mW for the interference sum, converted from dBm in single
        precision (relative error 1e-7); the serving signal is taken from rx_dbm."""
        self._rsrp = np.zeros((n_ue, n_cell))
        tables = sorted(set(cells.table))
        self._cqi_tables = [cqi_table(name) for name in tables]
        self._table_of = np.asarray([tables.index(name) for name in cells.table], dtype=np.int64)
        self._rsrp_offset = 10.0 * np.log10(SUBCARRIERS_PER_PRB * cells.n_prb.astype(float))
        self._sectored = np.flatnonzero(~np.isnan(cells.azimuth))
        self._h_shift = (cells.azimuth[self._sectored] * ANGLE_RES)[None, :]
        grid_d = np.power(10.0, PL_GRID)
        self._elev_tables = {  # (UE height) -> (grid index, site) -> table position
            float(h): (np.degrees(np.arctan2(self._site_h[None, :] - h, grid_d[:, None]))
                       + 270.0) * ANGLE_RES
            for h in np.unique(ues.height)}
        self._v_shift = (cells.downtilt[self._sectored] * ANGLE_RES)[None, :]
        self.los = np.zeros((n_ue, n_site), dtype=bool)
        """LOS state of each UE-to-site link."""
        self._shadow = ShadowFading(n_ue, n_site, rng) if self.spec.shadowing else None

    def _channel(self, rows: IntArray, travelled: FloatArray) -> None:
        """Recompute the links of UEs `rows`, which travelled `travelled` metres since.

        Written for speed: boolean masks are blended by arithmetic rather than
        ``np.where``, tables replace transcendental calls, and everything but the
        antenna gain is computed per site, not per sector.
        """
        dx = self.positions[rows, 0][:, None] - self._site_xy[None, :, 0]
        dy = self.positions[rows, 1][:, None] - self._site_xy[None, :, 1]
        d2d = np.sqrt(dx * dx + dy * dy)
        mode = self.spec.los
        if mode == "auto":
            los = d2d < self._los_distance[rows]
        else:
            los = np.full(d2d.shape, mode == "los")
        self.los[rows] = los
        nlos = ~los
        # Tabulated path loss on a uniform grid of log-distance: one index computation
        # serves the LOS and the NLOS table (np.interp would search the grid twice).
        pos = (np.log10(np.clip(d2d, 10.0 ** PL_GRID[0], 10.0 ** PL_GRID[-2]))
               - PL_GRID[0]) / PL_STEP
        index = pos.astype(np.int64)
        heights = self.ues.height[rows]
        loss, sigma, rho = self._path_loss(heights, d2d, nlos, index, pos - index, travelled)
        if self._shadow is not None:
            z = self._shadow.advance_rows(rows, rho) if self._started \
                else self._shadow.rows(rows)
            loss += sigma * z
        rx = self._received_dbm(loss, dx, dy, heights, index)
        self.rx_dbm[rows] = rx
        self._rsrp[rows] = rx - self._rsrp_offset[None, :]
        self._rx_mw[rows] = np.exp(rx.astype(np.float32) * np.float32(math.log(10.0) / 10.0))

    def _path_loss(
        self,
        heights: FloatArray,
        d2d: FloatArray,
        nlos: BoolArray,
        index: IntArray,
        frac: FloatArray,
        travelled: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Path loss, shadow-fading sigma and its correlation over `travelled`, per (UE, site).

        One block per (site kind, UE height): each has its own model and table.
        """
        loss = np.empty(d2d.shape)
        sigma = np.empty(d2d.shape)
        rho = np.empty(d2d.shape)
        for cols, model, h_ut, table, breakpoint in self._blocks:
            sel = np.flatnonzero(heights == h_ut)
            if len(sel) == 0:
                continue
            whole = len(sel) == d2d.shape[0] and len(cols) == d2d.shape[1]
            at = (slice(None), slice(None)) if whole else np.ix_(sel, cols)
            flat = index[at] + nlos[at] * len(PL_GRID)
            low = table[flat]
            loss[at] = low + frac[at] * (table[flat + 1] - low)
            s_los, s_nlos = model.sigma_sf_los_db, model.sigma_sf_nlos_db
            sigma[at] = s_los + nlos[at] * (s_nlos - s_los)
            s_far = model.sigma_sf_far_los_db
            if s_far is not None:  # RMa: LOS beyond the breakpoint has its own sigma
                far = ~nlos[at] & (d2d[at] > breakpoint)
                if far.any():
                    block = sigma[at]
                    block[far] = s_far
                    sigma[at] = block
            step = travelled[sel]
            r_los = np.exp(-step / model.decorrelation_los_m)[:, None]
            r_nlos = np.exp(-step / model.decorrelation_nlos_m)[:, None]
            rho[at] = r_los + nlos[at] * (r_nlos - r_los)
        return loss, sigma, rho

    def _received_dbm(
        self, loss: FloatArray, dx: FloatArray, dy: FloatArray, heights: FloatArray,
        index: IntArray,
    ) -> FloatArray:
        """Received power per (UE, cell): site path loss, plus the sector gain where sectored."""
        cells, site_of = self.cells, self._site_of
        if not len(self._sectored):
            rx: FloatArray = cells.tx_dbm[None, :] - loss[:, site_of]
            return rx
        sec = self._sectored
        # Angles per site, pre-scaled to table indices; per sector only a shift.
        # Offsets lie in (-540, 540) deg and tilted zeniths in (-180, 270) deg, so
        # both index their tables directly, without a modulo.
        h_pos = (np.degrees(np.arctan2(dy, dx)) + 540.0) * ANGLE_RES
        # Elevation depends on the distance alone (per site and UE height), so
        # it is read from the path-loss grid's index rather than an arctan2.
        v_pos = self._elevation_pos(heights, index)
        every = len(sec) == cells.n
        of = site_of if every else site_of[sec]
        h_idx = (h_pos[:, of] - self._h_shift).astype(np.int64)
        v_idx = (v_pos[:, of] - self._v_shift).astype(np.int64)
        gain = SECTOR.max_gain_dbi - np.minimum(-(H_TABLE[h_idx] + V_TABLE[v_idx]),
                                                SECTOR.a_max_db)
        if every:
            rx = (cells.tx_dbm[None, :] - loss[:, site_of]) + gain
        else:
            rx = cells.tx_dbm[None, :] - loss[:, site_of]
            rx[:, sec] += gain
        return rx

    def _elevation_pos(self, heights: FloatArray, index: IntArray) -> FloatArray:
        """Vertical-pattern table position of each (UE, site) at its grid distance."""
        sites = np.arange(index.shape[1])[None, :]
        if len(self._elev_tables) == 1:
            (table,) = self._elev_tables.values()
            out: FloatArray = table[index, sites]
            return out
        out = np.empty(index.shape)
        for h_ut, table in self._elev_tables.items():
            sel = heights == h_ut
            out[sel] = table[index[sel], sites]
        return out

    def _interference_mw(self, rows: IntArray, serving: IntArray) -> FloatArray:
        """Load-weighted power from the co-channel cells other than the serving one."""
        load = self.load_dl
        carrier = self.cells.carrier
        rx = self._rx_mw if len(rows) == self.ues.n else self._rx_mw[rows]
        if len(self._carriers) == 1:
            total = rx @ load
        else:
            total = np.zeros(len(rows))
            for fc in self._carriers:
                cols = np.flatnonzero(carrier == fc)
                on = carrier[serving] == fc
                total[on] = rx[on][:, cols] @ load[cols]
        own = rx[np.arange(len(rows)), serving] * load[serving]
        out: FloatArray = np.maximum(total - own, 0.0)
        return out

    # ------------------------------------------------------------------- update

    def update(self, t: float, dt: float) -> HandoverRecords:
        """Move UEs by `dt`, refresh the channel, hand over, recompute SINR and rates."""
        moved_parts = [m.advance(dt) for m in self.mobility] if self._started else []
        if self.mobility:
            self.positions = np.concatenate([m.positions for m in self.mobility])
        moved = np.concatenate(moved_parts) if moved_parts else np.zeros(self.ues.n)
        self._travel += moved
        due = np.flatnonzero(self._travel >= self.channel_step) if self._started \
            else np.arange(self.ues.n)
        if len(due):
            self._channel(due, self._travel[due])
            self._travel[due] = 0.0
        self.recomputed = len(due)
        rsrp = self._rsrp
        if not self._started:
            self.handover.attach(rsrp, t)
            handovers = HandoverRecords.empty()
            self._started = True
        else:
            handovers = self.handover.update(rsrp, t)
        self._link_quality()
        return handovers

    def next_handover_time(self) -> float:
        """When a running time-to-trigger expires (inf if none).

        RSRP only changes at radio updates, so a neighbour that entered the A3
        condition at an update keeps meeting it until the next update: the
        handover is due exactly one time-to-trigger after that update, which may
        fall between updates.
        """
        start = self.handover.trigger_start  # at an update or a between-update check
        running = ~np.isnan(start)
        if not running.any():
            return math.inf
        return float(start[running].min() + self.handover.time_to_trigger_s)

    def recheck(self, t: float) -> HandoverRecords:
        """Execute the handovers whose time-to-trigger has expired at `t` (between updates)."""
        handovers = self.handover.update(self._rsrp, t)
        if len(handovers):
            self._link_quality(handovers.ue.astype(np.int64))
        return handovers

    def _link_quality(self, rows: IntArray | None = None) -> None:
        """SINR, CQI and peak rates of UEs `rows` (default all) from their serving cells."""
        cells, ues = self.cells, self.ues
        self.serving = self.handover.serving.astype(np.int64)
        if rows is None:
            rows = np.arange(ues.n)
        s = self.serving[rows]
        noise_dl = np.exp(noise_dbm(cells.bandwidth[s], ues.noise_figure[rows])
                          * (math.log(10.0) / 10.0))
        signal = np.exp(self.rx_dbm[rows, s] * (math.log(10.0) / 10.0))
        sinr_dl = 10.0 * np.log10(signal / (self._interference_mw(rows, s) + noise_dl))
        # Uplink: reciprocal path loss and gain, noise-limited (no uplink interference).
        sinr_ul = ues.tx_dbm[rows] + (self.rx_dbm[rows, s] - cells.tx_dbm[s]) - self._noise_ul[s]
        cqi_dl = np.zeros(len(rows), dtype=np.int64)
        cqi_ul = np.zeros(len(rows), dtype=np.int64)
        se_dl = np.zeros(len(rows))
        se_ul = np.zeros(len(rows))
        for k, table in enumerate(self._cqi_tables):
            on = self._table_of[s] == k if len(self._cqi_tables) > 1 else slice(None)
            eff = table.efficiency_array()
            cqi_dl[on] = sinr_to_cqi(sinr_dl[on], table)
            cqi_ul[on] = sinr_to_cqi(sinr_ul[on], table)
            se_dl[on] = eff[cqi_dl[on]]
            se_ul[on] = eff[cqi_ul[on]]
        self.sinr_dl[rows] = sinr_dl
        self.sinr_ul[rows] = sinr_ul
        self.cqi_dl[rows] = cqi_dl
        self.cqi_ul[rows] = cqi_ul
        self.peak_dl[rows] = se_dl * self._scale_dl[s]
        self.peak_ul[rows] = se_ul * self._scale_ul[s]


def build_ran(radio: RadioSpec, groups: list[tuple[str, int, UeRadioSpec]],
              stream: Callable[[str], np.random.Generator],
              base_dir: str | None = None) -> RadioAccessNetwork:
    """The radio access network of a scenario's radio section and radio user groups.

    `stream(name)` hands out the run's named random streams, so each group's
    placement and mobility and the channel draws stay independent of each other.
    """
    cells = cells_of(radio)
    mobility: list[Mobility] = []
    spans: list[tuple[str, int, int]] = []
    first = 0
    for name, count, spec in groups:
        start = place(spec, count, cells, stream(f"radio/{name}/placement"))
        mobility.append(mobility_of(spec, start, stream(f"radio/{name}/mobility"), base_dir))
        spans.append((name, first, count))
        first += count

    def per_ue(value: Callable[[UeRadioSpec], float]) -> FloatArray:
        return np.concatenate([np.full(count, value(spec)) for _, count, spec in groups]) \
            if groups else np.zeros(0)

    ues = UeArrays(groups=spans, height=per_ue(lambda s: s.height),
                   noise_figure=per_ue(lambda s: s.noise_figure),
                   tx_dbm=per_ue(lambda s: s.tx_power),
                   full_buffer=per_ue(lambda s: float(s.full_buffer)).astype(bool))
    return RadioAccessNetwork(radio, cells, ues, mobility, stream("radio/channel"))
