"""A student's player: it reads each decoded frame's stamp at the moment aiortc
hands the frame over, and probes the round-trip time to the relay over a data
channel.

aiortc's jitter buffer releases a frame only when the first packet of the next
frame arrives, so every frame reaches the player about one frame interval after
its last packet: the receive-side hold that docs/live.md and ``calibrate``
report beside the results.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack, RTCSessionDescription
from av import VideoFrame

from streaming.webrtc.peer import (
    Peer,
    cpu_seconds,
    now_us,
    peer_connection,
    primary_stream_counts,
    transport_bytes,
)
from streaming.webrtc.stamp import read_stamp

__all__ = ["PROBE_INTERVAL", "Receiver"]

PROBE_INTERVAL = 0.2
"""Seconds between two round-trip probes."""


class Receiver(Peer):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.pc = peer_connection()
        self.frames: list[tuple[int, int, int, int]] = []
        """(frame, capture us, display us, key) of each frame with a readable stamp."""
        self.unreadable = 0
        self.rtts: list[float] = []
        self._first_us: int | None = None
        self._first_bytes = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def _play(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:  # the stream ended
                return
            if not isinstance(frame, VideoFrame):
                continue
            shown = now_us(self.epoch)
            plane = frame.planes[0]
            luma = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)
            stamp = read_stamp(luma)
            if stamp is None:
                self.unreadable += 1
                continue
            self.frames.append((stamp.seq, stamp.t_us, shown, int(frame.key_frame)))
            if self._first_us is None:
                self._first_us = shown
                self._first_bytes = await transport_bytes(self.pc, "bytesReceived")
                await self.event("media")

    async def _probe(self, channel: Any) -> None:
        while True:
            channel.send(repr(time.monotonic()))
            await asyncio.sleep(PROBE_INTERVAL)

    async def _offer(self) -> str:
        pc = self.pc
        pc.addTransceiver("video", direction="recvonly")
        channel = pc.createDataChannel("rtt")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.ensure_future(self._play(track)))

        @channel.on("open")
        def on_open() -> None:
            self._tasks.append(asyncio.ensure_future(self._probe(channel)))

        @channel.on("message")
        def on_message(message: str) -> None:
            self.rtts.append(time.monotonic() - float(message))

        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    async def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        op = message["op"]
        if op == "offer?":
            return {"op": "offer", "sdp": await self._offer()}
        if op == "answer":
            await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
            return None
        if op == "stop":
            expected, received = primary_stream_counts(self.pc)
            bytes_received = await transport_bytes(self.pc, "bytesReceived") - self._first_bytes
            for task in self._tasks:
                task.cancel()
            await self.pc.close()
            return {"op": "result", "frames": self.frames, "unreadable": self.unreadable,
                    "rtts": self.rtts, "packets_expected": expected,
                    "packets_received": received, "bytes_received": bytes_received,
                    "first_us": self._first_us, "stopped_us": now_us(self.epoch),
                    "cpu_s": cpu_seconds()}
        raise ValueError(f"receiver: unknown message {op!r}")
