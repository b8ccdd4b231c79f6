"""Cross-reference checks: every name used in a scenario refers to the right thing.

The schema checks each object alone; these checks look across objects (a link end
must be a node, a workload's site must have compute and a service time for its
job kind, ...).  Problems are keyed by YAML path and located by the loader.
Reachability and routing are checked by :mod:`sim.net.topology`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sim.scenario.problems import Loc, Problem, did_you_mean
from sim.scenario.schema import (
    CloudNode,
    MecNode,
    Node,
    Scenario,
    UserGroup,
)
from sim.scenario.units import format_quantity

__all__ = ["NEAREST_MEC", "THE_CLOUD", "ReferenceChecker", "check_references", "quoted"]

NEAREST_MEC = "nearest_mec"
"""``serve`` keyword: the least-latency MEC site with compute."""
THE_CLOUD = "cloud"
"""``serve``/``forward_to`` keyword: the (single) cloud node with compute."""


def quoted(name: str) -> str:
    """A name as messages show it."""
    return f'"{name}"'


_q = quoted


def _kind(node: Node) -> str:
    return node.kind


class ReferenceChecker:
    """The checks of one scenario's names, and the queries a workload's spec uses for its
    own (:meth:`sim.scenario.workload_spec.WorkloadSpec.check_references`)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.problems: list[Problem] = []
        self.nodes: dict[str, Node] = {}
        self.adjacent: set[frozenset[str]] = set()

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def is_node(self, loc: Loc, name: str, among: Iterable[str] | None = None) -> bool:
        if name in self.nodes:
            return True
        candidates = list(self.nodes if among is None else among)
        self.add(loc, f"{_q(name)} is not a node{did_you_mean(name, candidates)}")
        return False

    # ------------------------------------------------------------------ topology

    def check_nodes(self) -> None:
        first: dict[str, int] = {}
        for i, node in enumerate(self.scenario.nodes):
            if node.name in first:
                self.add(
                    ("nodes", i, "name"),
                    f"duplicate node name {_q(node.name)} (also nodes[{first[node.name]}])",
                )
            else:
                first[node.name] = i
                self.nodes[node.name] = node
        # Once, not per group: per group it made validation quadratic in the groups.
        non_groups = [n for n, x in self.nodes.items() if not isinstance(x, UserGroup)]
        for i, node in enumerate(self.scenario.nodes):
            if not isinstance(node, UserGroup):
                continue
            loc = ("nodes", i, "attach")
            if not self.is_node(loc, node.attach, non_groups):
                continue
            if isinstance(self.nodes[node.attach], UserGroup):
                self.add(
                    loc,
                    f"{_q(node.attach)} is a user group; users attach to a cell, router, "
                    "core or site",
                )
            else:
                self.adjacent.add(frozenset((node.name, node.attach)))

    def check_memory(self) -> None:
        """No job kind may need more memory than its site has: it could never start."""
        for i, node in enumerate(self.scenario.nodes):
            if not isinstance(node, MecNode | CloudNode) or node.memory is None \
                    or node.compute is None:
                continue
            for kind, cost in node.compute.service.items():
                if cost.memory > node.memory:
                    self.add(("nodes", i, "compute", "service", kind, "memory"),
                             f"a {_q(kind)} job needs {format_quantity(cost.memory, 'size')}, "
                             f"more than the site's memory "
                             f"({format_quantity(node.memory, 'size')}): it could never start")

    def check_links(self) -> None:
        seen: dict[frozenset[str], int] = {}
        for i, link in enumerate(self.scenario.links):
            ok = True
            for end in ("a", "b"):
                name = getattr(link, end)
                if not self.is_node(("links", i, end), name):
                    ok = False
                elif isinstance(self.nodes[name], UserGroup):
                    self.add(
                        ("links", i, end),
                        f"{_q(name)} is a user group; user groups connect through "
                        "`attach` and `access`, not links",
                    )
                    ok = False
            if link.a == link.b:
                self.add(("links", i, "b"), f"link from {_q(link.a)} to itself")
                continue
            pair = frozenset((link.a, link.b))
            if pair in seen:
                self.add(
                    ("links", i),
                    f"duplicate link between {_q(link.a)} and {_q(link.b)} "
                    f"(also links[{seen[pair]}])",
                )
                continue
            seen[pair] = i
            if ok:
                self.adjacent.add(pair)

    def check_routes(self) -> None:
        for i, route in enumerate(self.scenario.routes):
            hops: list[tuple[str, Loc]] = [(route.src, ("routes", i, "src"))]
            hops += [(name, ("routes", i, "via", j)) for j, name in enumerate(route.via)]
            hops.append((route.dst, ("routes", i, "dst")))
            known = [self.is_node(loc, name) for name, loc in hops]
            for k in range(len(hops) - 1):
                (here, _), (there, loc) = hops[k], hops[k + 1]
                if known[k] and known[k + 1] and frozenset((here, there)) not in self.adjacent:
                    self.add(loc, f"no link between {_q(here)} and {_q(there)}")

    # ----------------------------------------------------------------- workloads

    def sites(self, kind: type[CloudNode] | type[MecNode]) -> list[str]:
        return [
            name for name, node in self.nodes.items()
            if isinstance(node, kind) and node.compute is not None
        ]

    def resolve_site(self, loc: Loc, name: str, role: str) -> list[str] | None:
        """Names of the sites ``name`` can mean, or None after reporting why it cannot."""
        if name == NEAREST_MEC and role == "serve":
            mecs = self.sites(MecNode)
            if not mecs:
                self.add(loc, f"{_q(NEAREST_MEC)} needs at least one mec node with compute")
                return None
            return mecs
        if name == THE_CLOUD:
            clouds = self.sites(CloudNode)
            if len(clouds) != 1:
                found = "no" if not clouds else f"{len(clouds)}"
                self.add(
                    loc,
                    f"{_q(THE_CLOUD)} needs exactly one cloud node with compute, found {found}"
                    + ("" if not clouds else f" ({', '.join(clouds)}): name one of them"),
                )
                return None
            return clouds
        with_compute = self.sites(MecNode) + self.sites(CloudNode)
        if not self.is_node(loc, name, [*with_compute, NEAREST_MEC, THE_CLOUD]):
            return None
        node = self.nodes[name]
        if not isinstance(node, MecNode | CloudNode) or node.compute is None:
            what = f"a {_kind(node)} node" if not isinstance(node, MecNode | CloudNode) else (
                "a site without compute"
            )
            self.add(loc, f"{_q(name)} is {what}; {role} needs a mec or cloud node with compute")
            return None
        return [name]

    def _service(self, site: str) -> dict[str, object]:
        node = self.nodes[site]
        assert isinstance(node, MecNode | CloudNode) and node.compute is not None
        return dict(node.compute.service)

    def check_service(self, loc: Loc, sites: Sequence[str], job: str) -> None:
        for site in sites:
            node = self.nodes[site]
            assert isinstance(node, MecNode | CloudNode) and node.compute is not None
            if job not in node.compute.service:
                self.add(loc, f"site {_q(site)} has no service time for job kind {_q(job)}")

    def check_clients(self, i: int, clients: Sequence[str]) -> None:
        groups = [n for n, x in self.nodes.items() if isinstance(x, UserGroup)]
        is_group = set(groups)  # a list lookup per client was quadratic in the groups
        for j, client in enumerate(clients):
            loc: Loc = ("workloads", i, "clients", j)
            if self.is_node(loc, client, groups) and client not in is_group:
                self.add(
                    loc, f"{_q(client)} is not a user group (it is a {_kind(self.nodes[client])})"
                )

    def check_store(self, loc: Loc, name: str, role: str) -> None:
        """Stored or relayed media: any mec or cloud node, compute or not."""
        stores = [n for n, x in self.nodes.items() if isinstance(x, MecNode | CloudNode)]
        if name == NEAREST_MEC:
            if not any(isinstance(self.nodes[n], MecNode) for n in stores):
                self.add(loc, f"{_q(NEAREST_MEC)} needs at least one mec node")
        elif name == THE_CLOUD:
            clouds = [n for n in stores if isinstance(self.nodes[n], CloudNode)]
            if len(clouds) != 1:
                self.add(loc, f"{_q(THE_CLOUD)} needs exactly one cloud node, "
                              f"found {len(clouds) or 'no'}")
        elif self.is_node(loc, name, [*stores, NEAREST_MEC, THE_CLOUD]) and name not in stores:
            self.add(loc, f"{_q(name)} is a {_kind(self.nodes[name])} node; "
                          f"{role} needs a mec or cloud node")

    def check_compute(self, i: int, serve: str, job: str, job_loc: Loc) -> list[str] | None:
        """The sites `serve` can mean that run `job`, or None after reporting why none."""
        served = self.resolve_site(("workloads", i, "serve"), serve, "serve")
        if served is not None and serve == NEAREST_MEC:
            # Only the MEC sites that run the job kind compete for "nearest".
            offering = [s for s in served if job in self._service(s)]
            if not offering:
                self.add(job_loc, f"no mec site has a service time for job kind {_q(job)}")
            return offering
        if served is not None:
            self.check_service(job_loc, served, job)
        return served

    def groups(self) -> list[str]:
        """The user groups, in declaration order."""
        return [n for n, x in self.nodes.items() if isinstance(x, UserGroup)]

    def not_a_group(self, loc: Loc, name: str) -> None:
        """Report that node `name` is not a user group."""
        self.add(loc, f"{_q(name)} is not a user group (it is a {_kind(self.nodes[name])})")

    def with_compute(self) -> list[str]:
        """The MEC sites, then the cloud sites, that have compute."""
        return self.sites(MecNode) + self.sites(CloudNode)

    def is_cloud(self, name: str) -> bool:
        return isinstance(self.nodes.get(name), CloudNode)

    def has_mec(self) -> bool:
        return any(isinstance(n, MecNode) for n in self.nodes.values())

    def service_of(self, site: str) -> dict[str, object]:
        """The job kinds a site with compute runs (with their service-time models)."""
        return self._service(site)

    def check_workloads(self) -> None:
        first: dict[str, int] = {}
        for i, workload in enumerate(self.scenario.workloads):
            if workload.name in first:
                self.add(
                    ("workloads", i, "name"),
                    f"duplicate workload name {_q(workload.name)} "
                    f"(also workloads[{first[workload.name]}])",
                )
            else:
                first[workload.name] = i
            workload.check_references(i, self)


def check_references(scenario: Scenario) -> list[Problem]:
    """Problems with names that refer to nothing, or to the wrong kind of thing."""
    checker = ReferenceChecker(scenario)
    checker.check_nodes()
    checker.check_memory()
    checker.check_links()
    checker.check_routes()
    checker.check_workloads()
    from sim.radio.references import check_radio  # it imports this module's peers

    return [*checker.problems, *check_radio(scenario)]
