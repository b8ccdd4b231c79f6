"""The flow-level network against hand-computed transfer times and max-min allocations."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from conftest import chain_scenario

from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.scenario.schema import Scenario

MBPS = 1e6 / 8  # bytes per second in one Mbps


def network(capacities: list[float], delays: list[float], **extra: object) -> FlowNetwork:
    spec = {**chain_scenario(capacities, delays), **extra}
    topo = Topology(Scenario.model_validate(spec))
    return FlowNetwork(simpy.Environment(), topo, np.random.default_rng(0),
                       Scenario.model_validate(spec).network.tcp)


def test_single_transfer_is_propagation_plus_size_over_bottleneck() -> None:
    net = network([100, 10, 1000], [5, 7, 1])
    arrived: list[float] = []
    net.send(net.route_between("r0", "r3"), 1_000_000, lambda _: arrived.append(net.env.now),
             None)
    net.env.run()
    # 13 ms of propagation + 8 Mbit over the 10 Mbps bottleneck.
    assert arrived == [pytest.approx(0.013 + 1_000_000 / (10 * MBPS), rel=1e-12)]


def test_transfer_event_fires_when_last_byte_arrives() -> None:
    net = network([50], [2])
    done = net.transfer("r1", "r0", 250_000)
    net.env.run(until=done)
    assert net.env.now == pytest.approx(0.002 + 250_000 / (50 * MBPS), rel=1e-12)


def _initial_rates(net: FlowNetwork) -> list[float]:
    """Each flow's rate (Mbps) right after the flows sent at time 0 started."""
    return [rate / MBPS for rate in net.current_rates().values()]


def test_parking_lot_allocation() -> None:
    # Links of 10, 20 and 30 Mbps; one long flow over all three, one short flow per
    # link.  Progressive filling: link 0 saturates first at 5 Mbps each (long and
    # short 0); then short 1 takes the rest of link 1 (20 - 5 = 15) and short 2 the
    # rest of link 2 (30 - 5 = 25).
    net = network([10, 20, 30], [1, 1, 1])
    big = 1e12
    net.send(net.route_between("r0", "r3"), big, lambda _: None, "long")
    for i in range(3):
        net.send(net.route_between(f"r{i}", f"r{i + 1}"), big, lambda _: None, f"short{i}")
    net.env.run(until=1.0)
    # The allocation with all four flows present, in sending order.
    final = [rate / MBPS for rate in net.current_rates().values()]
    assert final == pytest.approx([5, 5, 15, 25], rel=1e-9)


def test_rates_are_re_solved_when_a_flow_leaves() -> None:
    # Two flows on one 10 Mbps link, 1 MB and 2 MB, both from t = 0: at 5 Mbps each
    # the first ends at 1.6 s; the second has 1 MB left, now at 10 Mbps: 0.8 s more.
    net = network([10], [0])
    ends: dict[str, float] = {}
    route = net.route_between("r0", "r1")
    net.send(route, 1_000_000, lambda k: ends.__setitem__(k, net.env.now), "a")
    net.send(route, 2_000_000, lambda k: ends.__setitem__(k, net.env.now), "b")
    net.env.run()
    assert ends["a"] == pytest.approx(1.6, rel=1e-12)
    assert ends["b"] == pytest.approx(2.4, rel=1e-12)


def test_late_joiner_slows_a_lone_flow() -> None:
    # A 1 MB flow alone at 10 Mbps would end at 0.8 s.  At 0.4 s (half sent) a second
    # 1 MB flow joins: both at 5 Mbps, the first needs 0.8 s more (ends 1.2 s); the
    # second has 0.5 MB left then, alone at 10 Mbps: 0.4 s more (ends 1.6 s).
    net = network([10], [0])
    ends: dict[str, float] = {}
    route = net.route_between("r0", "r1")
    net.send(route, 1_000_000, lambda k: ends.__setitem__(k, net.env.now), "first")
    net.env.run(until=0.4)
    net.send(route, 1_000_000, lambda k: ends.__setitem__(k, net.env.now), "second")
    net.env.run()
    assert ends == {"first": pytest.approx(1.2, rel=1e-12), "second": pytest.approx(1.6, rel=1e-12)}


def test_directions_do_not_compete() -> None:
    net = network([10], [0])
    ends: list[float] = []
    net.send(net.route_between("r0", "r1"), 1_000_000, lambda _: ends.append(net.env.now), None)
    net.send(net.route_between("r1", "r0"), 1_000_000, lambda _: ends.append(net.env.now), None)
    net.env.run()
    assert ends == [pytest.approx(0.8), pytest.approx(0.8)]


def test_loss_inflates_bytes_on_the_wire() -> None:
    spec = chain_scenario([10], [0])
    spec["links"][0]["loss"] = 0.2
    topo = Topology(Scenario.model_validate(spec))
    net = FlowNetwork(simpy.Environment(), topo, np.random.default_rng(0))
    net.transfer("r0", "r1", 800_000)
    net.env.run()
    # 800 kB delivered needs 800 / 0.8 = 1000 kB sent: 0.8 s at 10 Mbps.
    assert net.env.now == pytest.approx(0.8, rel=1e-12)


def test_tcp_window_caps_the_rate() -> None:
    # window / RTT = 64 kB / (2 x 50 ms) = 640 kB/s, below the 100 Mbps link.
    net = network([100], [50], network={"tcp": {"window": "64 kB"}})
    net.transfer("r0", "r1", 640_000)
    net.env.run()
    assert net.env.now == pytest.approx(0.05 + 1.0, rel=1e-12)


def test_jitter_adds_its_mean_delay() -> None:
    spec = chain_scenario([1000], [10])
    spec["links"][0]["jitter"] = "5 ms"
    topo = Topology(Scenario.model_validate(spec))
    env = simpy.Environment()
    net = FlowNetwork(env, topo, np.random.default_rng(7))
    route = net.route_between("r0", "r1")
    starts: list[float] = []
    delays: list[float] = []

    def arrived(start: float) -> None:
        delays.append(env.now - start)

    for k in range(20_000):
        env.run(until=k * 0.01 + 1e-9)
        starts.append(env.now)
        net.send(route, 0, arrived, env.now)
    env.run()
    # Exponential jitter of mean 5 ms on top of 10 ms: sample mean within 3 SE.
    mean = float(np.mean(delays))
    assert abs(mean - 0.015) < 3 * 0.005 / np.sqrt(len(delays))
    assert min(delays) >= 0.010


def test_passive_arrivals_are_reported_within_the_run_only() -> None:
    # 1 MB at 10 Mbps takes 0.8 s: sent at 0 it arrives within a 1 s run; sent at
    # 0.5 s it would arrive at 1.3 s, after the end, and is not reported.
    net = network([10], [0])
    net.horizon = 1.0
    seen: list[tuple[str, float]] = []
    r01, r10 = net.route_between("r0", "r1"), net.route_between("r1", "r0")
    net.send_passive(r01, 1_000_000, lambda k, t: seen.append((k, t)), "early")
    net.env.run(until=0.5)
    net.send_passive(r10, 1_000_000, lambda k, t: seen.append((k, t)), "late")
    net.env.run(until=1.0)
    assert seen == []  # nothing looked at the channels yet: no event was spent
    net.flush(1.0)
    assert seen == [("early", pytest.approx(0.8, rel=1e-12))]
    assert net.messages_delivered == 1


def test_explicit_route_overrides_least_latency() -> None:
    # Triangle: a-c direct (10 ms) is the least-latency path; an explicit route
    # a -> b -> c (20 + 20 ms) must be obeyed all the same.
    spec = {"name": "tri", "duration": 10,
            "nodes": [{"name": n, "kind": "router"} for n in "abc"],
            "links": [{"a": "a", "b": "c", "bandwidth": "1 Gbps", "delay": "10 ms"},
                      {"a": "a", "b": "b", "bandwidth": "1 Gbps", "delay": "20 ms"},
                      {"a": "b", "b": "c", "bandwidth": "1 Gbps", "delay": "20 ms"}]}
    topo = Topology(Scenario.model_validate(spec))
    assert topo.node_path("a", "c") == ("a", "c")
    spec["routes"] = [{"src": "a", "dst": "c", "via": ["b"]}]
    topo = Topology(Scenario.model_validate(spec))
    assert topo.node_path("a", "c") == ("a", "b", "c")
    assert topo.node_path("c", "a") == ("c", "b", "a")  # symmetric by default
    net = FlowNetwork(simpy.Environment(), topo, np.random.default_rng(0))
    net.transfer("a", "c", 0)
    net.env.run()
    assert net.env.now == pytest.approx(0.040)


def _star(leaves: int) -> FlowNetwork:
    """A relay behind a 100 Mbps link to a hub with `leaves` 20 Mbps links."""
    nodes = [{"name": n, "kind": "router"} for n in ("relay", "hub")]
    nodes += [{"name": f"l{i}", "kind": "router"} for i in range(leaves)]
    links = [{"a": "relay", "b": "hub", "bandwidth": "100 Mbps", "delay": "1 ms"}]
    links += [{"a": "hub", "b": f"l{i}", "bandwidth": "20 Mbps", "delay": "2 ms"}
              for i in range(leaves)]
    spec = Scenario.model_validate({"name": "star", "duration": 100, "nodes": nodes,
                                    "links": links})
    return FlowNetwork(simpy.Environment(), Topology(spec), np.random.default_rng(0))


@pytest.mark.parametrize("passive", [False, True])
def test_a_fan_out_shares_the_bottleneck_and_is_solved_once_each_way(passive: bool) -> None:
    # Ten copies of 1 MB cross the 100 Mbps link together: 10 Mbps each (the 20 Mbps
    # leaf links are not the bottleneck), so each arrives after 0.8 s + 3 ms.
    net = _star(10)
    routes = [net.route_between("relay", f"l{i}") for i in range(10)]
    arrived: dict[int, float] = {}
    if passive:
        ids = net.send_many(routes, 1e6, arrived.__setitem__, list(range(10)), True)
    else:
        ids = net.send_many(routes, 1e6, lambda i: arrived.__setitem__(i, net.env.now),
                            list(range(10)))
    net.env.run()
    assert ids == list(range(10))
    assert sorted(arrived) == list(range(10))
    assert all(t == pytest.approx(0.003 + 1e6 / (10 * MBPS), rel=1e-12)
               for t in arrived.values())
    # One solve at the start; at the common end all ten leave together and nothing
    # is left to solve.  One by one it would take a solve per start and per end.
    assert net.solves == 1


def test_a_fan_out_arrives_as_the_same_flows_sent_one_by_one() -> None:
    def arrivals(mode: str) -> dict[int, float]:
        net = _star(6)
        routes = [net.route_between("relay", f"l{i}") for i in range(6)]
        # A long flow already on the bottleneck makes the shares unequal over time.
        net.send(net.route_between("relay", "l0"), 3e6, lambda _: None, None)
        got: dict[int, float] = {}

        def arrived(i: int) -> None:
            got[i] = net.env.now

        if mode == "many":
            net.send_many(routes, 5e5, arrived, list(range(6)))
        else:
            for i, route in enumerate(routes):
                net.send(route, 5e5, arrived, i)
        net.env.run()
        return got

    sizes = {mode: arrivals(mode) for mode in ("many", "one")}
    for i in range(6):
        assert sizes["many"][i] == pytest.approx(sizes["one"][i], rel=1e-9)
