"""Properties of the flow network that must hold for any topology and traffic."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.scenario.schema import Scenario


@st.composite
def traffic(draw: st.DrawFn) -> tuple[dict[str, object], list[tuple[float, str, str, float]]]:
    """A random tree of routers with random capacities, and random messages on it."""
    n = draw(st.integers(2, 7))
    links = []
    for i in range(1, n):
        parent = draw(st.integers(0, i - 1))
        links.append({
            "a": f"r{parent}", "b": f"r{i}",
            "bandwidth": draw(st.floats(1e5, 1e9)),
            "delay": draw(st.floats(0, 0.05)),
            "loss": draw(st.sampled_from([0.0, 0.0, 0.01, 0.2])),
        })
    spec = {"name": "prop", "duration": 100,
            "nodes": [{"name": f"r{i}", "kind": "router"} for i in range(n)], "links": links}
    messages = draw(st.lists(
        st.tuples(st.floats(0, 5), st.integers(0, n - 1), st.integers(0, n - 1),
                  st.floats(0, 5e6)),
        min_size=1, max_size=25))
    msgs = [(t, f"r{a}", f"r{b}", size) for t, a, b, size in messages if a != b]
    return spec, msgs


def simulate(spec: dict[str, object], msgs: list[tuple[float, str, str, float]],
             passive: frozenset[int] = frozenset()
             ) -> tuple[FlowNetwork, list[tuple[int, float]]]:
    """Send the messages; those whose index is in `passive` with send_passive."""
    topo = Topology(Scenario.model_validate(spec))
    env = simpy.Environment()
    net = FlowNetwork(env, topo, np.random.default_rng(0))
    delivered: list[tuple[int, float]] = []
    order = sorted(range(len(msgs)), key=lambda k: msgs[k][0])
    for k in order:
        t, src, dst, size = msgs[k]
        env.run(until=max(t, env.now + 1e-12)) if t > env.now else None
        if k in passive:
            net.send_passive(net.route_between(src, dst), size,
                             lambda key, t: delivered.append((key, t)), k)
        else:
            net.send(net.route_between(src, dst), size,
                     lambda key: delivered.append((key, env.now)), k)
    end = 1e8  # long after the last message: every one has arrived
    env.run(until=end)
    net.horizon = end
    net.flush(end)
    return net, delivered


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic())
def test_no_channel_ever_exceeds_its_capacity(case: tuple) -> None:  # type: ignore[type-arg]
    spec, msgs = case
    net, _ = simulate(spec, msgs)
    seg = net.segments()
    changes: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for route, t0, t1, rate in zip(seg["route"], seg["t0"], seg["t1"], seg["rate"], strict=True):
        for c in net.segment_sets[route]:
            changes[c].append((t0, rate))
            changes[c].append((t1, -rate))
    for c, events in changes.items():
        events.sort()
        load, peak = 0.0, 0.0
        times = sorted({t for t, _ in events})
        by_time: dict[float, float] = defaultdict(float)
        for t, d in events:
            by_time[t] += d
        for t in times:
            load += by_time[t]
            peak = max(peak, load)
        assert peak <= net.capacity[c] * (1 + 1e-9), f"channel {c}: {peak} > {net.capacity[c]}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic())
def test_bytes_delivered_equal_bytes_sent(case: tuple) -> None:  # type: ignore[type-arg]
    spec, msgs = case
    net, delivered = simulate(spec, msgs)
    assert sorted(k for k, _ in delivered) == list(range(len(msgs)))
    assert net.messages_delivered == net.messages_sent == len(msgs)
    # Both sums are exact up to the order of floating-point additions.
    assert net.bytes_delivered == pytest.approx(net.bytes_sent, rel=1e-12)
    # Each channel carried the bytes of the messages that cross it, each inflated by
    # its route's loss overhead.
    seg = net.segments()
    carried: dict[int, float] = defaultdict(float)
    for s, t0, t1, rate in zip(seg["route"], seg["t0"], seg["t1"], seg["rate"], strict=True):
        for c in net.segment_sets[s]:
            carried[c] += (t1 - t0) * rate
    expected: dict[int, float] = defaultdict(float)
    for _, src, dst, size in msgs:
        route = net.route_between(src, dst)
        for c in route.channels:
            expected[c] += size * route.overhead
    for c in set(carried) | set(expected):
        assert carried[c] == pytest.approx(expected[c], rel=1e-6, abs=1e-3), f"channel {c}"


@settings(max_examples=50, deadline=None)
@given(traffic())
def test_same_input_same_output(case: tuple) -> None:  # type: ignore[type-arg]
    spec, msgs = case
    a = simulate(spec, msgs)
    b = simulate(spec, msgs)
    assert a[1] == b[1]
    for key in ("route", "t0", "t1", "rate"):
        assert np.array_equal(a[0].segments()[key], b[0].segments()[key])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic(), st.randoms(use_true_random=False))
def test_passive_messages_arrive_when_active_ones_would(
        case: tuple, rnd: random.Random) -> None:  # type: ignore[type-arg]
    # A passive send saves the delivery event; it must report the same arrival time.
    spec, msgs = case
    passive = frozenset(k for k in range(len(msgs)) if rnd.random() < 0.5)
    _, active_times = simulate(spec, msgs)
    net, mixed_times = simulate(spec, msgs, passive)
    assert sorted(mixed_times) == sorted(active_times)
    assert net.messages_delivered == len(msgs)
