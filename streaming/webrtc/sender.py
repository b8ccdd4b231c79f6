"""The teacher's camera: synthetic frames, stamped with their number and capture
time (:mod:`streaming.webrtc.stamp`), sent to the relay at the frame rate."""

from __future__ import annotations

import asyncio
import fractions
import time
from typing import Any

import numpy as np
from aiortc import RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from av import VideoFrame

from streaming.webrtc.peer import Peer, cpu_seconds, now_us, peer_connection, transport_bytes
from streaming.webrtc.stamp import draw_stamp

__all__ = ["Sender", "StampedVideo"]

CLOCK = 90_000
"""RTP video clock, Hz."""


class StampedVideo(MediaStreamTrack):
    """Frames of moving noise with a stamp, paced by the clock, not by the encoder."""

    kind = "video"

    def __init__(self, fps: float, width: int, height: int, epoch: float, seed: int) -> None:
        super().__init__()
        self.fps = fps
        self.width = width
        self.height = height
        self.epoch = epoch
        self.rng = np.random.default_rng(seed)
        self.chroma = np.full((height // 2, width), 128, np.uint8)
        self.sent: list[tuple[int, int]] = []
        self._k = 0
        self._t0: float | None = None

    async def recv(self) -> VideoFrame:
        k = self._k
        self._k = k + 1
        if self._t0 is None:
            self._t0 = time.monotonic()
        wait = self._t0 + k / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        luma = self.rng.integers(96, 160, (self.height, self.width), dtype=np.uint8)
        t_us = now_us(self.epoch)
        draw_stamp(luma, k, t_us)
        frame = VideoFrame.from_ndarray(np.concatenate([luma, self.chroma]), format="yuv420p")
        frame.pts = round(k * CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, CLOCK)
        self.sent.append((k, t_us))
        return frame


class Sender(Peer):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.pc = peer_connection()
        self.track = StampedVideo(config["fps"], config["width"], config["height"],
                                  self.epoch, config["seed"])
        self.sent_to: int | None = None

    async def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        op = message["op"]
        if op == "offer?":
            self.pc.addTrack(self.track)
            await self.pc.setLocalDescription(await self.pc.createOffer())
            return {"op": "offer", "sdp": self.pc.localDescription.sdp}
        if op == "answer":
            await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
            return None
        if op == "stop":
            sent = list(self.track.sent)
            bytes_sent = await transport_bytes(self.pc, "bytesSent")
            await self.pc.close()
            return {"op": "result", "sent": sent, "bytes_sent": bytes_sent,
                    "cpu_s": cpu_seconds()}
        raise ValueError(f"sender: unknown message {op!r}")
