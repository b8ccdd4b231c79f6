"""The plug-in point for traffic: what a workload gets from the run and gives back.

The engine, network and topology know no workload.  A workload class is
registered under the ``kind`` its YAML entry uses; the run builder instantiates it
with the typed spec and a :class:`RunContext`, calls :meth:`Workload.start`, and
after the run collects its per-event tables and its summary section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sim.engine import Engine
from sim.network import FlowNetwork
from sim.registry import Registry
from sim.scenario.problems import Problem
from sim.scenario.schema import Scenario
from sim.topology import Topology

__all__ = ["WORKLOADS", "RunContext", "Table", "Workload", "clients_reach"]

Table = dict[str, np.ndarray]
"""A columnar table: column name -> 1-D array, all of one length."""


class Site(Protocol):
    """What workloads need of a compute site (see :class:`edge.compute.ComputeSite`)."""

    name: str

    def submit(self, kind: str, done: Any, data: Any, priority: int = 0,
               scale: float = 1.0) -> None: ...

    def has_kind(self, kind: str) -> bool: ...


@dataclass
class RunContext:
    """Everything of one run a workload may use."""

    scenario: Scenario
    engine: Engine
    topology: Topology
    network: FlowNetwork
    sites: dict[str, Site]
    labels: dict[str, int] = field(default_factory=dict)

    def label(self, name: str) -> int:
        """A stable small integer for a name (node, group, class) used in tables."""
        return self.labels.setdefault(name, len(self.labels))


class Workload(Protocol):
    """A traffic source of one run."""

    def __init__(self, spec: Any, ctx: RunContext) -> None: ...

    @staticmethod
    def route_problems(spec: Any, index: int, topology: Topology) -> list[Problem]:
        """Checked before the run is built: e.g. users that cannot reach their site."""

    def start(self) -> None:
        """Schedule the first events."""

    def tables(self) -> dict[str, Table]:
        """Per-event tables of this workload, by table name."""

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        """Summary sections, e.g. ``{"requests": {name: {...}}}``, over [start, end)."""


WORKLOADS: Registry[type[Workload]] = Registry("workload")


def clients_reach(topology: Topology, clients: Sequence[str], index: int,
                  site_of: Callable[[str], str | None]) -> list[Problem]:
    """Route problems of client groups that must reach the site ``site_of(attach)``."""
    problems: list[Problem] = []
    for j, group in enumerate(clients):
        attach = topology.groups[group].attach
        loc = ("workloads", index, "clients", j)
        site = site_of(attach)
        if site is None:
            problems.append(Problem(loc, f'user group "{group}" reaches no MEC site'))
            continue
        topology.require_path(attach, site, loc, problems,
                              f'user group "{group}" cannot reach "{site}"')
    return problems
