"""Benchmark: the reference request/response workload W(N), timed on one core.

W(N): one cloud; 10 MEC sites linked to it (1 Gbps, 20 ms); N users split evenly
over the sites, each on its own link (100 Mbps, 5 ms); Poisson requests, 1 per
second per user, of 10 kB; exponential service at the MEC site (mean 10 ms, 4
servers); 10% forwarded to the cloud (64 servers, mean 5 ms); 100 kB responses;
600 s simulated.  `scenarios/bench/peer_workload.yaml` is W(1000).

    python benchmarks/peer_workload.py            # N = 100 and 1000
    python benchmarks/peer_workload.py --users 1000 --repeat 3
    python benchmarks/peer_workload.py --users 1000 --repeat 3 --baseline

With `--baseline` each run of ours is followed by a run of the idiomatic simpy
model of the same workload (`benchmarks/peer_workload_simpy.py`), in the same
process and conditions, and the ratio of wall times ours / baseline is printed:
the best of each, and the median of the ratios of the pairs.

The analytic mean latency (`peer_workload_simpy.analytic_mean_latency`) adds the
unloaded transfer times (propagation + size / bottleneck) to the M/M/c mean
response times (Erlang C) of the MEC site and the cloud.  It ignores the rare
moments when two messages of one user overlap on its access link, which the
simulation does model.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # when imported from elsewhere

from peer_workload_simpy import analytic_mean_latency, run_baseline  # noqa: E402

from sim.run.builder import Run  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "bench" / "peer_workload.yaml"
SITES = 10


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
    parser.add_argument("--baseline", action="store_true",
                        help="interleave runs of the idiomatic simpy model, print ours/baseline")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as specified
    header = (f"{'N':>6} {'wall s':>8} {'sim s':>7} {'events/s':>10} {'requests/s':>11} "
              f"{'mean ms':>8} {'analytic':>9} {'error':>7} {'p95 ms':>7}")
    print(header)
    for users in args.users:
        runs, bases = [], []
        for _ in range(args.repeat):  # interleaved: both see the same drift of the machine
            runs.append(run_once(users))
            if args.baseline:
                bases.append(run_baseline(users))
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
        if bases:
            print_baseline(runs, bases)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
          " (the whole process, every run)")
    return 0


def print_baseline(runs: list[dict[str, float]], bases: list[dict[str, float]]) -> None:
    """The simpy model's row and the wall-time ratios ours / baseline."""
    base = min(bases, key=lambda r: r["wall_s"])
    error = base["mean_ms"] / base["analytic_ms"] - 1
    print(f"{'simpy':>6} {base['wall_s']:>8.2f} {'':>7} {'':>10} "
          f"{base['requests'] / base['wall_s']:>11.0f} "
          f"{base['mean_ms']:>8.3f} {base['analytic_ms']:>9.3f} {error:>+7.2%} "
          f"{base['p95_ms']:>7.2f}")
    ours = min(r["wall_s"] for r in runs)
    pairs = [r["wall_s"] / b["wall_s"] for r, b in zip(runs, bases, strict=True)]
    print(f"{'':>6} ours / simpy baseline: best {ours / base['wall_s']:.3f}, "
          f"median of {len(pairs)} pairs {np.median(pairs):.3f} "
          f"(pairs: {', '.join(f'{p:.3f}' for p in pairs)})")


if __name__ == "__main__":
    raise SystemExit(main())
