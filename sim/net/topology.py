"""The network graph: nodes, directional channels and routes.

A scenario link between `a` and `b` becomes two *channels* (a->b, b->a), each with
its own capacity, so uplink and downlink traffic never compete.  Every member of a
user group gets its own pair of access channels to the group's attachment node,
but the group is one node of the :mod:`networkx` graph: routes are computed once
per group and attachment, and a million users cost a million channel entries, not
a million graph nodes.

Routing is least propagation delay (a 1e-12 s term per hop prefers fewer hops; among
routes still equal, Dijkstra keeps the first found, which follows the order nodes and
links are declared, so the choice is stable); explicit routes take precedence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx
import numpy as np

from sim.scenario.problems import Problem, ScenarioError
from sim.scenario.schema import (
    AccessRate,
    CloudNode,
    DirectionalRate,
    MecNode,
    Scenario,
    UserGroup,
)

__all__ = ["Channel", "Path", "Topology"]


@dataclass(frozen=True)
class Channel:
    """One direction of a link."""

    index: int
    src: str
    dst: str
    capacity: float
    """Bytes per second."""
    delay: float
    jitter: float
    loss: float
    group: str | None = None
    """User group whose access channel this is (None for infrastructure links)."""


@dataclass(frozen=True)
class Path:
    """A route as the flow network sees it."""

    channels: tuple[int, ...]
    delay: float
    """Sum of propagation delays."""
    jitter: tuple[float, ...]
    """Mean extra delay of each channel that has jitter."""
    delivery: float
    """Probability that a packet crosses every channel: prod(1 - loss)."""
    nodes: tuple[str, ...] = field(default=(), compare=False)


class Topology:
    """Graph, channels and routing of one scenario."""

    def __init__(self, scenario: Scenario) -> None:
        self.graph: nx.Graph = nx.Graph()
        self.channels: list[Channel] = []
        self.groups: dict[str, UserGroup] = {}
        self.sites: dict[str, CloudNode | MecNode] = {}
        self._between: dict[tuple[str, str], int] = {}
        self._access_up: dict[str, int] = {}
        """First uplink channel of each group; member i's is first + 2 i."""
        self._routes: dict[tuple[str, str], tuple[str, ...]] = {}
        self._paths: dict[tuple[str, str], Path | None] = {}
        self._build(scenario)

    # ------------------------------------------------------------------ building

    def _add_channel(self, src: str, dst: str, bps: float, delay: float, jitter: float,
                     loss: float, group: str | None = None) -> int:
        index = len(self.channels)
        self.channels.append(Channel(index, src, dst, bps / 8.0, delay, jitter, loss, group))
        return index

    def _build(self, scenario: Scenario) -> None:
        for node in scenario.nodes:
            self.graph.add_node(node.name, kind=node.kind)
            if isinstance(node, UserGroup):
                self.groups[node.name] = node
            elif isinstance(node, CloudNode | MecNode):
                self.sites[node.name] = node
        for link in scenario.links:
            if isinstance(link.bandwidth, DirectionalRate):
                ab, ba = link.bandwidth.a_to_b, link.bandwidth.b_to_a
            elif link.bandwidth is None:
                ab = ba = 8.0  # a trace sets it before anything is sent (sim/net/linktrace.py)
            else:
                ab = ba = link.bandwidth
            self._between[(link.a, link.b)] = self._add_channel(
                link.a, link.b, ab, link.delay, link.jitter, link.loss)
            self._between[(link.b, link.a)] = self._add_channel(
                link.b, link.a, ba, link.delay, link.jitter, link.loss)
            self.graph.add_edge(link.a, link.b, delay=link.delay)
        for group in self.groups.values():
            self._add_access(scenario, group)
        for route in scenario.routes:
            hops = (route.src, *route.via, route.dst)
            self._routes[(route.src, route.dst)] = hops
            if route.symmetric:
                self._routes[(route.dst, route.src)] = hops[::-1]

    def _add_access(self, scenario: Scenario, group: UserGroup) -> None:
        """Each member's uplink and downlink channel (member i's uplink is first + 2 i).

        A radio member's channels carry the air latency as their delay; their
        capacity is set by the radio model (its cell's time share of the UE's peak
        rate) before anything is sent, so the placeholder here is never used.
        """
        acc = group.access
        if acc is None:
            up_delay, down_delay = radio_delays(scenario)
            up = down = 8.0  # placeholder: 1 byte/s until the radio model sets it
            jitter = loss = 0.0
        else:
            up_delay = down_delay = acc.delay
            jitter, loss = acc.jitter, acc.loss
            if isinstance(acc.bandwidth, AccessRate):
                up, down = acc.bandwidth.uplink, acc.bandwidth.downlink
            else:
                up = down = acc.bandwidth
        self._access_up[group.name] = len(self.channels)
        for i in range(group.count):
            member = f"{group.name}[{i}]"
            self._add_channel(member, group.attach, up, up_delay, jitter, loss, group.name)
            self._add_channel(group.attach, member, down, down_delay, jitter, loss, group.name)
        self.graph.add_edge(group.name, group.attach, delay=max(up_delay, down_delay),
                            access=True)

    # ------------------------------------------------------------------- routing

    def node_path(self, src: str, dst: str) -> tuple[str, ...] | None:
        """Infrastructure nodes from `src` to `dst` (both not user groups), or None."""
        if src == dst:
            return (src,)
        explicit = self._routes.get((src, dst))
        if explicit is not None:
            return explicit
        infra = nx.subgraph_view(self.graph, filter_node=lambda n: n not in self.groups)
        try:
            _, nodes = nx.single_source_dijkstra(infra, src, dst, weight=_delay_then_hops)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        return tuple(nodes)

    def path(self, src: str, dst: str) -> Path | None:
        """Path between two infrastructure nodes (cached), or None if unreachable."""
        key = (src, dst)
        if key not in self._paths:
            nodes = self.node_path(src, dst)
            self._paths[key] = None if nodes is None else self._path_of(
                [self._between[hop] for hop in pairwise(nodes)], nodes)
        return self._paths[key]

    def _path_of(self, channels: Sequence[int], nodes: tuple[str, ...]) -> Path:
        chans = [self.channels[c] for c in channels]
        delivery = float(np.prod([1.0 - c.loss for c in chans])) if chans else 1.0
        return Path(
            channels=tuple(channels),
            delay=sum(c.delay for c in chans),
            jitter=tuple(c.jitter for c in chans if c.jitter > 0),
            delivery=delivery,
            nodes=nodes,
        )

    def uplink(self, group: str, member: int) -> int:
        return self._access_up[group] + 2 * member

    def downlink(self, group: str, member: int) -> int:
        return self._access_up[group] + 2 * member + 1

    def user_paths(self, group: str, site: str) -> tuple[list[Path], list[Path]] | None:
        """Per-member (up, down) paths between a user group and a node, or None."""
        attach = self.groups[group].attach
        up = self.path(attach, site)
        down = self.path(site, attach)
        if up is None or down is None:
            return None
        ups, downs = [], []
        for i in range(self.groups[group].count):
            ups.append(self._path_of((self.uplink(group, i), *up.channels),
                                     (f"{group}[{i}]", *up.nodes)))
            downs.append(self._path_of((*down.channels, self.downlink(group, i)),
                                       (*down.nodes, f"{group}[{i}]")))
        return ups, downs

    def nearest(self, src: str, candidates: Sequence[str]) -> str | None:
        """The candidate with the least propagation delay from `src` (ties: by name)."""
        best: tuple[float, int, str] | None = None
        for name in sorted(candidates):
            p = self.path(src, name)
            if p is None:
                continue
            key = (p.delay, len(p.channels), name)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    # ------------------------------------------------------------------ checking

    def channel(self, src: str, dst: str) -> int:
        """The channel of the link from `src` to `dst`."""
        return self._between[(src, dst)]

    def require_path(self, src: str, dst: str, loc: tuple[str | int, ...],
                     problems: list[Problem], what: str) -> None:
        if self.path(src, dst) is None or self.path(dst, src) is None:
            problems.append(Problem(loc, f"{what}: no route between \"{src}\" and \"{dst}\""))

    @staticmethod
    def raise_if(problems: list[Problem]) -> None:
        if problems:
            raise ScenarioError(problems)

    def capacities(self) -> np.ndarray:
        return np.array([c.capacity for c in self.channels], dtype=float)

    def channel_name(self, index: int) -> str:
        c = self.channels[index]
        return f"{c.src}->{c.dst}"


def _delay_then_hops(_u: str, _v: str, data: dict[str, float]) -> float:
    # A tiny per-hop term prefers fewer hops among equal-delay routes.
    return float(data["delay"]) + 1e-12


def radio_delays(scenario: Scenario) -> tuple[float, float]:
    """Mean one-way air latency (uplink, downlink) of the scenario's cells."""
    from sim.radio.air_delay import mean_air_delays  # only scenarios with radio need it

    assert scenario.radio is not None
    return mean_air_delays(scenario.radio)
