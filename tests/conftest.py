"""Shared fixtures: small scenarios built in code, and a flow network on a chain."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

collect_ignore_glob = ["scenario/hostile/*"]
"""Hostile inputs are data for test_hostile_corpus.py, not scenario tests of the plugin."""

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent


def chain_scenario(capacities_mbps: list[float], delays_ms: list[float]) -> dict[str, Any]:
    """Routers r0 - r1 - ... - rK joined by links of the given capacities and delays."""
    nodes = [{"name": f"r{i}", "kind": "router"} for i in range(len(capacities_mbps) + 1)]
    links = [
        {"a": f"r{i}", "b": f"r{i + 1}", "bandwidth": f"{c} Mbps", "delay": f"{d} ms"}
        for i, (c, d) in enumerate(zip(capacities_mbps, delays_ms, strict=True))
    ]
    return {"name": "chain", "duration": "1000 s", "nodes": nodes, "links": links}


def queue_scenario(arrival: float, mean_service: float, servers: int, *, seed: int,
                   duration: float, warmup: float, discipline: str = "fifo") -> dict[str, Any]:
    """One site fed by Poisson requests over an instant network: an M/M/c queue."""
    return {
        "name": "mmc",
        "seed": seed,
        "duration": duration,
        "warmup": warmup,
        "sample_interval": duration / 10,
        "output": {"tables": False, "plots": False},
        "nodes": [
            {"name": "site", "kind": "mec", "compute": {
                "servers": servers, "discipline": discipline,
                "service": {"job": {"dist": "exponential", "mean": mean_service}}}},
            {"name": "users", "kind": "users", "count": 1, "attach": "site",
             "access": {"bandwidth": "1 Gbps", "delay": 0}},
        ],
        "workloads": [{
            "name": "job", "kind": "request_response", "clients": ["users"],
            "arrivals": {"process": "poisson", "rate": arrival},
            "request_size": 0, "response_size": 0, "serve": "site",
        }],
    }


@pytest.fixture
def root() -> Path:
    return ROOT


_HWM_WRAPPER = """
import atexit, os, runpy, sys

def _hwm():
    with open("/proc/self/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["EDGESTREAM_TEST_HWM"], "w") as out:
        out.write(kib)

atexit.register(_hwm)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_measured(command: list[str], timeout: float, **popen: Any
                 ) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``python script args...`` to its end; return it and its peak RSS in KiB.

    The peak is the script's own: ``VmHWM`` of its process after it started, read
    at exit.  ``getrusage`` would also count the forked copy of this (large) test
    process before the exec, and ``RUSAGE_CHILDREN`` every child reaped before.
    """
    if command[0] != sys.executable:
        raise ValueError("run_measured runs Python scripts")
    with tempfile.TemporaryDirectory() as tmp:
        hwm = Path(tmp) / "hwm"
        env = {**popen.pop("env", os.environ), "EDGESTREAM_TEST_HWM": str(hwm)}
        done = subprocess.run([sys.executable, "-c", _HWM_WRAPPER, *command[1:]], env=env,
                              capture_output=True, text=True, timeout=timeout, check=False,
                              **popen)
        assert hwm.exists(), f"the child left no peak RSS (killed?): {done.stderr[-500:]}"
        return done, int(hwm.read_text())


def sabre_dir() -> Path:
    """shared/traces/sabre beside the checkout (CI), or the workplace copy; skip if absent."""
    for candidate in (ROOT.parent / "shared" / "traces" / "sabre",
                      Path("/work/shared/traces/sabre")):
        if candidate.is_dir():
            return candidate
    pytest.skip("shared sabre traces not present")
