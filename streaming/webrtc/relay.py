"""The relay: an SFU at the MEC site.  It receives the teacher's stream once and
sends it to every receiver through aiortc's ``MediaRelay``, which decodes the
stream once and encodes it once per receiver (so the relay's CPU grows with its
receivers).  Each receiver's proxy is unbuffered: a slow receiver skips frames
instead of falling behind.  A sink subscriber drains the teacher's stream from
the start, so no backlog builds up before the first receiver joins.  The relay
also echoes the receivers' round-trip probes on their data channel."""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay

from streaming.webrtc.peer import Peer, cpu_seconds, peer_connection, primary_stream_counts

__all__ = ["Relay"]


class Relay(Peer):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.relay = MediaRelay()
        self.source: MediaStreamTrack | None = None
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.frames_in = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def _sink(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except Exception:  # the source ended
                return
            self.frames_in += 1
            if self.frames_in == 1:
                await self.event("media")

    async def _answer(self, peer: str, sdp: str) -> str:
        pc = peer_connection()
        self.pcs[peer] = pc
        if peer == "sender":
            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                self.source = track
                sink = self.relay.subscribe(track, buffered=False)
                self._tasks.append(asyncio.ensure_future(self._sink(sink)))
        else:
            @pc.on("datachannel")
            def on_channel(channel: RTCDataChannel) -> None:
                @channel.on("message")
                def echo(message: str | bytes) -> None:
                    channel.send(message)

        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        if peer != "sender":
            if self.source is None:
                raise RuntimeError("a receiver came before the teacher's stream")
            pc.addTrack(self.relay.subscribe(self.source, buffered=False))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        op = message["op"]
        if op == "offer":
            sdp = await self._answer(message["peer"], message["sdp"])
            return {"op": "answer", "peer": message["peer"], "sdp": sdp}
        if op == "stop":
            sender = self.pcs.get("sender")
            expected, received = (0, 0) if sender is None else primary_stream_counts(sender)
            for task in self._tasks:
                task.cancel()
            for pc in self.pcs.values():
                await pc.close()
            return {"op": "result", "frames_in": self.frames_in, "packets_expected": expected,
                    "packets_received": received, "cpu_s": cpu_seconds()}
        raise ValueError(f"relay: unknown message {op!r}")
