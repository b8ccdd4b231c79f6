"""The impairment stage: a UDP forwarder per leg that delays, jitters, drops and
rate-limits the real packets between a peer and the relay.

Each leg has two sockets on 127.0.0.1, one facing the peer and one facing the
relay.  Signalling rewrites each side's ICE candidate to the socket that faces
it, so the peer believes the relay lives at the peer-facing socket and the relay
believes the peer lives at the relay-facing one; every packet of the leg (ICE,
DTLS, RTP, RTCP, SCTP) crosses the stage, and replies go back the way they came,
so both sides see symmetric addresses and ICE succeeds on the single pair.

Per direction, a packet is dropped with the leg's loss probability, then queued
behind the packets before it at the leg's rate (dropped if the queue holds more
than :data:`BUFFER` seconds of data), then delivered after the fixed delay plus
the jitter draws.  Delivery keeps the order of sending, as a single path does;
jitter therefore delays a packet by at least as much as the packet before it.
Each direction draws from its own random stream, spawned from the run's seed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from streaming.webrtc.plan import Direction

__all__ = ["BUFFER", "DirectionCounters", "ImpairedLeg"]

BUFFER = 0.25
"""Queue at a leg's rate, s, beyond which packets are tail-dropped."""

Address = tuple[str, int]


@dataclass
class DirectionCounters:
    """What one direction of a leg did to the packets it carried."""

    packets: int = 0
    bytes: int = 0
    lost: int = 0
    """Dropped by the loss draw."""
    overflow: int = 0
    """Dropped because the rate queue was full."""
    delays: list[float] = field(default_factory=list)
    """Queueing + delay + jitter of each forwarded packet, s (the first 10,000)."""


class _Way:
    """One direction: impair and forward datagrams to a fixed address."""

    def __init__(self, spec: Direction, rng: np.random.Generator,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.spec = spec
        self.rng = rng
        self.loop = loop
        self.out: asyncio.DatagramTransport | None = None
        self.to: Address | None = None
        self.counters = DirectionCounters()
        self._free_at = 0.0
        self._last = 0.0

    def push(self, data: bytes) -> None:
        c = self.counters
        c.packets += 1
        c.bytes += len(data)
        spec = self.spec
        if self.out is None or self.to is None:
            return  # the far side has not answered yet; ICE retransmits
        now = self.loop.time()
        if spec.loss > 0.0 and self.rng.random() < spec.loss:
            c.lost += 1
            return
        start = max(now, self._free_at)
        if start - now > BUFFER:
            c.overflow += 1
            return
        self._free_at = start + len(data) / spec.rate
        at = self._free_at + spec.delay
        for mean in spec.jitter:
            at += self.rng.exponential(mean)
        at = max(at, self._last)
        self._last = at
        if len(c.delays) < 10_000:
            c.delays.append(at - now)
        if at <= now:
            self.out.sendto(data, self.to)
        else:
            self.loop.call_at(at, self._send, data)

    def _send(self, data: bytes) -> None:
        if self.out is not None and not self.out.is_closing():
            self.out.sendto(data, self.to)


class _Face(asyncio.DatagramProtocol):
    def __init__(self, way: _Way) -> None:
        self.way = way

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.way.push(data)


class ImpairedLeg:
    """The two sockets of one leg and the two directions between them."""

    def __init__(self, name: str, to_relay: Direction, to_peer: Direction,
                 seed: np.random.SeedSequence) -> None:
        self.name = name
        up_seed, down_seed = seed.spawn(2)
        loop = asyncio.get_running_loop()
        self.to_relay = _Way(to_relay, np.random.default_rng(up_seed), loop)
        self.to_peer = _Way(to_peer, np.random.default_rng(down_seed), loop)
        self._transports: list[asyncio.DatagramTransport] = []

    async def open(self) -> tuple[Address, Address]:
        """Bind both sockets; returns (peer-facing, relay-facing) addresses."""
        loop = asyncio.get_running_loop()
        peer_side, _ = await loop.create_datagram_endpoint(
            lambda: _Face(self.to_relay), local_addr=("127.0.0.1", 0))
        relay_side, _ = await loop.create_datagram_endpoint(
            lambda: _Face(self.to_peer), local_addr=("127.0.0.1", 0))
        self._transports = [peer_side, relay_side]
        # Packets from the peer leave through the relay-facing socket, and back.
        self.to_relay.out = relay_side
        self.to_peer.out = peer_side
        return peer_side.get_extra_info("sockname")[:2], relay_side.get_extra_info("sockname")[:2]

    def connect(self, *, peer: Address | None = None, relay: Address | None = None) -> None:
        """The real address of an end, from its ICE candidate (the peer's comes with
        its offer, the relay's with the answer)."""
        if peer is not None:
            self.to_peer.to = peer
        if relay is not None:
            self.to_relay.to = relay

    def close(self) -> None:
        for transport in self._transports:
            transport.close()
