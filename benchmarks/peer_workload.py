"""Benchmark: the reference request/response workload W(N), timed on one core.

W(N): one cloud; 10 MEC sites linked to it (1 Gbps, 20 ms); N users split evenly
over the sites, each on its own link (100 Mbps, 5 ms); Poisson requests, 1 per
second per user, of 10 kB; exponential service at the MEC site (mean 10 ms, 4
servers); 10% forwarded to the cloud (64 servers, mean 5 ms); 100 kB responses;
600 s simulated.  `scenarios/bench/peer_workload.yaml` is W(1000).

    python benchmarks/peer_workload.py            # N = 100 and 1000
    python benchmarks/peer_workload.py --users 1000 --repeat 3

The analytic mean latency adds the unloaded transfer times (propagation + size /
bottleneck) to the M/M/c mean response times (Erlang C) of the MEC site and the
cloud.  It ignores the rare moments when two messages of one user overlap on
its access link, which the simulation does model.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.run import Run  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402
from sim.theory import mmc_response  # noqa: E402

SCENARIO = ROOT / "scenarios" / "bench" / "peer_workload.yaml"
SITES = 10


def analytic_mean_latency(users: int) -> float:
    """Mean request latency of W(N) in seconds."""
    mbps = 1e6 / 8
    uplink = 0.005 + 10e3 / (100 * mbps)
    local_down = 0.005 + 100e3 / (100 * mbps)
    forward = 0.020 + 10e3 / (1000 * mbps)
    cloud_down = 0.025 + 100e3 / (100 * mbps)
    per_site = users / SITES
    mec = mmc_response(0.9 * per_site, 1 / 0.010, 4)
    cloud = mmc_response(0.1 * users, 1 / 0.005, 64)
    return uplink + 0.9 * (mec + local_down) + 0.1 * (forward + cloud + cloud_down)


def run_once(users: int) -> dict[str, float]:
    overrides = [f"nodes[users{i}].count={users // SITES}" for i in range(SITES)]
    loaded = load_scenario(SCENARIO, overrides)
    started = time.perf_counter()
    output = Run(loaded.scenario).execute()
    wall = time.perf_counter() - started
    latency = output.summary["requests"]["request"]["latency_s"]
    sent = output.summary["requests"]["request"]["sent"]
    return {
        "users": users, "wall_s": wall, "simulate_s": output.stats["simulate_s"],
        "events": output.stats["events"], "requests": sent,
        "mean_ms": latency["mean"] * 1e3, "p95_ms": latency["p95"] * 1e3,
        "analytic_ms": analytic_mean_latency(users) * 1e3,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per N (best is shown)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as specified
    header = (f"{'N':>6} {'wall s':>8} {'sim s':>7} {'events/s':>10} {'requests/s':>11} "
              f"{'mean ms':>8} {'analytic':>9} {'error':>7} {'p95 ms':>7}")
    print(header)
    for users in args.users:
        runs = [run_once(users) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["wall_s"])
        error = best["mean_ms"] / best["analytic_ms"] - 1
        print(f"{users:>6} {best['wall_s']:>8.2f} {best['simulate_s']:>7.2f} "
              f"{best['events'] / best['wall_s']:>10.0f} "
              f"{best['requests'] / best['wall_s']:>11.0f} "
              f"{best['mean_ms']:>8.3f} {best['analytic_ms']:>9.3f} {error:>+7.2%} "
              f"{best['p95_ms']:>7.2f}")
        if args.repeat > 1:
            walls = np.array([r["wall_s"] for r in runs])
            print(f"{'':>6} wall over {args.repeat} runs: min {walls.min():.2f}, "
                  f"median {np.median(walls):.2f}, max {walls.max():.2f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
          " (the whole process, every run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
