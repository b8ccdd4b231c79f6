"""The plug-in point for traffic: what a workload gets from the run and gives back.

The engine, network and topology know no workload.  A workload class is
registered under the ``kind`` its YAML entry uses; the run builder instantiates it
with the typed spec and a :class:`RunContext`, calls :meth:`Workload.start`, and
after the run collects its per-event tables and its summary section.

A workload that keeps caches at sites may also define the static method
``storage_needs(spec, topology) -> list[(site, bytes)]``: the checks before the
run add those up per site against the site's `storage` (:func:`storage_problems`),
and at run time it registers each cache with :meth:`RunContext.store`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from sim.engine import Engine
from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.plugins import load_builtin_plugins
from sim.registry import Registry
from sim.run.records import SpillFolder
from sim.scenario.problems import Problem
from sim.scenario.schema import Scenario
from sim.scenario.units import format_quantity
from sim.scenario.workload_spec import WorkloadSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.table import Table as TerminalTable

    from sim.run.builder import RunOutput

__all__ = ["WORKLOADS", "Plots", "RunContext", "SiteStorage", "SummarySection", "Table", "Workload",
           "clients_reach", "storage_problems", "workload_plots", "workload_sections",
           "workload_specs"]

Table = Mapping[str, np.ndarray]
"""A columnar table: column name -> 1-D array, all of one length."""

Plots = Mapping[str, tuple[str, Callable[["RunOutput"], "Figure"]]]
"""A workload's plots: file stem -> (the table a run must have for it, figure builder)."""


class Site(Protocol):
    """What workloads need of a compute site (see :class:`sim.compute.ComputeSite`)."""

    name: str

    def submit(self, kind: str, done: Any, data: Any, priority: int = 0,
               scale: float = 1.0) -> None: ...

    def has_kind(self, kind: str) -> bool: ...


class Stored(Protocol):
    """What the run reads of a cache kept at a site (see :class:`edge.cache.CachePolicy`)."""

    capacity: int
    used: int


@dataclass
class SiteStorage:
    """The cache storage of one site and the caches workloads keep in it."""

    capacity: float | None
    """Bytes; None: not limited."""
    caches: list[Stored] = field(default_factory=list)

    @property
    def reserved(self) -> float:
        """Bytes the caches may fill (their capacities): checked before the run."""
        return float(sum(c.capacity for c in self.caches))

    @property
    def used(self) -> float:
        """Bytes the caches hold now."""
        return float(sum(c.used for c in self.caches))


@dataclass
class RunContext:
    """Everything of one run a workload may use."""

    scenario: Scenario
    engine: Engine
    topology: Topology
    network: FlowNetwork
    sites: dict[str, Site]
    labels: dict[str, int] = field(default_factory=dict)
    storage: dict[str, SiteStorage] = field(default_factory=dict)
    """Cache storage per site (every MEC and cloud node of the run)."""
    source_dir: str | None = None
    """Directory of the scenario file: relative data files (manifests) are read from it."""
    spill: SpillFolder | None = None
    """Where record logs may go while the run proceeds (sim.run.records); None: memory."""

    def label(self, name: str) -> int:
        """A stable small integer for a name (node, group, class) used in tables."""
        return self.labels.setdefault(name, len(self.labels))

    def store(self, site: str, cache: Stored) -> None:
        """Keep a cache at a site: it counts in the site's storage."""
        self.storage.setdefault(site, SiteStorage(None)).caches.append(cache)


@dataclass(frozen=True)
class SummarySection:
    """A section of ``summary.json`` that workloads write (``requests``, ``frames``, ...):
    how the terminal shows it and which of its leaf names count things (dimensionless
    in ``qos:`` bounds).  Workloads that write the same section share one object."""

    name: str
    table: Callable[[Mapping[str, Any]], TerminalTable]
    """The terminal table of ``summary[name]`` (one row per workload)."""
    counts: frozenset[str] = frozenset()
    order: int = 100
    """Position in the terminal overview (lower first)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Display names of leaf keys where the rule of :mod:`sim.qos.labels` reads badly."""


class Workload(Protocol):
    """A traffic source of one run."""

    spec_class: ClassVar[type[WorkloadSpec]]
    """Its scenario spec: ``kind`` is a Literal of the name it is registered under."""
    sections: ClassVar[tuple[SummarySection, ...]]
    """The summary sections it writes."""
    plots: ClassVar[str]
    """Where its :data:`Plots` are, as "module:ATTRIBUTE" ("" for none): imported only
    when a run draws them, so validating a scenario never imports matplotlib."""

    def __init__(self, spec: Any, ctx: RunContext) -> None: ...

    @staticmethod
    def route_problems(spec: Any, index: int, topology: Topology) -> list[Problem]:
        """Checked before the run is built: e.g. users that cannot reach their site.

        A workload that reads data files may also define a static
        ``file_problems(spec, index, source_dir)``, called with the scenario's folder.
        """

    def start(self) -> None:
        """Schedule the first events."""

    def tables(self) -> dict[str, Table]:
        """Per-event tables of this workload, by table name."""

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        """Summary sections, e.g. ``{"requests": {name: {...}}}``, over [start, end)."""


WORKLOADS: Registry[type[Workload]] = Registry("workload")


def workload_specs() -> dict[str, type[WorkloadSpec]]:
    """The spec of every workload plug-in, built-in or installed (entry points), by kind."""
    load_builtin_plugins()
    WORKLOADS.load_entry_points()
    return {kind: WORKLOADS.get(kind).spec_class for kind in WORKLOADS}


def workload_plots() -> dict[str, tuple[str, Callable[[RunOutput], Figure]]]:
    """Every plot the workload plug-ins draw, by file stem (a run draws those whose
    table it has)."""
    workload_specs()  # loads the plug-ins
    found: dict[str, tuple[str, Callable[[RunOutput], Figure]]] = {}
    for kind in WORKLOADS:
        where = WORKLOADS.get(kind).plots
        if where:
            module, attribute = where.split(":")
            found.update(getattr(importlib.import_module(module), attribute))
    return found


def workload_sections() -> dict[str, SummarySection]:
    """Every summary section the workload plug-ins write, by name, in overview order."""
    workload_specs()  # loads the plug-ins
    found = {s.name: s for kind in WORKLOADS for s in WORKLOADS.get(kind).sections}
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


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


def storage_problems(scenario: Scenario, topology: Topology) -> list[Problem]:
    """Sites whose caches, added up over the workloads, exceed the site's `storage`."""
    needs: dict[str, list[tuple[str, float]]] = {}
    for spec in scenario.workloads:
        hook = getattr(WORKLOADS.get(spec.kind), "storage_needs", None)
        for site, size in [] if hook is None else hook(spec, topology):
            needs.setdefault(site, []).append((spec.name, size))
    problems: list[Problem] = []
    for i, node in enumerate(scenario.nodes):
        storage = getattr(node, "storage", None)
        held = needs.get(node.name, [])
        total = sum(size for _, size in held)
        if storage is None or total <= storage:
            continue
        parts = ", ".join(f"{name} {format_quantity(size, 'size')}" for name, size in held)
        problems.append(Problem(("nodes", i, "storage"), (
            f'the caches kept at "{node.name}" need {format_quantity(total, "size")} ({parts}), '
            f"more than its storage of {format_quantity(storage, 'size')}")))
    return problems
