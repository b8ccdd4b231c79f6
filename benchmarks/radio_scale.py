"""Benchmark: the radio hop at city scale.

50 cells (the first 50 of a 3-sector hexagonal layout of 19 sites, 500 m apart,
UMa at 3.5 GHz, 100 MHz), N UEs moving by random waypoint over the layout's area,
full-buffer traffic in both directions, a radio update every second (mobility,
TR 38.901 channel with correlated shadowing, A3 handover, SINR with load-weighted
interference, CQI, proportional fair shares), one simulated hour.  The run goes
through the normal run builder (``sim.run.builder.Run``), so what is timed is what a user
runs.  Prints the wall time per N and the growth from the smallest to the largest.

    python benchmarks/radio_scale.py                     # N = 500 and 5000, one hour
    python benchmarks/radio_scale.py --ues 500 1000 5000 --duration 600
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from sim.radio.layout import hex_sites, sectorise
from sim.run.builder import Run
from sim.scenario.schema import Scenario

CELLS = 50
ISD = 500.0


def scenario(n_ues: int, duration: float, seed: int = 1) -> Scenario:
    layout = sectorise(hex_sites(2, ISD), 3)
    cells = [{"name": f"c{i}", "position": [float(x), float(y)], "azimuth": float(b),
              "attach": "agg"}
             for i, ((x, y), b) in enumerate(zip(layout.xy[:CELLS], layout.boresight_deg,
                                                 strict=False))]
    half = 2.5 * ISD
    area = [-half, -half, half, half]
    spec: dict[str, Any] = {
        "name": f"radio_scale_{n_ues}", "seed": seed, "duration": duration,
        "sample_interval": 60.0, "output": {"tables": False, "plots": False},
        "radio": {"cells": cells, "update_interval": 1.0, "ue_sample_interval": 600.0},
        "nodes": [{"name": "agg", "kind": "router"},
                  {"name": "ues", "kind": "users", "count": n_ues, "attach": "agg",
                   "radio": {"placement": {"kind": "area", "area": area},
                             "mobility": {"model": "random_waypoint", "area": area,
                                          "speed_min": 0.5, "speed_max": 1.5},
                             "full_buffer": True}}],
    }
    return Scenario.model_validate(spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ues", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--duration", type=float, default=3600.0, help="simulated seconds")
    args = parser.parse_args()
    print(f"{CELLS} cells, full buffer, radio update 1 s, {args.duration:g} s simulated")
    print(f"{'UEs':>6} {'build s':>8} {'run s':>8} {'handovers':>10} {'cell Mbps':>10}")
    walls: list[float] = []
    for n in args.ues:
        started = time.perf_counter()
        run = Run(scenario(n, args.duration))
        built = time.perf_counter()
        out = run.execute()
        wall = time.perf_counter() - built
        walls.append(wall)
        radio = out.summary.get("radio", {})
        print(f"{n:>6} {built - started:>8.2f} {wall:>8.2f} {radio.get('handovers', 0):>10} "
              f"{radio.get('cell_allocated_dl_bps_mean', 0) / 1e6:>10.1f}")
    if len(walls) > 1:
        ratio = args.ues[-1] / args.ues[0]
        print(f"growth {args.ues[0]} -> {args.ues[-1]} UEs (x{ratio:g}): wall x"
              f"{walls[-1] / walls[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
