"""The flow network against a brute-force fluid simulation written independently of it.

The reference re-solves max-min fairness over *every* flow in transit at every
arrival and completion (progressive filling, `max_min_rates`) and advances each
flow's remaining bytes by hand: no fast path, no classes, no virtual clocks.
Delivery times must agree to 1e-9 relative, also when many flows share one
bottleneck (the case that flow classes make cheap).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.net.maxmin import max_min_rates
from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.scenario.schema import Scenario
from tests.net.test_network_properties import traffic

Message = tuple[float, str, str, float]


def reference_deliveries(net: FlowNetwork, msgs: list[Message]) -> dict[int, float]:
    """Arrival time of each message, by brute force over the network's routes."""
    routes = [net.route_between(src, dst) for _, src, dst, _ in msgs]
    order = sorted(range(len(msgs)), key=lambda k: msgs[k][0])
    left = {k: msgs[k][3] * routes[k].overhead for k in order}
    done: dict[int, float] = {}
    t = 0.0
    waiting = list(order)
    sending: list[int] = []
    while waiting or sending:
        if sending:
            chans = sorted({c for k in sending for c in routes[k].channels})
            row = {c: i for i, c in enumerate(chans)}
            weights = np.zeros((len(chans), len(sending)))
            for j, k in enumerate(sending):
                for c in routes[k].channels:
                    weights[row[c], j] = 1.0
            rates = max_min_rates(weights, np.array([net.capacity[c] for c in chans]))
            ends = [t + left[k] / r for k, r in zip(sending, rates, strict=True)]
            t_done = min(ends)
        else:
            rates, ends, t_done = np.zeros(0), [], math.inf
        t_arrive = msgs[waiting[0]][0] if waiting else math.inf
        t_next = min(t_done, t_arrive)
        still = []
        for k, r, end in zip(sending, rates, ends, strict=True):
            if end <= t_next * (1 + 1e-12):
                done[k] = end + routes[k].delay
            else:
                left[k] -= r * (t_next - t)
                still.append(k)
        sending = still
        t = t_next
        while waiting and msgs[waiting[0]][0] <= t:
            k = waiting.pop(0)
            if left[k] <= 0 or not routes[k].channels:
                done[k] = t + routes[k].delay
            else:
                sending.append(k)
    return done


def network_deliveries(spec: dict[str, object], msgs: list[Message]
                       ) -> tuple[FlowNetwork, dict[int, float]]:
    topo = Topology(Scenario.model_validate(spec))
    env = simpy.Environment()
    net = FlowNetwork(env, topo, np.random.default_rng(0))
    got: dict[int, float] = {}
    for k in sorted(range(len(msgs)), key=lambda k: msgs[k][0]):
        t, src, dst, size = msgs[k]
        if t > env.now:
            env.run(until=t)
        net.send(net.route_between(src, dst), size,
                 lambda key: got.__setitem__(key, env.now), k)
    env.run()
    return net, got


@st.composite
def crowded(draw: st.DrawFn) -> tuple[dict[str, object], list[Message]]:
    """Many flows through one bottleneck from a user group (one access link each)."""
    users = draw(st.integers(2, 40))
    spec = {"name": "crowd", "duration": 100,
            "nodes": [{"name": "cloud", "kind": "cloud"}, {"name": "r", "kind": "router"},
                      {"name": "u", "kind": "users", "count": users, "attach": "r",
                       "access": {"bandwidth": draw(st.floats(1e5, 1e8)), "delay": 0.001}}],
            "links": [{"a": "cloud", "b": "r", "bandwidth": draw(st.floats(1e5, 1e8)),
                       "delay": draw(st.floats(0, 0.02))}]}
    msgs = draw(st.lists(
        st.tuples(st.floats(0, 2), st.integers(0, users - 1), st.booleans(),
                  st.sampled_from([1e4, 1e5, 1e6, 3e5])),
        min_size=1, max_size=60))
    out: list[Message] = []
    for t, i, down, size in msgs:
        out.append((t, "cloud", f"u[{i}]", size) if down else (t, f"u[{i}]", "cloud", size))
    return spec, out


def _assert_same(spec: dict[str, object], msgs: list[Message]) -> None:
    net, got = network_deliveries(spec, msgs)
    want = reference_deliveries(net, msgs)
    assert sorted(got) == sorted(want) == list(range(len(msgs)))
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-9, abs=1e-12), f"message {k}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic())
def test_delivery_times_equal_a_brute_force_fluid_simulation(case: tuple) -> None:  # type: ignore[type-arg]
    _assert_same(*case)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded())
def test_many_flows_on_one_bottleneck_match_the_brute_force_simulation(case: tuple) -> None:  # type: ignore[type-arg]
    _assert_same(*case)
