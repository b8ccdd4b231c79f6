"""Service placement: which site serves a request, chosen when it is sent.

A policy sees the candidate sites of the sender's group, nearest first, each with
the network part of its expected latency (fixed per group: propagation both ways
plus the request and the response at their routes' bottleneck rates) and its
compute queue as it is now.  It returns a candidate's index, or None to reject
the request (admission control).  Policies are registered in `PLACEMENTS` under
the names used in YAML (``placement.policy``).

The network part is propagation both ways plus the request and the response at
the bottleneck of the routes' fixed-capacity channels; a 5G radio hop adds its
mean air latency (in the route's delay) but not a transfer time, since its rate
changes with load and position and is not known when the workload is built.

The latency of a new job at a site is ``network + wait + service``.  With k =
max(0, jobs + 1 - c) jobs to leave before a server frees up for it, the wait of
a FIFO c-server queue is taken as k departure gaps of mean m/c and standard
deviation s/c (m, s: the service time's mean and standard deviation; exact for
exponential service, where the gaps are Exp(c/m)).  `latency_aware` needs a
quantile of it: wait + service is matched to a gamma distribution by its mean and
variance (exact for the Erlang wait of exponential service, close with the own
service added), whose quantile scipy inverts.  Only what a load report would
carry is used: jobs in the system, servers, the service-time model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from edge.schema import PlacementSpec
from sim.compute import ComputeSite
from sim.net.network import Route
from sim.net.topology import Topology
from sim.registry import Registry
from sim.run.workload import RunContext
from sim.scenario.problems import Problem

__all__ = ["PLACEMENTS", "Candidate", "PlacedRoutes", "PlacementPolicy", "candidate_sites",
           "expected_latency", "latency_quantile", "make_placement", "placed_routes",
           "placement_problems"]


@dataclass
class Candidate:
    """A site one client group may use."""

    name: str
    site: ComputeSite
    network: float
    """Propagation both ways + request and response at the bottleneck rates (s)."""
    mean_service: float
    is_cloud: bool
    sd_service: float = 0.0


def _ahead(c: Candidate) -> int:
    site = c.site
    return max(0, site.busy + site.queue_length + 1 - site.servers)


def expected_latency(c: Candidate) -> float:
    """Mean latency of a new job at `c` now: network + FIFO wait + service."""
    return c.network + _ahead(c) * c.mean_service / c.site.servers + c.mean_service


def latency_quantile(c: Candidate, q: float) -> float:
    """The q-quantile of a new job's latency at `c` now (gamma-matched, see the module)."""
    k, servers = _ahead(c), c.site.servers
    mean = k * c.mean_service / servers + c.mean_service
    var = k * (c.sd_service / servers) ** 2 + c.sd_service ** 2
    if var <= 0.0:
        return c.network + mean
    from scipy.special import gammaincinv  # scipy only for runs that place by latency

    shape = mean * mean / var
    return c.network + var / mean * float(gammaincinv(shape, q))


class PlacementPolicy(Protocol):
    def choose(self, candidates: Sequence[Candidate]) -> int | None:
        """Index of the serving candidate (nearest first), or None to reject."""


PLACEMENTS: Registry[Callable[[PlacementSpec], PlacementPolicy]] = Registry("placement")


@PLACEMENTS.register("cloud_only")
class CloudOnly:
    def __init__(self, spec: PlacementSpec) -> None:
        del spec

    def choose(self, candidates: Sequence[Candidate]) -> int | None:
        return next(i for i, c in enumerate(candidates) if c.is_cloud)


@PLACEMENTS.register("nearest_mec")
class NearestMec:
    """The nearest MEC site, whatever its load; the cloud only if there is none."""

    def __init__(self, spec: PlacementSpec) -> None:
        del spec

    def choose(self, candidates: Sequence[Candidate]) -> int | None:
        return next((i for i, c in enumerate(candidates) if not c.is_cloud), 0)


@PLACEMENTS.register("least_loaded")
class LeastLoaded:
    """The site with the fewest jobs per server (ties: the nearer)."""

    def __init__(self, spec: PlacementSpec) -> None:
        del spec

    def choose(self, candidates: Sequence[Candidate]) -> int | None:
        loads = [(c.site.busy + c.site.queue_length) / c.site.servers for c in candidates]
        return loads.index(min(loads))


@PLACEMENTS.register("latency_aware")
class LatencyAware:
    """The nearest site whose latency quantile is within the budget, else admission
    control: redirect to the site expected to answer first, or reject."""

    def __init__(self, spec: PlacementSpec) -> None:
        assert spec.budget is not None  # the schema requires it
        self.budget = spec.budget
        self.quantile = spec.quantile
        self.reject = spec.admission == "reject"

    def choose(self, candidates: Sequence[Candidate]) -> int | None:
        for i, c in enumerate(candidates):
            if latency_quantile(c, self.quantile) <= self.budget:
                return i
        if self.reject:
            return None
        expected = [expected_latency(c) for c in candidates]
        return expected.index(min(expected))


def make_placement(spec: PlacementSpec) -> PlacementPolicy:
    return PLACEMENTS.get(spec.policy)(spec)




def candidate_sites(topology: Topology, sites: list[str] | None, attach: str,
                    kind: str) -> list[str]:
    """The candidate sites of users at `attach`, nearest (least propagation) first:
    `sites`, or every site whose compute runs job `kind`; unreachable ones left out."""
    if sites is None:
        sites = [n for n, s in topology.sites.items()
                 if s.compute is not None and kind in s.compute.service]
    reachable = []
    for name in sites:
        path = topology.path(attach, name)
        if path is not None and topology.path(name, attach) is not None:
            reachable.append((path.delay, name))
    return [name for _, name in sorted(reachable)]


def placement_problems(topology: Topology, clients: list[str], index: int,
                       sites: list[str] | None, kind: str) -> list[Problem]:
    """Client groups of workload `index` that reach no candidate site running `kind`."""
    return [Problem(("workloads", index, "clients", j),
                    f'user group "{group}" reaches no site running job kind "{kind}"')
            for j, group in enumerate(clients)
            if not candidate_sites(topology, sites, topology.groups[group].attach, kind)]


@dataclass
class PlacedRoutes:
    """A user group's candidates and its members' routes to each of them."""

    candidates: list[Candidate]
    up: list[list[Route]]
    down: list[list[Route]]


def placed_routes(ctx: RunContext, group: str, names: list[str], kind: str,
                  request_size: float, response_size: float) -> PlacedRoutes:
    """Routes of every member of `group` to each candidate site, and the candidates'
    network part of the latency (from member 0's routes: a group shares its path)."""
    topo = ctx.topology
    out = PlacedRoutes([], [], [])
    for name in names:
        paths = topo.user_paths(group, name)
        node = topo.sites[name]
        site = ctx.sites[name]
        if paths is None or node.compute is None or not isinstance(site, ComputeSite):
            raise RuntimeError(f"{name} is no reachable compute site of {group}")  # checked
        up = [ctx.network.route(p) for p in paths[0]]
        down = [ctx.network.route(p) for p in paths[1]]
        network = (up[0].delay + request_size / ctx.network.fixed_rate(up[0])
                   + down[0].delay + response_size / ctx.network.fixed_rate(down[0]))
        service = node.compute.service[kind]
        out.candidates.append(Candidate(name, site, network, service.mean(),
                                        node.kind == "cloud", service.std()))
        out.up.append(up)
        out.down.append(down)
    return out
