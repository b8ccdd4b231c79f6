"""Benchmark: a congested campus, and run time against flows sharing one bottleneck.

The scenario is ``scenarios/bench/campus_congested.yaml``: 1,041 users, 500 HD
viewers on one overloaded building uplink (1.25x in the busy minute), a VR lab of
40 headsets at 60 fps, a 200-student live class, 300 5G UEs asking for
recommendations, two MEC sites and a cloud.  Everything runs on one core.

    python benchmarks/congestion.py                     # 60 simulated s
    python benchmarks/congestion.py --duration 1h       # the memory-bound variant
    python benchmarks/congestion.py --duration 10s --timeout 1200
    python benchmarks/congestion.py --scaling           # 50 .. 800 viewers, 20 s each
    python benchmarks/congestion.py --scaling --viewers 50 100 --scaling-duration 10s

Each measured configuration runs in a fresh subprocess, so its peak RSS
(``ru_maxrss``) is its own and not the largest of the runs before it.  A run
prints wall time (build, simulation, tables and summary; no files written),
events, events/s, the network's re-solves, their mean and largest component (in
flows), the peak length of the engine's event heap and the peak RSS, also as it
stood at the end of the simulation (the rest is building tables and summary).

The heap length is sampled by a callback every ``--heap-every`` simulated seconds
(default 10 ms: 6,000 samples a minute, each one ``len()``), so a peak shorter than
that can be missed; the sampler's own events are not counted in ``events``.

``--scaling`` runs ``scenarios/bench/shared_link.yaml`` with N viewers of one
6 Mbit/s rung on a link of N x 4.8 Mbit/s: all N downloads share that link for the
whole run.  The table gives wall time per simulated second and the ratio to the
previous row: about 2 per doubling of N is linear growth, about 4 quadratic.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.engine import Wake  # noqa: E402
from sim.run.builder import Run  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402

CAMPUS = ROOT / "scenarios" / "bench" / "campus_congested.yaml"
SHARED_LINK = ROOT / "scenarios" / "bench" / "shared_link.yaml"
VIEWERS = (50, 100, 200, 400, 800)
SHARE_MBPS = 4.8
"""Link capacity per viewer: 6 Mbit/s offered / 1.25."""


def measure(path: Path, overrides: list[str], heap_every: float) -> dict[str, Any]:
    """Run one scenario here and return its figures (call in a fresh process)."""
    started = time.perf_counter()
    scenario = load_scenario(path, overrides).scenario
    run = Run(scenario)
    env = run.engine.env
    peak = [0, 0, 0]  # [heap length, samples, RSS in kB at the last sample]

    def sample(_: Any) -> None:
        peak[0] = max(peak[0], len(env._queue))
        peak[1] += 1
        if env.now + heap_every < scenario.duration:
            Wake(env, heap_every, sample)
        else:  # the last sample: the peak RSS of the simulation, before the results
            peak[2] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    Wake(env, 0.0, sample)
    output = run.execute()
    wall = time.perf_counter() - started
    net = run.network
    solves = getattr(net, "solves", 0)
    events = output.stats["events"] - peak[1]
    return {
        "wall_s": wall, "simulate_s": output.stats["simulate_s"],
        "sim_s": scenario.duration, "events": events,
        "solves": solves, "solved_flows": getattr(net, "solved_flows", 0),
        "largest_component": getattr(net, "largest_component", 0),
        "peak_heap": peak[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_sim_mb": peak[2] / 1024,
    }


def in_subprocess(path: Path, overrides: list[str], heap_every: float,
                  timeout: float | None) -> dict[str, Any] | None:
    """`measure` in a fresh interpreter; None when it ran out of `timeout` seconds."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path),
           "--heap-every", repr(heap_every)]
    for item in overrides:
        cmd += ["--set", item]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"worker failed with exit code {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def mean_component(r: dict[str, Any]) -> float:
    return r["solved_flows"] / r["solves"] if r["solves"] else 0.0


def report_campus(args: argparse.Namespace) -> int:
    overrides = [f"duration={args.duration}", *args.set]
    r = in_subprocess(CAMPUS, overrides, args.heap_every, args.timeout)
    if r is None:
        print(f"campus_congested, {args.duration}: over the {args.timeout:.0f} s timeout")
        return 1
    print(f"campus_congested, {r['sim_s']:g} simulated s")
    print(f"wall {r['wall_s']:.2f} s (simulation {r['simulate_s']:.2f} s), "
          f"{r['events']:.0f} events, {r['events'] / r['wall_s']:,.0f} events/s")
    print(f"re-solves {r['solves']}, component mean {mean_component(r):.1f} flows, "
          f"max {r['largest_component']}")
    print(f"peak heap {r['peak_heap']} events (sampled every {args.heap_every * 1e3:g} ms), "
          f"peak RSS {r['peak_rss_mb']:.0f} MB ({r['peak_rss_sim_mb']:.0f} MB by the end "
          "of the simulation, before tables and summary)")
    return 0


def report_scaling(args: argparse.Namespace) -> int:
    print(f"shared_link, {args.scaling_duration} simulated, offered load 1.25x the link")
    print(f"{'viewers':>7} {'wall s':>8} {'events':>10} {'re-solves':>10} {'mean comp':>9} "
          f"{'wall/sim s':>10} {'ratio':>6} {'RSS MB':>7}")
    previous: float | None = None
    for n in args.viewers:
        overrides = [f"duration={args.scaling_duration}", f"nodes[viewers].count={n}",
                     f"links[0].bandwidth={n * SHARE_MBPS:g} Mbps", *args.set]
        r = in_subprocess(SHARED_LINK, overrides, args.heap_every, args.timeout)
        if r is None:
            print(f"{n:>7} over the {args.timeout:.0f} s timeout")
            break
        per_sim = r["wall_s"] / r["sim_s"]
        ratio = f"{per_sim / previous:6.2f}" if previous else f"{'':>6}"
        print(f"{n:>7} {r['wall_s']:>8.2f} {r['events']:>10.0f} {r['solves']:>10} "
              f"{mean_component(r):>9.1f} {per_sim:>10.3f} {ratio} {r['peak_rss_mb']:>7.0f}",
              flush=True)
        previous = per_sim
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="60 s", help="simulated time of the campus run")
    parser.add_argument("--scaling", action="store_true",
                        help="wall time against viewers sharing one bottleneck")
    parser.add_argument("--viewers", type=int, nargs="+", default=list(VIEWERS))
    parser.add_argument("--scaling-duration", default="20 s",
                        help="simulated time of each scaling run")
    parser.add_argument("--heap-every", type=float, default=0.01,
                        help="simulated seconds between heap-length samples")
    parser.add_argument("--timeout", type=float, default=None,
                        help="wall seconds after which a run is abandoned")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="scenario override (repeatable)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(measure(args.worker, args.set, args.heap_every)))
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core; workers inherit it
    return report_scaling(args) if args.scaling else report_campus(args)


if __name__ == "__main__":
    raise SystemExit(main())
