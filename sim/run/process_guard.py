"""Child processes that never outlive the command that started them.

A sweep's pool workers are forked by a fork server, so their parent is the fork
server, not the ``edgestream`` process; when that process is killed (``kill -9``,
an OOM kill, a CI job cancelled) nothing tells them, and they used to go on with
queued runs for minutes, holding the caller's stdout open.  Two mechanisms cover
it, both Linux facilities with a portable fallback:

* :func:`die_with_parent`: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ``ctypes``,
  so the kernel kills this process when its parent dies (the fork server uses it);
* :func:`die_with`: a daemon thread waits on a ``pidfd`` of the command's process
  (polling where there is none), interrupts the run, so that ``write_run`` removes
  its staging folder, and after a grace period kills this process.

Also :func:`terminate_as_interrupt`: SIGTERM treated like Ctrl-C (exit 130).
"""

from __future__ import annotations

import _thread
import ctypes
import os
import select
import signal
import sys
import threading
import time
from types import FrameType

__all__ = ["GRACE_S", "die_with", "die_with_parent", "terminate_as_interrupt"]

GRACE_S = 2.0
"""Seconds an orphaned worker has to clean up its interrupted run before it is killed."""
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_exit(pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # a pidfd is readable once the process has exited
        return
    while _alive(pid) and os.getppid() != 1:
        time.sleep(0.5)


def _watch(pid: int, pidfd: int | None) -> None:
    _wait_for_exit(pid, pidfd)
    _thread.interrupt_main()  # a run in progress unwinds and removes its staging folder
    time.sleep(GRACE_S)
    os.kill(os.getpid(), signal.SIGKILL)


def die_with(pid: int) -> None:
    """End this process soon after process ``pid`` is gone, however it went."""
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
        if not _alive(pid):
            os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=_watch, args=(pid, pidfd), daemon=True,
                     name=f"edgestream-die-with-{pid}").start()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def terminate_as_interrupt() -> None:
    """SIGTERM raises KeyboardInterrupt: the same cleanup and exit code (130) as Ctrl-C."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
