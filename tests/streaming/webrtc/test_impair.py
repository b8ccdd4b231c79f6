"""The impairment stage against what its settings imply: a fixed delay, binomial
loss, serialisation at the rate, and order kept under jitter."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pytest

from streaming.webrtc.impair import ImpairedLeg
from streaming.webrtc.plan import Direction


class _Sink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: list[tuple[float, bytes]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.append((time.monotonic(), data))


Arrivals = list[tuple[float, bytes]]


async def _through(direction: Direction, packets: int, size: int = 100,
                   spacing: float = 0.0) -> tuple[list[float], Arrivals, ImpairedLeg]:
    """Send `packets` from a "peer" socket through a leg to a "relay" socket."""
    loop = asyncio.get_running_loop()
    leg = ImpairedLeg("test", direction, Direction(), np.random.SeedSequence(11))
    peer_face, _ = await leg.open()
    peer, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                  local_addr=("127.0.0.1", 0))
    sink = _Sink()
    relay, _ = await loop.create_datagram_endpoint(lambda: sink, local_addr=("127.0.0.1", 0))
    leg.connect(peer=peer.get_extra_info("sockname")[:2],
                relay=relay.get_extra_info("sockname")[:2])
    sent = []
    for k in range(packets):
        sent.append(time.monotonic())
        peer.sendto(k.to_bytes(4, "big") + bytes(size - 4), peer_face)
        if spacing or k % 50 == 49:  # unpaced, the sockets' buffers would overflow
            await asyncio.sleep(spacing or 0.002)
    await asyncio.sleep(0.3 + direction.delay + sum(direction.jitter) * 10)
    for transport in (peer, relay):
        transport.close()
    leg.close()
    return sent, sink.got, leg


def test_a_fixed_delay_delays_every_packet_by_it() -> None:
    sent, got, _ = asyncio.run(_through(Direction(delay=0.05), 40, spacing=0.005))
    assert len(got) == 40
    delays = [t - sent[int.from_bytes(d[:4], "big")] for t, d in got]
    assert min(delays) >= 0.05 - 1e-3
    assert float(np.median(delays)) == pytest.approx(0.05, abs=0.003)


def test_loss_is_binomial_with_the_set_probability() -> None:
    n, p = 4000, 0.05
    _, got, leg = asyncio.run(_through(Direction(loss=p), n))
    lost = n - len(got)
    assert leg.to_relay.counters.packets == n
    assert lost == leg.to_relay.counters.lost
    # Binomial(n, p): mean 200, sd 13.8; 4 sd either way.
    assert abs(lost - n * p) <= 4 * math.sqrt(n * p * (1 - p))


def test_the_rate_serialises_packets_one_after_another() -> None:
    rate = 125_000.0  # 1 Mbit/s: a 1,250-byte packet takes 10 ms
    sent, got, _ = asyncio.run(_through(Direction(rate=rate), 20, size=1250))
    assert len(got) == 20
    span = got[-1][0] - sent[0]
    assert span == pytest.approx(20 * 1250 / rate, abs=0.01)


def test_jitter_keeps_the_order_and_adds_its_mean() -> None:
    sent, got, _ = asyncio.run(_through(Direction(delay=0.01, jitter=(0.005,)), 200,
                                        spacing=0.01))
    order = [int.from_bytes(d[:4], "big") for _, d in got]
    assert order == sorted(order) and len(order) == 200
    delays = np.array([t - sent[k] for (t, _), k in zip(got, order, strict=True)])
    # Spaced 10 ms apart, packets rarely wait for the one before: the mean extra
    # delay is close to the exponential's mean of 5 ms.
    assert float(delays.mean()) == pytest.approx(0.015, abs=0.003)
