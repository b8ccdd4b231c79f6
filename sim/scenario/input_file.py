"""Reading an input file the user named: a regular file of bounded size, or ``-`` for stdin.

Anything else is refused with a located problem before a byte is read: a directory,
a FIFO (which would block forever with no writer), a device such as ``/dev/zero``
(which never ends).  Files are opened non-blocking and checked with ``fstat`` on the
open descriptor, so what is checked is what is read.
"""

from __future__ import annotations

import os
import stat
import sys

from sim.scenario.problems import Problem, ScenarioError

__all__ = ["STDIN", "read_input"]

STDIN = "-"


def _kind(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a scenario (None: it can)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe, not a regular file (use - to read standard input)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _too_big(shown: str, limit: int, what: str) -> ScenarioError:
    return ScenarioError([Problem(
        (), f"{what} is larger than the limit of {limit // (1024 * 1024)} MiB", file=shown)])


def read_input(path: str | os.PathLike[str], limit: int, what: str = "the file") -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most ``limit`` of them."""
    shown = os.fspath(path)
    if shown == STDIN:
        raw = sys.stdin.buffer.read(limit + 1)
        if len(raw) > limit:
            raise _too_big("<stdin>", limit, what)
        return raw
    try:
        fd = os.open(shown, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError([Problem((), "no such file", file=shown)]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem((), "is a directory, not a file", file=shown)]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError([Problem((), f"cannot read: {reason}", file=shown)]) from None
    try:
        info = os.fstat(fd)
        refused = _kind(info.st_mode)
        if refused is not None:
            raise ScenarioError([Problem((), refused, file=shown)])
        if info.st_size > limit:
            raise _too_big(shown, limit, what)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # the file may grow while it is read
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _too_big(shown, limit, what)
        return b"".join(chunks)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError([Problem((), f"cannot read: {reason}", file=shown)]) from None
    finally:
        os.close(fd)
