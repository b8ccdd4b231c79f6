"""Shared fixtures: small scenarios built in code, and a flow network on a chain."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
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


def run_measured(command: list[str], timeout: float, **popen: Any
                 ) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run a command to its end; return it and *its own* peak RSS in KiB.

    ``getrusage(RUSAGE_CHILDREN)`` is the largest of every child this test process
    ever reaped, so an earlier heavy test would count; ``wait4`` gives this child's.
    Output goes through files, so the child is reaped here and not by ``communicate``.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, **popen)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        if not killer.is_alive() and process.returncode == -9:
            raise subprocess.TimeoutExpired(command, timeout)
        out.seek(0)
        err.seek(0)
        return (subprocess.CompletedProcess(command, process.returncode, out.read(), err.read()),
                int(usage.ru_maxrss))
