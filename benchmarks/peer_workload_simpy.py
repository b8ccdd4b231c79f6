"""Baseline: W(N) as an idiomatic simpy model, the yardstick of our engine's speed.

The same workload as ``benchmarks/peer_workload.py`` (and its scenario file),
written the way a simpy user would write it: a process per user that sleeps an
exponential inter-arrival time and starts a process per request; each MEC site and the
cloud are a ``simpy.Resource`` with their servers; every transfer is a
``timeout`` of its uncongested time, propagation + size / bottleneck (the access
link, 100 Mbit/s, is the bottleneck of every route, except the 10 kB forward over
the 1 Gbit/s backhaul).  So there is no flow network and no contention for
links, which W(N) at 1 request/s per user never creates except in the rare
overlaps of one user's two messages that `analytic_mean_latency` also ignores:
the mean latency must match the analytic value to within sampling error.

    python benchmarks/peer_workload_simpy.py                 # N = 100 and 1000
    python benchmarks/peer_workload_simpy.py --users 1000 --repeat 3
    python benchmarks/peer_workload.py --baseline            # ours / this, interleaved

Random numbers come from `random.Random` instances owned by the run (one each
for arrivals, service times and forwarding), as simpy's own examples use
`random`; the wall time covers building and running the model and the latency
statistics.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from array import array
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.theory import mmc_response

SITES = 10
DURATION_S = 600.0
RATE_PER_USER = 1.0
MBPS = 1e6 / 8  # bytes per second in one Mbit/s
UPLINK_S = 0.005 + 10e3 / (100 * MBPS)  # request over the access link
LOCAL_DOWN_S = 0.005 + 100e3 / (100 * MBPS)  # response from the MEC site
FORWARD_S = 0.020 + 10e3 / (1000 * MBPS)  # request over the backhaul
CLOUD_DOWN_S = 0.025 + 100e3 / (100 * MBPS)  # response from the cloud, through the site
MEC_SERVERS, MEC_MEAN_S = 4, 0.010
CLOUD_SERVERS, CLOUD_MEAN_S = 64, 0.005
FORWARD_FRACTION = 0.1


def analytic_mean_latency(users: int) -> float:
    """Mean request latency of W(N) in seconds: the unloaded transfer times plus the
    M/M/c mean response times (Erlang C) of the MEC site and the cloud.

    It ignores the rare moments when two messages of one user overlap on its access
    link, which the flow-level simulation does model.
    """
    mec = mmc_response((1 - FORWARD_FRACTION) * RATE_PER_USER * users / SITES,
                       1 / MEC_MEAN_S, MEC_SERVERS)
    cloud = mmc_response(FORWARD_FRACTION * RATE_PER_USER * users, 1 / CLOUD_MEAN_S,
                         CLOUD_SERVERS)
    return (UPLINK_S + (1 - FORWARD_FRACTION) * (mec + LOCAL_DOWN_S)
            + FORWARD_FRACTION * (FORWARD_S + cloud + CLOUD_DOWN_S))


class WorkloadW:
    """The model: users, MEC sites and the cloud of one run of W(N)."""

    def __init__(self, users: int, seed: int = 1) -> None:
        self.env = simpy.Environment()
        self.arrivals = random.Random(seed * 3 + 0)
        self.service = random.Random(seed * 3 + 1)
        self.forwarding = random.Random(seed * 3 + 2)
        self.sites = [simpy.Resource(self.env, MEC_SERVERS) for _ in range(SITES)]
        self.cloud = simpy.Resource(self.env, CLOUD_SERVERS)
        self.latencies = array("d")
        for user in range(users):
            self.env.process(self.user(self.sites[user * SITES // users]))

    def user(self, site: simpy.Resource) -> Generator[simpy.Event, Any, None]:
        """Poisson requests, each its own process."""
        while True:
            yield self.env.timeout(self.arrivals.expovariate(RATE_PER_USER))
            self.env.process(self.request(site))

    def request(self, site: simpy.Resource) -> Generator[simpy.Event, Any, None]:
        """One request: up, served at the site (or forwarded to the cloud), back down."""
        env = self.env
        sent = env.now
        yield env.timeout(UPLINK_S)
        # 10% forwarded: the site passes the request on without serving it, as the
        # scenario's `forward_fraction` and `analytic_mean_latency` have it.
        if self.forwarding.random() < FORWARD_FRACTION:
            yield env.timeout(FORWARD_S)
            with self.cloud.request() as slot:
                yield slot
                yield env.timeout(self.service.expovariate(1 / CLOUD_MEAN_S))
            yield env.timeout(CLOUD_DOWN_S)
        else:
            with site.request() as slot:
                yield slot
                yield env.timeout(self.service.expovariate(1 / MEC_MEAN_S))
            yield env.timeout(LOCAL_DOWN_S)
        self.latencies.append(env.now - sent)

    def run(self, duration: float = DURATION_S) -> None:
        self.env.run(until=duration)


def run_baseline(users: int, seed: int = 1) -> dict[str, float]:
    """Build, run and summarise W(`users`); wall time and latency figures."""
    started = time.perf_counter()
    model = WorkloadW(users, seed)
    model.run()
    latency = np.frombuffer(model.latencies, dtype=float)
    wall = time.perf_counter() - started
    return {
        "users": users, "wall_s": wall, "requests": float(len(latency)),
        "mean_ms": float(latency.mean()) * 1e3,
        "p95_ms": float(np.percentile(latency, 95)) * 1e3,
        "analytic_ms": analytic_mean_latency(users) * 1e3,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per N (best is shown)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as specified
    print(f"{'N':>6} {'wall s':>8} {'requests/s':>11} {'mean ms':>8} {'analytic':>9} "
          f"{'error':>7} {'p95 ms':>7}")
    for users in args.users:
        runs = [run_baseline(users, args.seed) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["wall_s"])
        error = best["mean_ms"] / best["analytic_ms"] - 1
        print(f"{users:>6} {best['wall_s']:>8.2f} {best['requests'] / best['wall_s']:>11.0f} "
              f"{best['mean_ms']:>8.3f} {best['analytic_ms']:>9.3f} {error:>+7.2%} "
              f"{best['p95_ms']:>7.2f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (the largest run of this process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
