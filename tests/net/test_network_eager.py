"""Time-varying (eager) channels: the flow network under a radio cell's time shares.

A toy cell with two UEs whose downlink capacity is set by a scheduler; completion
times are worked out by hand from the shares.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import simpy

from sim.engine import Wake
from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.scenario.schema import Scenario

MBPS = 1e6 / 8  # bytes per second in one Mbps
MB = 1e6


def cell_network() -> tuple[FlowNetwork, list[int]]:
    spec = {
        "name": "cell", "duration": "100 s",
        "nodes": [{"name": "gnb", "kind": "router"}, {"name": "srv", "kind": "router"},
                  {"name": "ues", "kind": "users", "count": 2, "attach": "gnb",
                   "access": {"bandwidth": "1 Mbps", "delay": 0}}],
        "links": [{"a": "srv", "b": "gnb", "bandwidth": "10 Gbps", "delay": 0}],
    }
    topo = Topology(Scenario.model_validate(spec))
    net = FlowNetwork(simpy.Environment(), topo, np.random.default_rng(0))
    down = [topo.downlink("ues", i) for i in range(2)]
    net.mark_eager(down)
    return net, down


def attach_cell(net: FlowNetwork, down: list[int], peak_mbps: list[float],
                rule: Callable[[list[bool]], list[float]]) -> None:
    """A cell whose scheduler `rule` maps the UEs' activity to time shares."""

    def resplit(_channel: int, _busy: bool) -> None:
        active = [net.busy(c) for c in down]
        shares = rule(active)
        net.set_capacities(down, [s * p * MBPS for s, p in zip(shares, peak_mbps, strict=True)])

    net.on_busy = resplit


def round_robin(active: list[bool]) -> list[float]:
    n = sum(active)
    return [1.0 / n if a else 1.0 for a in active]


def max_ci_first(active: list[bool]) -> list[float]:
    return [1.0, 0.0] if active[0] else [0.0, 1.0]


def finish_times(net: FlowNetwork, sizes: list[float]) -> list[float]:
    done = [0.0, 0.0]
    for i, size in enumerate(sizes):
        def record(_: object, i: int = i) -> None:
            done[i] = net.env.now
        net.send(net.route_between("srv", f"ues[{i}]"), size, record, None)
    net.env.run()
    return done


def test_round_robin_cell_shares_time_then_gives_the_rest_to_the_survivor() -> None:
    net, down = cell_network()
    attach_cell(net, down, [300, 60], round_robin)
    # Both active: 150 and 30 Mbps.  UE1's 3 MB take 0.8 s; UE0 has sent 15 MB by
    # then and sends its last 15 MB alone at 300 Mbps: 0.4 s more.
    assert finish_times(net, [30 * MB, 3 * MB]) == [pytest.approx(1.2), pytest.approx(0.8)]


def test_max_ci_cell_starves_the_weaker_ue_until_the_stronger_is_done() -> None:
    net, down = cell_network()
    attach_cell(net, down, [300, 60], max_ci_first)
    # UE0 alone: 30 MB at 300 Mbps = 0.8 s; UE1 waits, then 3 MB at 60 Mbps = 0.4 s.
    assert finish_times(net, [30 * MB, 3 * MB]) == [pytest.approx(0.8), pytest.approx(1.2)]
    assert net.bytes_delivered == pytest.approx(33 * MB)


def test_capacity_change_mid_flow_is_applied_to_the_rest_of_the_message() -> None:
    net, down = cell_network()
    net.set_capacities(down, [100 * MBPS, 100 * MBPS])
    Wake(net.env, 0.4, lambda _: net.set_capacities(down[:1], [40 * MBPS]))
    # 5 MB by 0.4 s at 100 Mbps, the other 5 MB at 40 Mbps take 1 s.
    assert finish_times(net, [10 * MB, 0.0])[0] == pytest.approx(1.4)


def test_only_eager_channels_can_change_and_only_before_routes() -> None:
    net, down = cell_network()
    with pytest.raises(ValueError, match="not eager"):
        net.set_capacities([0], [1.0])
    net.route_between("srv", "ues[0]")
    with pytest.raises(RuntimeError):
        net.mark_eager(down)
