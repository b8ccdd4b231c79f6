"""What a live run reproduces of a scenario: its live class, and each leg's link.

The live run keeps the scenario's topology out of the kernel: every leg of the
real stream (teacher to relay, relay to each receiver) is one impaired hop whose
parameters are those of the whole simulated route, per direction:

* delay: the sum of the route's propagation delays;
* jitter: the route's jittery channels, each an exponential extra delay of its
  mean, as in the flow network (:mod:`sim.net.network`);
* loss: ``1 - delivery``, the chance that a packet is lost somewhere on the route;
* rate: the route's narrowest channel, served first in, first out.

Receivers are the first members of the student groups, taken in turn (group 1
member 0, group 2 member 0, group 1 member 1, ...), so two receivers see the two
kinds of student access when there are two groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.net.topology import Path, Topology
from sim.scenario.problems import Problem, ScenarioError
from sim.scenario.schema import Scenario, UserGroup
from streaming.live import relay_of
from streaming.schema import LiveClassSpec

__all__ = ["Direction", "Leg", "LivePlan", "live_plan"]


@dataclass(frozen=True)
class Direction:
    """One direction of a leg, as the impairment stage applies it."""

    delay: float = 0.0
    """Fixed one-way delay, s."""
    jitter: tuple[float, ...] = ()
    """Mean of each exponential extra delay, s."""
    loss: float = 0.0
    """Probability that a packet is dropped."""
    rate: float = math.inf
    """Bytes per second; packets queue first in, first out behind it."""

    @property
    def clean(self) -> bool:
        return self.delay == 0.0 and not self.jitter and self.loss == 0.0 \
            and math.isinf(self.rate)


@dataclass(frozen=True)
class Leg:
    """A peer's path to the relay: media one way, feedback the other."""

    name: str
    """"sender" or "receiver-<i>"."""
    group: str
    user: int
    media: Direction
    """The direction the video travels (to the relay for the sender)."""
    feedback: Direction


@dataclass(frozen=True)
class LivePlan:
    """One live class as the live run plays it."""

    scenario: Scenario
    index: int
    """Position of the workload in the scenario's list."""
    spec: LiveClassSpec
    relay: str
    sender: Leg
    receivers: tuple[Leg, ...]

    @property
    def groups(self) -> list[str]:
        return list(self.spec.students)


def _direction(topology: Topology, path: Path) -> Direction:
    rate = min((topology.channels[c].capacity for c in path.channels), default=math.inf)
    return Direction(delay=path.delay, jitter=path.jitter, loss=1.0 - path.delivery, rate=rate)


def live_plan(scenario: Scenario, receivers: int, workload: str | None = None) -> LivePlan:
    """The live class `workload` (default: the first) of a scenario, with `receivers`
    receivers; raises :class:`ScenarioError` naming the key to change."""
    lives = [(i, w) for i, w in enumerate(scenario.workloads) if isinstance(w, LiveClassSpec)]
    if workload is not None:
        lives = [(i, w) for i, w in lives if w.name == workload]
    if not lives:
        what = f'no live_class workload named "{workload}"' if workload else \
            "no live_class workload: the live mode plays a scenario's live class"
        raise ScenarioError([Problem(("workloads",), what)])
    index, spec = lives[0]
    nodes = {n.name: (i, n) for i, n in enumerate(scenario.nodes)}
    problems = []
    for role, group in [("teacher", spec.teacher), *(("students", g) for g in spec.students)]:
        i, node = nodes[group]
        if isinstance(node, UserGroup) and node.radio is not None:
            problems.append(Problem(("nodes", i, "radio"), f'user group "{group}" ({role} of '
                                    f'"{spec.name}") is on 5G radio; the live mode emulates '
                                    "fixed access links only"))
    if problems:
        raise ScenarioError(problems)
    topology = Topology(scenario)
    available = sum(topology.groups[g].count for g in spec.students)
    if not 1 <= receivers <= available:
        raise ScenarioError([Problem(("workloads", index, "students"),
                                     f"{receivers} receivers asked for; the student groups "
                                     f"have {available} members")])
    relay = relay_of(topology, spec)
    ups = None if relay is None else topology.user_paths(spec.teacher, relay)
    if relay is None or ups is None:
        raise ScenarioError([Problem(("workloads", index, "relay"),
                                     "the teacher cannot reach a relay site")])
    sender = Leg("sender", spec.teacher, 0, _direction(topology, ups[0][0]),
                 _direction(topology, ups[1][0]))
    legs: list[Leg] = []
    taken = dict.fromkeys(spec.students, 0)
    while len(legs) < receivers:
        for group in spec.students:
            user = taken[group]
            if len(legs) == receivers or user >= topology.groups[group].count:
                continue
            taken[group] = user + 1
            paths = topology.user_paths(group, relay)
            if paths is None:
                raise ScenarioError([Problem(("workloads", index, "students"),
                                             f'user group "{group}" cannot reach "{relay}"')])
            legs.append(Leg(f"receiver-{len(legs)}", group, user,
                            _direction(topology, paths[1][user]),
                            _direction(topology, paths[0][user])))
    return LivePlan(scenario, index, spec, relay, sender, tuple(legs))
