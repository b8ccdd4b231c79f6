"""Benchmark: the same sweep serially and with N local worker processes.

Runs ``run_sim.py sweep`` on the acceptance sweep ``scenarios/sweeps/users_latency.yaml``
(W(N) with N = 50, 100, 200, 400 users x 3 replications) with its simulated time
raised to the benchmark's 600 s (``--duration``; the shipped file's 60 s runs are
too short for anything but start-up to show) into temporary results folders,
first serially, then with ``--workers N`` (default 2), and prints both wall times
and the speedup.  Each time is the whole command as a user waits for it — start-up
and imports, planning, starting the workers, the runs, the aggregated tables —
so nothing the pool costs is left out.  The two sweeps' ``runs.parquet`` must
come out byte-identical, which is checked too.

    python benchmarks/sweep_scaling.py
    python benchmarks/sweep_scaling.py --workers 4 --repeat 3 --sweep my_sweep.yaml
    python benchmarks/sweep_scaling.py --duration ""      # the sweep file's own duration

The speedup can only approach N with N idle cores: other processes on the
machine (the load average is printed) take their share from the workers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "scenarios" / "sweeps" / "users_latency.yaml"


def with_duration(sweep: Path, duration: str, folder: Path) -> Path:
    """A copy of `sweep` in `folder` whose runs last `duration` (same name, so same tables)."""
    spec = yaml.safe_load(sweep.read_text(encoding="utf-8"))
    spec["base"] = str((sweep.parent / spec["base"]).resolve())
    spec["set"] = [s for s in spec.get("set", []) if not s.startswith("duration=")]
    spec["set"].append(f"duration={duration}")
    copy = folder / sweep.name
    copy.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return copy


def timed_sweep(sweep: Path, root: Path, workers: int) -> float:
    """Wall time of ``run_sim.py sweep`` with `workers` processes into a fresh `root`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    command = [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(sweep), "--out",
               str(root), "--workers", str(workers), "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _runs_table(root: Path) -> bytes:
    (table,) = root.glob("sweeps/*/runs.parquet")
    return table.read_bytes()


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", type=Path, default=SWEEP, help="sweep file to run")
    parser.add_argument("--duration", default="600 s",
                        help='simulated time of every run (default "600 s"; "" keeps the file\'s)')
    parser.add_argument("--workers", type=int, default=2, help="processes of the parallel run")
    parser.add_argument("--repeat", type=int, default=2,
                        help="sweeps per mode, alternating (best is shown; default 2)")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    duration = args.duration or "as in the file"
    print(f"sweep {args.sweep.name} (duration {duration}), {_cpus()} CPUs, "
          f"load average {load:.2f} before")
    serial: list[float] = []
    parallel: list[float] = []
    identical = True
    with tempfile.TemporaryDirectory(prefix="sweep-scaling-") as tmp:
        sweep = with_duration(args.sweep, args.duration, Path(tmp)) if args.duration else args.sweep
        for i in range(args.repeat):
            serial.append(timed_sweep(sweep, Path(tmp) / f"serial{i}", 1))
            parallel.append(timed_sweep(sweep, Path(tmp) / f"parallel{i}", args.workers))
            identical &= _runs_table(Path(tmp) / f"serial{i}") == _runs_table(
                Path(tmp) / f"parallel{i}")
    print(f"{'':>12} {'best s':>8} {'all runs s':>24}")
    for label, walls in (("serial", serial), (f"{args.workers} workers", parallel)):
        print(f"{label:>12} {min(walls):>8.2f} {' '.join(f'{w:.2f}' for w in walls):>24}")
    print(f"speedup {min(serial) / min(parallel):.2f}x with {args.workers} workers; "
          f"runs.parquet identical: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
