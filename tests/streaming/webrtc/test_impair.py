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


async def _through(direction: Direction, packets: int, size: int = 100, spacing: float = 0.0,
                   burst: int = 1) -> tuple[list[float], Arrivals, ImpairedLeg]:
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
        if spacing and k % burst == burst - 1:
            await asyncio.sleep(spacing)
        elif k % 50 == 49:  # unpaced, the sockets' buffers could overflow: let the stage catch up
            while leg.to_relay.counters.packets < k + 1:
                await asyncio.sleep(0.001)
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


def _frames(jitter: tuple[float, ...], frames: int = 60, burst: int = 9, size: int = 1200,
            rate: float = 25e6 / 8) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Frames of `burst` packets at 30 fps through a leg: (arrival order, arrival
    times by frame and packet, send time of each frame's first packet)."""
    sent, got, _ = asyncio.run(_through(Direction(delay=0.0092, jitter=jitter, rate=rate),
                                        frames * burst, size=size, spacing=1 / 30,
                                        burst=burst))
    order = [int.from_bytes(d[:4], "big") for _, d in got]
    arrivals = np.array([t for t, _ in got]).reshape(frames, burst)
    return order, arrivals, np.array(sent).reshape(frames, burst)[:, 0]


def test_bursts_keep_their_order_and_share_one_jitter_draw() -> None:
    # Frames of 9 packets of 1,200 B through a jittery 25 Mbit/s leg: the packets
    # of a frame leave the sender back to back.
    order, arrivals, first_sent = _frames((0.002,))
    assert order == list(range(len(order)))
    # Within a frame, packets are spaced by their serialisation (0.38 ms each),
    # not by independent jitter draws (2 ms mean each).
    spread = arrivals[:, -1] - arrivals[:, 0]
    assert float(np.median(spread)) == pytest.approx(8 * 1200 / (25e6 / 8), abs=0.0015)
    # A frame's extra delay over the same leg without jitter is one exponential
    # draw (mean 2 ms), not the largest of nine draws (mean 5.7 ms).  The stage's
    # own timer overhead is the same in both runs and cancels.
    _, plain, plain_sent = _frames(())
    extra = (arrivals[:, 0] - first_sent).mean() - (plain[:, 0] - plain_sent).mean()
    assert float(extra) == pytest.approx(0.002, abs=0.0012)
