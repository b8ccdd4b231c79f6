"""A third-party plug-in, as a package outside edgestream would write it.

It registers through entry points only (``edgestream_demo-0.1.dist-info``), never by
importing edgestream's registries: a ``ping`` workload (each user of its groups
sends a small message to a site and back every `interval`; the summary reports the
round trips) and an ABR policy ``lowest`` (always the lowest level).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field
from rich.table import Table

from sim.net.topology import Topology
from sim.qos.overview import ms, new_table, value_at
from sim.run.workload import RunContext, SummarySection
from sim.scenario.problems import Problem
from sim.scenario.quantities import PositiveDuration, PositiveSize
from sim.scenario.references import ReferenceChecker
from sim.scenario.spec_base import Name
from sim.scenario.workload_spec import WorkloadSpec
from sim.sites import storage_site
from sim.stats import latency_summary
from streaming.abr import AbrState


class PingSpec(WorkloadSpec):
    """Users that ping a site."""

    kind: Literal["ping"]
    clients: list[Name] = Field(min_length=1, description="User groups that ping.")
    site: Name = Field("cloud", description='"cloud", "nearest_mec" or a node name.')
    interval: PositiveDuration = Field(1.0, description="Time between pings of a user.")
    size: PositiveSize = Field(100.0, description="Bytes of a ping (and of its echo).")

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        checker.check_clients(index, self.clients)
        checker.check_store(("workloads", index, "site"), self.site, "site")


def _pings(section: Mapping[str, Any]) -> Table:
    table = new_table("pings (round trip in ms)", ("workload", "pings", "mean", "max"))
    for name, sec in section.items():
        table.add_row(name, str(sec.get("pings", "-")), ms(value_at(sec, "rtt_s", "mean")),
                      ms(value_at(sec, "rtt_s", "max")))
    return table


PINGS = SummarySection("pings", _pings, counts=frozenset({"pings"}))


class Ping:
    """The ping workload: one simpy process per user."""

    spec_class: ClassVar[type[WorkloadSpec]] = PingSpec
    sections: ClassVar[tuple[SummarySection, ...]] = (PINGS,)
    plots: ClassVar[str] = ""

    def __init__(self, spec: PingSpec, ctx: RunContext) -> None:
        self.spec, self.ctx = spec, ctx
        self.sent: list[float] = []
        self.rtt: list[float] = []

    @staticmethod
    def route_problems(spec: PingSpec, index: int, topology: Topology) -> list[Problem]:
        problems: list[Problem] = []
        for j, group in enumerate(spec.clients):
            attach = topology.groups[group].attach
            site = storage_site(topology, spec.site, attach)
            if site is None:
                problems.append(Problem(("workloads", index, "clients", j), "no site"))
        return problems

    def start(self) -> None:
        env = self.ctx.engine.env
        for group in self.spec.clients:
            attach = self.ctx.topology.groups[group].attach
            site = storage_site(self.ctx.topology, self.spec.site, attach)
            assert site is not None
            for i in range(self.ctx.topology.groups[group].count):
                env.process(self._user(f"{group}[{i}]", site))

    def _user(self, user: str, site: str) -> Generator[Any, Any, None]:
        env, network = self.ctx.engine.env, self.ctx.network
        while True:
            t0 = env.now
            yield network.transfer(user, site, self.spec.size)
            yield network.transfer(site, user, self.spec.size)
            self.sent.append(t0)
            self.rtt.append(env.now - t0)
            yield env.timeout(max(0.0, t0 + self.spec.interval - env.now))

    def tables(self) -> dict[str, Mapping[str, np.ndarray]]:
        return {"pings": {"t_send": np.array(self.sent), "rtt_s": np.array(self.rtt)}}

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        sent = np.array(self.sent)
        inside = (sent >= start) & (sent < end)
        order = np.argsort(sent[inside], kind="stable")
        rtt = np.array(self.rtt)[inside][order]
        return {"pings": {self.spec.name: {
            "pings": int(rtt.size), "rtt_s": latency_summary(rtt, sent[inside][order])}}}


class Lowest:
    """ABR policy: always the lowest level."""

    def __init__(self, **params: Any) -> None:
        if params:
            raise TypeError(f"lowest takes no parameters, got {sorted(params)}")

    def choose(self, state: AbrState) -> int:
        return 0
