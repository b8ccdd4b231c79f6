"""What every peer process does: loopback-only ICE, a pinned bitrate, the control
loop, and the entry point ``python -m streaming.webrtc.peer ROLE CONFIG``.

Two settings of aiortc are changed inside the peer processes, and only there:

* aioice leaves 127.0.0.1 out of its host candidates; the live mode runs on
  loopback only, so host discovery is replaced by that one address (which also
  keeps the run off every other interface);
* the VP8/H.264 encoders start at 500 kbit/s and let the receiver's REMB steer
  them between 250 kbit/s and 1.5 Mbit/s; the live run pins them to the live
  class's bitrate so that the real stream and the simulated one carry the same
  bits.  Congestion control is therefore not part of the live run.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from streaming.webrtc.control import LIMIT, Channel

if TYPE_CHECKING:
    from aiortc import RTCPeerConnection

__all__ = ["Peer", "cpu_seconds", "main", "now_us", "peer_connection", "primary_stream_counts",
           "transport_bytes"]

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def loopback_only() -> None:
    import aioice.ice

    def addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"] if use_ipv4 else []

    aioice.ice.get_host_addresses = addresses


def pin_bitrate(bps: float) -> None:
    from aiortc.codecs import h264, vpx

    for module in (vpx, h264):
        for name in ("DEFAULT_BITRATE", "MIN_BITRATE", "MAX_BITRATE"):
            setattr(module, name, int(bps))


def peer_connection() -> RTCPeerConnection:
    """An aiortc peer connection for the live run: no STUN server to ask (the run is
    on loopback), and every medium on one transport (max-bundle), so the one host
    candidate the supervisor points at the impairment stage carries the video and
    the data channel alike."""
    from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

    return RTCPeerConnection(RTCConfiguration(iceServers=[],
                                              bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


def primary_stream_counts(pc: RTCPeerConnection) -> tuple[int, int]:
    """(expected, received) RTP packets of the media streams, retransmissions apart.

    aiortc's ``getStats`` reports one inbound stream per receiver, whichever SSRC
    it saw last, so with RTX on it may report the retransmission stream.  These
    counts come from the receiver's per-SSRC statistics instead (RFC 3550: the
    expected count follows the highest sequence number), leaving out the RTX
    SSRCs, so a packet lost and then retransmitted still counts as lost: this is
    the loss of the network, not what is left after repair.
    """
    expected = received = 0
    for rtp in pc.getReceivers():
        streams = getattr(rtp, "_RTCRtpReceiver__remote_streams", {})
        rtx = getattr(rtp, "_RTCRtpReceiver__rtx_ssrc", {})
        for ssrc, stream in streams.items():
            if ssrc not in rtx:
                expected += stream.packets_expected
                received += stream.packets_received
    return expected, received


async def transport_bytes(pc: RTCPeerConnection, key: str) -> int:
    """The transports' byte count `key` ("bytesSent" or "bytesReceived") so far."""
    stats = await pc.getStats()
    return sum(getattr(s, key, 0) or 0 for s in stats.values() if s.type == "transport")


def now_us(epoch: float) -> int:
    """Microseconds since the run's epoch on CLOCK_MONOTONIC, which every process
    on the machine shares."""
    return int((time.monotonic() - epoch) * 1e6)


def cpu_seconds() -> float:
    """CPU time of this process, every thread (the codecs run in threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Peer:
    """A peer's side of the control channel."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.name: str = config["name"]
        self.epoch: float = config["epoch"]
        self.channel: Channel | None = None

    async def event(self, what: str, **data: Any) -> None:
        if self.channel is not None:
            await self.channel.send({"op": "event", "what": what, **data})

    async def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    async def serve(self) -> None:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.config["control_port"], limit=LIMIT)
        self.channel = Channel(reader, writer)
        await self.channel.send({"op": "hello", "name": self.name, "pid": os.getpid(),
                                 "token": self.config["token"]})
        while True:
            message = await self.channel.receive()
            if message is None:  # the supervisor is gone: so are we
                os._exit(0)
            reply = await self.handle(message)
            if reply is not None:
                await self.channel.send(reply)
            if message.get("op") == "stop":
                self.channel.close()
                return


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    role, config = args[0], json.loads(args[1])
    loopback_only()
    pin_bitrate(config["bitrate"])
    peer: Peer
    if role == "sender":
        from streaming.webrtc.sender import Sender
        peer = Sender(config)
    elif role == "relay":
        from streaming.webrtc.relay import Relay
        peer = Relay(config)
    elif role == "receiver":
        from streaming.webrtc.receiver import Receiver
        peer = Receiver(config)
    else:
        raise SystemExit(f"unknown role {role!r}")
    asyncio.run(peer.serve())
    # aiortc's codec threads can hold the interpreter at exit; all is reported.
    os._exit(0)


if __name__ == "__main__":
    main()
