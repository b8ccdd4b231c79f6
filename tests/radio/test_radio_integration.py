"""The radio hop end to end, through the run builder and the flow network.

Expected values come from the standards' formulas written out here (TS 38.306
peak rate, TR 38.901 UMa LOS path loss, thermal noise), not from the code under
test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.engine import Wake
from sim.run.builder import Run
from sim.scenario.schema import Scenario

FC = 3.5e9
H_BS, H_UT = 25.0, 1.5


def uma_los_db(d2d: float) -> float:
    """TR 38.901 Table 7.4.1-1 UMa LOS below the breakpoint (h_E = 1 m)."""
    d_bp = 4 * (H_BS - 1.0) * (H_UT - 1.0) * FC / 3.0e8
    assert d2d <= d_bp
    d3d = math.hypot(d2d, H_BS - H_UT)
    return 28.0 + 22.0 * math.log10(d3d) + 20.0 * math.log10(FC / 1e9)


def mw(dbm: float) -> float:
    return 10.0 ** (dbm / 10.0)


def radio_scenario(cells: list[dict[str, Any]], ue: dict[str, Any], *, count: int = 1,
                   duration: float = 10.0, **radio: Any) -> Scenario:
    base_cell = {"attach": "agg", "deployment": "UMa", "height": H_BS, "carrier": FC,
                 "bandwidth": "100 MHz", "numerology": 1, "duplex": {"mode": "fdd"},
                 "layers": 1, "cqi_table": "qam256", "tx_power": "46 dBm"}
    spec = {
        "name": "radio_test", "duration": duration,
        "output": {"tables": True, "plots": False},
        "radio": {"cells": [{**base_cell, **c} for c in cells], "los": "los",
                  "shadowing": False, **radio},
        "nodes": [{"name": "agg", "kind": "router"}, {"name": "srv", "kind": "router"},
                  {"name": "ues", "kind": "users", "count": count, "attach": "agg",
                   "radio": ue}],
        "links": [{"a": "srv", "b": "agg", "bandwidth": "100 Gbps", "delay": 0}],
    }
    return Scenario.model_validate(spec)


def test_lone_ue_near_the_cell_reaches_the_38306_peak_rate() -> None:
    scn = radio_scenario([{"name": "c0", "position": [0, 0]}],
                         {"placement": {"kind": "explicit", "positions": [[20, 0]]}})
    run = Run(scn)
    assert run.radio is not None
    run.radio.start()
    env = run.network.env
    env.run(until=1e-6)  # the first radio update: attach, SINR, peak rates
    size = 50e6
    route = run.network.route_between("srv", "ues[0]")
    done: list[float] = []
    Wake(env, 0.5, lambda _: run.network.send(route, size, lambda _d: done.append(env.now),
                                              None))
    env.run()
    rate_bps = size * 8 / (done[0] - 0.5 - route.delay)
    # TS 38.306 4.1.2: 1 layer, Q_m 8, f 1, R_max 948/1024, N_PRB 273 (TS 38.101-1 Table
    # 5.3.2-1, 100 MHz at 30 kHz), T_s = 1e-3 / (14 * 2^1), OH 0.14 (FR1 downlink).
    peak = 1 * 8 * 1 * (948 / 1024) * (273 * 12) / (1e-3 / (14 * 2)) * (1 - 0.14)
    assert peak == pytest.approx(584.25e6, rel=1e-4)
    assert rate_bps == pytest.approx(peak, rel=0.01)
    assert run.radio.ran.cqi_dl[0] == 15


def full_buffer_run(scheduler: str, duration: float = 30.0) -> Run:
    # A near UE and a far UE in one cell, both always backlogged, static, noise-limited.
    scn = radio_scenario(
        [{"name": "c0", "position": [0, 0]}],
        {"placement": {"kind": "explicit", "positions": [[20, 0], [1000, 0]]},
         "full_buffer": True}, count=2, duration=duration, scheduler=scheduler,
        update_interval="100 ms", pf_window="1 s")
    run = Run(scn)
    run.execute()
    return run


def time_shares(run: Run) -> np.ndarray:
    assert run.radio is not None
    served = run.radio.dl.served_total / run.scenario.duration
    return np.asarray(served / run.radio.ran.peak_dl)


def test_round_robin_gives_equal_time_shares() -> None:
    run = full_buffer_run("round_robin")
    assert run.radio is not None
    peak = run.radio.ran.peak_dl
    assert peak[0] > 1.5 * peak[1] > 0  # really different SINRs
    assert time_shares(run) == pytest.approx([0.5, 0.5], rel=1e-9)


def test_max_ci_gives_all_the_time_to_the_better_ue() -> None:
    assert time_shares(full_buffer_run("max_ci")) == pytest.approx([1.0, 0.0], abs=1e-12)


def test_proportional_fair_converges_to_equal_time_shares() -> None:
    run = full_buffer_run("proportional_fair", duration=60.0)
    assert run.radio is not None
    assert run.radio.dl.scheduler.shares(  # the shares it has converged to
        run.radio.ran.serving, np.ones(2, bool), run.radio.ran.peak_dl, 1) == pytest.approx(
        [0.5, 0.5], abs=1e-3)
    assert time_shares(run) == pytest.approx([0.5, 0.5], abs=0.01)  # incl. the start


def test_cell_edge_sinr_falls_with_neighbour_load_by_the_formula() -> None:
    scn = radio_scenario([{"name": "a", "position": [0, 0]}, {"name": "b", "position": [500, 0]}],
                         {"placement": {"kind": "explicit", "positions": [[200, 0]]}})
    run = Run(scn)
    assert run.radio is not None
    ran = run.radio.ran
    ran.update(0.0, 0.0)
    assert ran.serving[0] == 0
    noise = -174 + 10 * math.log10(100e6) + 9.0  # dBm, UE noise figure 9 dB
    serving = 46 - uma_los_db(200.0)
    neighbour = 46 - uma_los_db(300.0)
    sinr = {}
    for load in (0.0, 1.0):
        ran.load_dl = np.array([1.0, load])
        ran.update(1.0, 1.0)
        sinr[load] = float(ran.sinr_dl[0])
    assert sinr[0.0] == pytest.approx(serving - noise, abs=1e-6)
    expected_drop = 10 * math.log10((mw(neighbour) + mw(noise)) / mw(noise))
    assert sinr[0.0] - sinr[1.0] == pytest.approx(expected_drop, abs=1e-6)


def test_straight_line_ue_hands_over_once_after_ttt_and_its_flow_stalls() -> None:
    hysteresis, ttt, interruption, step = 3.0, 0.32, 0.05, 0.1
    speed, x0, isd = 10.0, 100.0, 500.0
    scn = radio_scenario(
        [{"name": "a", "position": [0, 0]}, {"name": "b", "position": [isd, 0]}],
        {"placement": {"kind": "explicit", "positions": [[x0, 0]]},
         "mobility": {"model": "straight_line", "heading": 0, "speed": speed}},
        duration=40.0, update_interval=step, channel_step="0.01 m",
        handover={"hysteresis": hysteresis, "time_to_trigger": ttt,
                  "interruption": interruption})
    run = Run(scn)
    env = run.network.env
    route = run.network.route_between("srv", "ues[0]")
    Wake(env, 1.0, lambda _: run.network.send(route, 2e9, lambda _d: None, None))
    out = run.execute()
    ho = out.tables["handovers"]
    assert len(ho["t"]) == 1
    assert (ho["source"][0], ho["target"][0]) == ("a", "b")
    # Where target RSRP first exceeds serving + hysteresis (equal powers: a path-loss
    # difference), found by bisection on the formula.
    lo, hi = x0, isd - 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if uma_los_db(mid) - uma_los_db(isd - mid) > hysteresis:
            hi = mid
        else:
            lo = mid
    t_cross = (hi - x0) / speed
    t_ho = float(ho["t"][0])
    # RSRP is measured at each radio update, so the A3 condition is seen up to one
    # update interval after the crossing; the handover then follows exactly one TTT later.
    assert t_cross + ttt - 1e-9 <= t_ho <= t_cross + ttt + step + 1e-9
    assert ho["interruption_s"][0] == interruption
    # The download stalls during the interruption: no rate on its route, then it resumes.
    seg = run.network.segments()
    mine = seg["route"] == route.index
    overlap = mine & (seg["t0"] < t_ho + interruption) & (seg["t1"] > t_ho) & (seg["rate"] > 0)
    assert not overlap.any()
    assert (mine & (seg["t0"] >= t_ho + interruption - 1e-9) & (seg["rate"] > 0)).any()
    assert (mine & (seg["t1"] <= t_ho + 1e-9) & (seg["rate"] > 0)).any()


def test_rma_los_shadowing_is_6_db_beyond_the_breakpoint_in_the_run() -> None:
    # RMa, h_BS 35 m, h_UT 1.5 m, 3.5 GHz: d_BP = 2 pi 35 1.5 3.5e9 / 3e8 = 3848 m
    # (TR 38.901 Table 7.4.1-1).  With LOS forced, the shadowing a link gets is its
    # unit-variance state times 4 dB inside d_BP and 6 dB beyond (PL2).
    d_bp = 2 * math.pi * 35.0 * H_UT * FC / 3.0e8
    distances = [1000.0, 2000.0, d_bp - 50.0, d_bp + 50.0, 6000.0, 9000.0]
    positions = [[d, 0.0] for d in distances]

    def received(shadowing: bool) -> tuple[np.ndarray, Run]:
        scn = radio_scenario([{"name": "c0", "position": [0, 0], "deployment": "RMa",
                               "height": 35.0}],
                             {"placement": {"kind": "explicit", "positions": positions}},
                             count=len(positions), shadowing=shadowing)
        run = Run(scn)
        assert run.radio is not None
        run.radio.start()
        run.network.env.run(until=1e-6)  # the first radio update computes the channel
        return run.radio.ran.rx_dbm[:, 0].copy(), run

    plain, _ = received(False)
    shadowed, run = received(True)
    assert run.radio is not None and run.radio.ran._shadow is not None
    z = run.radio.ran._shadow.normal[:, 0]
    sigma = (plain - shadowed) / z  # loss grows by sigma z, the received power drops
    np.testing.assert_allclose(sigma, [4.0, 4.0, 4.0, 6.0, 6.0, 6.0], rtol=1e-9)
