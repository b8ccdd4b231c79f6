"""The supervisor: it starts the peer processes, brokers their signalling through
the impairment stage, times the run and collects what every peer measured.

Every wait has a timeout, and every peer is watched: a peer that exits or drops
its control connection before it was asked to stop fails the run at once with
its name, what the run was doing and the end of its output, never a hang.
Whatever ends the run (success, a failure, Ctrl-C, a timeout), every peer
process is terminated (killed if it does not exit within :data:`STOP_WAIT`) and
every socket closed before :func:`run_live` returns or raises; a peer whose
supervisor dies exits by itself when its control connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import streaming
from sim.extras import require_extra
from streaming.webrtc.control import LIMIT, Channel, host_candidate, point_candidates_at
from streaming.webrtc.impair import DirectionCounters, ImpairedLeg
from streaming.webrtc.peer import now_us
from streaming.webrtc.plan import Leg, LivePlan

__all__ = ["STOP_WAIT", "TEMP_PREFIX", "LiveError", "LiveOptions", "LiveResult",
           "remove_stale_temp", "run_live"]

STOP_WAIT = 3.0
"""Seconds a peer has to exit after it was told to, before it is killed."""


class LiveError(Exception):
    """The live run failed; the message says which process and why."""


@dataclass(frozen=True)
class LiveOptions:
    duration: float = 20.0
    """Measured seconds of streaming, after every receiver shows its first frame."""
    width: int = 320
    height: int = 240
    startup_timeout: float = 60.0
    """Seconds for all processes to start (aiortc takes a while to import)."""
    step_timeout: float = 20.0
    """Seconds for one signalling step or for the first frame to arrive."""
    report: Callable[[str], None] | None = None
    """Told each phase of the run, for a progress line."""
    on_spawn: Callable[[str, int], None] | None = None
    """Told the name and pid of each peer process as it starts."""


@dataclass
class LiveResult:
    plan: LivePlan
    options: LiveOptions
    start_us: int
    """Start of the measured window, µs since the epoch."""
    end_us: int
    sender: dict[str, Any]
    relay: dict[str, Any]
    receivers: list[dict[str, Any]]
    legs: dict[str, tuple[DirectionCounters, DirectionCounters]] = field(default_factory=dict)
    """Per leg: (towards the relay, towards the peer)."""
    wall_s: float = 0.0


class _Process:
    """One peer process and its control channel."""

    def __init__(self, name: str, role: str, log: Path) -> None:
        self.name = name
        self.role = role
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.channel: Channel | None = None
        self.hello = asyncio.Event()
        self.events: dict[str, asyncio.Event] = {}
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ended = asyncio.Event()
        """Set when the process exits or its control connection closes."""
        self.done = False
        """It has handed in its results (or the run is over): its end is no news."""
        self.problem: str | None = None
        """What was wrong with its control messages, if anything."""

    @property
    def lost(self) -> bool:
        return self.ended.is_set() and not self.done

    def event(self, what: str) -> asyncio.Event:
        return self.events.setdefault(what, asyncio.Event())

    def tail(self, lines: int = 12) -> str:
        try:
            text = self.log.read_text(errors="replace").rstrip().splitlines()
        except OSError:
            return "(no output)"
        return "\n".join("    " + line for line in text[-lines:]) or "    (no output)"

    async def read(self) -> None:
        assert self.channel is not None
        try:
            while (message := await self.channel.receive()) is not None:
                if message.get("op") == "event":
                    self.event(message["what"]).set()
                else:
                    self.replies.put_nowait(message)
        except ValueError as exc:  # over the size limit, or not JSON
            self.problem = f"sent a control message that cannot be read ({exc})"
        finally:
            self.ended.set()


class _Supervisor:
    def __init__(self, plan: LivePlan, options: LiveOptions, folder: Path) -> None:
        self.plan = plan
        self.options = options
        self.folder = folder
        self.token = uuid.uuid4().hex
        self.epoch = time.monotonic()
        self.phase = "starting the peer processes"
        self.processes: dict[str, _Process] = {}
        self.legs: dict[str, ImpairedLeg] = {}
        self.seeds = iter(np.random.SeedSequence(plan.scenario.seed).spawn(1 + len(plan.receivers)))
        self._tasks: list[asyncio.Task[None]] = []

    def _say(self, phase: str) -> None:
        self.phase = phase
        if self.options.report is not None:
            self.options.report(phase)

    def _fail(self, proc: _Process, what: str) -> LiveError:
        return LiveError(f"the {proc.name} process {what} while {self.phase}; "
                         f"its last output:\n{proc.tail()}")

    # ----------------------------------------------------------------- processes

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = Channel(reader, writer)
        try:
            hello = await channel.receive()
        except ValueError:
            hello = None
        proc = self.processes.get(hello.get("name", "")) if hello else None
        if proc is None or hello is None or hello.get("token") != self.token \
                or proc.channel is not None:
            channel.close()
            return
        proc.channel = channel
        proc.hello.set()
        self._tasks.append(asyncio.ensure_future(proc.read()))

    async def _spawn(self, name: str, role: str, port: int) -> None:
        spec = self.plan.spec
        config = {"name": name, "control_port": port, "epoch": self.epoch, "token": self.token,
                  "fps": spec.frame_rate, "bitrate": spec.bitrate, "width": self.options.width,
                  "height": self.options.height, "seed": self.plan.scenario.seed}
        proc = _Process(name, role, self.folder / f"{name}.log")
        self.processes[name] = proc
        root = str(Path(streaming.__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [root, os.environ.get("PYTHONPATH")])))
        with proc.log.open("wb") as log:
            proc.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "streaming.webrtc.peer", role, json.dumps(config),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
                env=env, start_new_session=True)
        if self.options.on_spawn is not None:
            self.options.on_spawn(name, proc.proc.pid)
        self._tasks.append(asyncio.ensure_future(self._watch(proc)))

    async def _watch(self, proc: _Process) -> None:
        assert proc.proc is not None
        await proc.proc.wait()
        proc.ended.set()

    async def _guard(self, proc: _Process, waiting: asyncio.Future[Any] | None, what: str,
                     timeout: float) -> Any:
        """`waiting`'s result, unless a peer is lost first or the time runs out; with
        no `waiting`, wait out the time unless a peer is lost."""
        ends = [asyncio.ensure_future(p.ended.wait())
                for p in self.processes.values() if not p.done]
        watched = ends if waiting is None else [waiting, *ends]
        try:
            done, _ = await asyncio.wait(watched, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in ends:
                task.cancel()
        if waiting is not None:
            if waiting in done:
                return waiting.result()
            waiting.cancel()
        for p in self.processes.values():
            if p.lost:
                raise self._fail(p, await self._ending(p))
        if waiting is not None:
            raise self._fail(proc, f"did not {what} within {timeout:g} s")
        return None

    @staticmethod
    async def _ending(proc: _Process) -> str:
        """How a lost process ended, for the message (its exit is reaped first)."""
        if proc.problem is not None:
            return proc.problem
        if proc.proc is None:
            return "did not start"
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(proc.proc.wait(), 1.0)
        code = proc.proc.returncode
        if code is None:
            return "closed its control connection"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    async def _request(self, proc: _Process, message: dict[str, Any], op: str) -> dict[str, Any]:
        assert proc.channel is not None
        await proc.channel.send(message)
        reply: dict[str, Any] = await self._guard(
            proc, asyncio.ensure_future(proc.replies.get()), f'answer "{message["op"]}"',
            self.options.step_timeout)
        if reply.get("op") != op:
            raise self._fail(proc, f'answered "{reply.get("op")}" instead of "{op}"')
        return reply

    # ---------------------------------------------------------------- signalling

    async def _connect(self, leg: Leg) -> None:
        """Offer from the peer, answer from the relay, both through the leg's stage."""
        peer, relay = self.processes[leg.name], self.processes["relay"]
        offer = (await self._request(peer, {"op": "offer?"}, "offer"))["sdp"]
        if leg.name == "sender":
            stage = ImpairedLeg(leg.name, leg.media, leg.feedback, next(self.seeds))
        else:
            stage = ImpairedLeg(leg.name, leg.feedback, leg.media, next(self.seeds))
        self.legs[leg.name] = stage
        peer_face, relay_face = await stage.open()
        stage.connect(peer=host_candidate(offer))
        answer = (await self._request(relay, {
            "op": "offer", "peer": leg.name, "sdp": point_candidates_at(offer, relay_face)},
            "answer"))["sdp"]
        stage.connect(relay=host_candidate(answer))
        assert peer.channel is not None
        await peer.channel.send({"op": "answer", "sdp": point_candidates_at(answer, peer_face)})
        # Connected once media flows: the teacher's at the relay, the relay's at a receiver.
        listener = relay if leg.name == "sender" else peer
        await self._guard(listener, asyncio.ensure_future(listener.event("media").wait()),
                          "receive its first frame", self.options.step_timeout)

    # ------------------------------------------------------------------- the run

    async def run(self) -> LiveResult:
        started = time.perf_counter()
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0, limit=LIMIT)
        try:
            port = server.sockets[0].getsockname()[1]
            await self._spawn("relay", "relay", port)
            await self._spawn("sender", "sender", port)
            for leg in self.plan.receivers:
                await self._spawn(leg.name, "receiver", port)
            for proc in self.processes.values():
                await self._guard(proc, asyncio.ensure_future(proc.hello.wait()),
                                  "start", self.options.startup_timeout)
            self._say("connecting the teacher to the relay")
            await self._connect(self.plan.sender)
            for leg in self.plan.receivers:
                self._say(f"connecting {leg.name} ({leg.group}[{leg.user}])")
                await self._connect(leg)
            self._say("streaming")
            start = now_us(self.epoch)
            grace = self.plan.spec.max_latency
            await self._guard(self.processes["relay"], None, "stream",
                              self.options.duration + grace)
            end = start + round(self.options.duration * 1e6)
            self._say("collecting results")
            results: dict[str, dict[str, Any]] = {}
            for name in [leg.name for leg in self.plan.receivers] + ["relay", "sender"]:
                proc = self.processes[name]
                results[name] = await self._request(proc, {"op": "stop"}, "result")
                proc.done = True  # it exits now
            return LiveResult(
                self.plan, self.options, start, end, results["sender"], results["relay"],
                [results[leg.name] for leg in self.plan.receivers],
                {name: (leg.to_relay.counters, leg.to_peer.counters)
                 for name, leg in self.legs.items()},
                time.perf_counter() - started)
        finally:
            server.close()
            await self._shut_down()

    async def _shut_down(self) -> None:
        """Stop every process (kill the stubborn) and close every socket."""
        for proc in self.processes.values():
            proc.done = True
            if proc.channel is not None:
                proc.channel.close()
        for proc in self.processes.values():
            if proc.proc is None or proc.proc.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                proc.proc.terminate()
            try:
                await asyncio.wait_for(proc.proc.wait(), STOP_WAIT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.proc.kill()
                await proc.proc.wait()
        for leg in self.legs.values():
            leg.close()
        for task in self._tasks:
            task.cancel()


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C (peers stopped, temporary files removed),
    where a plain SIGTERM would end the supervisor and leave its temporary folder."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


TEMP_PREFIX = "edgestream-live-"
"""Temporary folders are ``<tmp>/edgestream-live-<supervisor pid>-<random>``."""


def remove_stale_temp(tmp: Path | None = None) -> list[Path]:
    """Remove the temporary folders of supervisors that are gone (``kill -9`` leaves
    them: no code runs); their pid is in the name.  Returns what was removed."""
    removed: list[Path] = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid_text = folder.name.removeprefix(TEMP_PREFIX).split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # alive (or a reused pid: kept, to be safe)
        except PermissionError:
            continue
        except (ProcessLookupError, OverflowError):
            pass
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def run_live(plan: LivePlan, options: LiveOptions) -> LiveResult:
    """Play the plan's live class through real processes; raises :class:`LiveError`,
    or KeyboardInterrupt on Ctrl-C or SIGTERM, after every peer has stopped."""
    require_extra("live", "the live mode")  # the peers import aiortc: fail here, not in them
    remove_stale_temp()
    with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as folder, \
            _terminate_as_interrupt():
        return asyncio.run(_Supervisor(plan, options, Path(folder)).run())
