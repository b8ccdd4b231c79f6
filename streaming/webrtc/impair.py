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
the jitter draws.  Delivery keeps the order of sending, as a single path does:
packets wait in one first-in first-out line per direction, released by one
timer, so a packet is never delivered before the one ahead of it.

Jitter is drawn per *burst*, not per packet: packets that arrive less than
:data:`BURST_GAP` after the one before (the packets of one video frame, which
the sender writes back to back) share the draws of the burst's first packet.
That is what the flow network does, one draw per message and jittery channel
(:mod:`sim.net.network`); drawn per packet, a frame would wait for the largest of
its packets' draws.  Each direction draws from its own random stream, spawned
from the run's seed.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from streaming.webrtc.plan import Direction

__all__ = ["BUFFER", "BURST_GAP", "DirectionCounters", "ImpairedLeg"]

BUFFER = 0.25
"""Queue at a leg's rate, s, beyond which packets are tail-dropped."""
BURST_GAP = 0.001
"""Packets closer than this to the previous one share its jitter draws, s."""
SOCKET_BUFFER = 1 << 22
"""Receive buffer asked for on the stage's sockets, bytes: room for bursts while
the supervisor's loop is busy, instead of drops in the kernel."""

Address = tuple[str, int]


@dataclass
class DirectionCounters:
    """What one direction of a leg did to the packets it carried."""

    packets: int = 0
    """Packets offered once both ends were known."""
    bytes: int = 0
    early: int = 0
    """Packets that came before the far end's address was known (ICE retries them)."""
    lost: int = 0
    """Dropped by the loss draw."""
    overflow: int = 0
    """Dropped because the rate queue was full."""
    delays: list[float] = field(default_factory=list)
    """Queueing + delay + jitter of each forwarded packet, s (the first 10,000)."""


class _Way:
    """One direction: impair and forward datagrams to a fixed address, in order."""

    def __init__(self, spec: Direction, rng: np.random.Generator,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.spec = spec
        self.rng = rng
        self.loop = loop
        self.out: asyncio.DatagramTransport | None = None
        self.to: Address | None = None
        self.counters = DirectionCounters()
        self._free_at = 0.0
        self._last_arrival = -1.0
        self._jitter = 0.0
        self._line: deque[tuple[float, bytes]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def push(self, data: bytes) -> None:
        c = self.counters
        if self.out is None or self.to is None:
            c.early += 1
            return  # the far side has not answered yet; ICE retransmits
        c.packets += 1
        c.bytes += len(data)
        spec = self.spec
        now = self.loop.time()
        if now - self._last_arrival >= BURST_GAP:
            self._jitter = sum(float(self.rng.exponential(mean)) for mean in spec.jitter)
        self._last_arrival = now
        if spec.loss > 0.0 and self.rng.random() < spec.loss:
            c.lost += 1
            return
        start = max(now, self._free_at)
        if start - now > BUFFER:
            c.overflow += 1
            return
        self._free_at = start + len(data) / spec.rate
        at = self._free_at + spec.delay + self._jitter
        if self._line:
            at = max(at, self._line[-1][0])
        if len(c.delays) < 10_000:
            c.delays.append(at - now)
        self._line.append((at, data))
        if self._timer is None:
            self._timer = self.loop.call_at(at, self._release)

    def _release(self) -> None:
        """Send every packet whose time has come, in order; wake for the next."""
        self._timer = None
        now = self.loop.time()
        line = self._line
        while line and line[0][0] <= now:
            _, data = line.popleft()
            if self.out is not None and not self.out.is_closing():
                self.out.sendto(data, self.to)
        if line:
            self._timer = self.loop.call_at(line[0][0], self._release)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._line.clear()


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
        for transport in self._transports:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
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
        self.to_relay.close()
        self.to_peer.close()
        for transport in self._transports:
            transport.close()
