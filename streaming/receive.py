"""The receive side of a WebRTC leg: a jitter buffer and NACK retransmission.

Used by the live class (:mod:`streaming.live`) at the relay and at each student,
so that its frame latency runs from capture to display as on the real aiortc path.

**Release rule** (``jitter_buffer: aiortc``).  aiortc's video jitter buffer
(``aiortc/jitterbuffer.py``) keeps packets in sequence-number order from the
oldest one it still holds; it hands a frame to the decoder only once every
packet of that frame is there *and* the packet after the frame's last one (the
first packet of the next frame, which carries another RTP timestamp) has
arrived, since that is how it learns the frame is over.  Frames therefore leave
in order, each about one frame interval after its own last packet.  Here frame
i leaves at ``max(release of i-1, i complete, first packet of i+1 arrived)``.
A frame that will never be complete (its retransmission was lost too) is skipped:
the frames behind it go on as if it had not been sent.  (aiortc would hold them
until the missing packet is asked for again or the buffer overflows; with one
retransmission per loss that takes a packet lost twice, p**2 of them.)

**Retransmission** (``retransmission: nack``).  A receiver that sees a gap in
the sequence numbers asks for the missing packets (RTCP NACK, RFC 4585) and the
sender resends them (RTX, RFC 4588), once: aiortc sends a NACK when it detects
a new gap.  A frame with m of its n packets lost is complete one round trip of
the leg after its last packet, plus the m resent packets' transfer; it is lost
when the NACK (on the reverse direction) or one of the resent packets is lost
too.  Per-packet loss is the route's: each packet arrives with probability q
(:attr:`sim.net.topology.Path.delivery`), so with q_b the reverse route's, a frame of
n packets is lost with probability ``1 - q**n - q_b * ((1 - p**2)**n - q**n)``
(``1 - (1 - p**2)**n`` when the reverse route is lossless), p = 1 - q.
"""

from __future__ import annotations

import math
from typing import Generic, TypeVar

import numpy as np

from sim.net.network import Route

__all__ = ["Nack", "ReleaseOrder", "frame_loss_with_nack", "packets"]

T = TypeVar("T")


def packets(size: float, packet_size: float) -> int:
    """Packets of a frame of `size` bytes (at least one)."""
    return max(1, math.ceil(size / packet_size))


def frame_loss_with_nack(p: float, n: int, p_back: float = 0.0) -> float:
    """Probability that a frame of n packets is lost with one retransmission each,
    with per-packet loss p forward and p_back on the reverse (NACK) direction."""
    q = 1.0 - p
    return 1.0 - q ** n - (1.0 - p_back) * ((1.0 - p * p) ** n - q ** n)


class Nack:
    """One leg's losses and their repair, drawn from one workload's random stream.

    :meth:`outcome` gives the extra time a frame needs after its last byte
    arrived (0 when no packet was lost), or None when it is lost for good.
    """

    def __init__(self, rng: np.random.Generator, packet_size: float, forward: Route,
                 back: Route, retransmit: bool) -> None:
        self.rng = rng
        self.packet_size = packet_size
        self.q = forward.path.delivery
        self.q_back = back.path.delivery
        self.rate = forward.lone_rate
        self.retransmit = retransmit
        self.rtt = (forward.delay + math.fsum(forward.jitter)
                    + back.delay + math.fsum(back.jitter))
        """Propagation both ways plus the mean jitter: what a NACK and its answer take."""
        self._draws: list[float] = []
        self._next = 0

    def _draw(self) -> float:
        i = self._next
        if i == len(self._draws):
            self._draws = self.rng.random(4096).tolist()  # drawn in blocks: cheaper
            i = 0
        self._next = i + 1
        return self._draws[i]

    def outcome(self, size: float) -> float | None:
        q = self.q
        if q >= 1.0:
            return 0.0
        n = packets(size, self.packet_size)
        u = self._draw()
        whole = q ** n
        if u < whole:
            return 0.0
        if not self.retransmit:
            return None
        # The same draw, read through the binomial CDF, says how many were lost.
        p = 1.0 - q
        lost, cdf = 0, whole
        while lost < n and u >= cdf:
            lost += 1
            cdf += math.comb(n, lost) * p ** lost * q ** (n - lost)
        if self._draw() >= self.q_back * q ** lost:
            return None  # the NACK or a resent packet was lost too
        return self.rtt + lost * self.packet_size / self.rate


class ReleaseOrder(Generic[T]):
    """aiortc's release rule for one receiver's frames, numbered 0, 1, 2, ... in
    sending order from `first` (see the module).

    Feed it, in any order, when each frame's first packet arrived
    (:meth:`first_packet`) and when it was complete (:meth:`complete`; None: never);
    both return the frames released by what is known so far, with their release
    times, in order.  The times may lie ahead of the caller's clock.
    """

    __slots__ = ("_done", "_first", "last", "next")

    def __init__(self, first: int) -> None:
        self.next = first
        self.last = -math.inf
        self._done: dict[int, tuple[float | None, T]] = {}
        self._first: dict[int, float] = {}

    def first_packet(self, seq: int, t: float) -> list[tuple[T, float]]:
        self._first[seq] = t
        return self._release()

    def complete(self, seq: int, t: float | None, item: T) -> list[tuple[T, float]]:
        self._done[seq] = (t, item)
        return self._release()

    def held(self) -> list[T]:
        """Frames complete but not released yet (at the end of a run)."""
        return [item for t, item in self._done.values() if t is not None]

    def _release(self) -> list[tuple[T, float]]:
        out: list[tuple[T, float]] = []
        done, first = self._done, self._first
        while True:
            seq = self.next
            entry = done.get(seq)
            if entry is None:
                return out
            t, item = entry
            if t is not None:
                after = first.get(seq + 1)
                if after is None:
                    return out
                t = max(self.last, t, after)
                self.last = t
                out.append((item, t))
            del done[seq]
            first.pop(seq, None)
            self.next = seq + 1
