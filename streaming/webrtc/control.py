"""The control channel between the supervisor and each peer process, and the one
edit the supervisor makes to the peers' session descriptions.

Messages are JSON objects, one per line, over a TCP connection to 127.0.0.1: the
supervisor relays offers and answers (signalling) and asks for results; a peer
reports its progress.  A peer whose control connection closes exits at once, so
peers never outlive a supervisor, however it ended.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

__all__ = ["LIMIT", "Channel", "host_candidate", "point_candidates_at"]

LIMIT = 1 << 26
"""Longest message, bytes: a receiver's result carries every frame it saw."""

_CANDIDATE = re.compile(
    r"^a=candidate:(\S+) (\d+) (udp|UDP) (\d+) (\S+) (\d+) typ host(.*)$", re.MULTILINE)


class Channel:
    """One end of a control connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message).encode() + b"\n")
        await self.writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The next message, or None when the other end has closed the connection."""
        try:
            line = await self.reader.readline()
        except (ConnectionError, asyncio.IncompleteReadError):
            return None
        if not line:
            return None
        message: dict[str, Any] = json.loads(line)
        return message

    def close(self) -> None:
        self.writer.close()


def host_candidate(sdp: str) -> tuple[str, int]:
    """The first UDP host candidate of a session description."""
    match = _CANDIDATE.search(sdp)
    if match is None:
        raise ValueError("the session description offers no UDP host candidate")
    return match.group(5), int(match.group(6))


def point_candidates_at(sdp: str, address: tuple[str, int]) -> str:
    """The description with its one host candidate replaced by `address` (a socket of
    the impairment stage) and every other candidate removed, so that ICE can only
    pair the two ends through the stage."""
    real = host_candidate(sdp)
    out: list[str] = []
    for line in sdp.splitlines():
        edited = line
        if line.startswith("a=candidate:"):
            match = _CANDIDATE.match(line)
            if match is None or (match.group(5), int(match.group(6))) != real:
                continue
            edited = (f"a=candidate:{match.group(1)} {match.group(2)} {match.group(3)} "
                      f"{match.group(4)} {address[0]} {address[1]} typ host{match.group(7)}")
        elif line.startswith("c=IN IP4 "):
            edited = f"c=IN IP4 {address[0]}"
        elif line.startswith("m=") and f" {real[1]} " in line:
            edited = line.replace(f" {real[1]} ", f" {address[1]} ", 1)
        out.append(edited)
    return "\r\n".join(out) + "\r\n"
