"""The discrete-event engine of one run: a simpy environment and the run's random streams.

Models schedule work with :func:`call_later` / :meth:`Engine.call_later` (a
callback after a delay, a :class:`Wake`) instead of a simpy process per request:
one event object and one heap entry per step, which is what lets a Python
simulator move hundreds of thousands of requests per second.
Processes remain available for models where readability matters more than speed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, Event, EventPriority

__all__ = ["Engine", "Streams", "Wake", "call_later"]

Callback = Callable[[Any], None]


class Wake(Event):
    """An event that fires after `delay` and calls `fn(self)`; `data` rides along.

    It is a :class:`simpy.events.Event`, so processes may also wait for it.  It is
    created already triggered (like a simpy ``Timeout``), which is why `_ok` and
    `_value` can be class attributes: this constructor runs millions of times.  It
    pushes itself on simpy's queue as ``Environment.schedule`` does (same time, same
    priority, the next number of the same counter), without the call.
    """

    __slots__ = ("data",)
    _ok = True
    _value = None

    def __init__(self, env: simpy.Environment, delay: float, fn: Callback, data: Any = None):
        self.env = env
        self.callbacks = [fn]
        self.data = data
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


def call_later(env: simpy.Environment, delay: float, fn: Callback, data: Any = None) -> Wake:
    """Schedule `fn(event)` at `env.now + delay`; `event.data` is `data`."""
    return Wake(env, delay, fn, data)


class Streams:
    """Named, independent random streams from one master seed.

    Each component asks for its stream by a stable name; the stream's seed is the
    master seed plus a hash of the name, spawned through ``SeedSequence``, so adding a
    component never changes the draws of the others.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._made: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        if name in self._made:
            raise ValueError(f"random stream {name!r} requested twice")
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(key,))
        gen = np.random.Generator(np.random.PCG64(seq))
        self._made[name] = gen
        return gen


class Engine:
    """The simpy environment, the random streams and the run's time window."""

    def __init__(self, seed: int, duration: float, warmup: float = 0.0) -> None:
        self.env = simpy.Environment()
        self.streams = Streams(seed)
        self.duration = duration
        self.warmup = warmup

    @property
    def now(self) -> float:
        return float(self.env.now)

    def call_later(self, delay: float, fn: Callback, data: Any = None) -> Wake:
        return Wake(self.env, delay, fn, data)

    def run(self, progress: Callable[[float], None] | None = None, steps: int = 100) -> None:
        """Run to `duration`; `progress(now)` is called `steps` times along the way."""
        if progress is not None:
            interval = self.duration / steps

            def tick(_: Any) -> None:
                progress(self.now)
                if self.now + interval < self.duration:
                    self.call_later(interval, tick)

            self.call_later(interval, tick)
        _run_until(self.env, self.duration)
        if progress is not None:
            progress(self.duration)


def _run_until(env: simpy.Environment, until: float) -> None:
    """``env.run(until=until)`` with ``Environment.step`` inlined.

    The same events are processed in the same order: the stop marker is scheduled
    as simpy schedules it (URGENT, so before every event due at `until`), and the
    loop body is simpy's step, without the method call and the exception handling
    of a StopSimulation raised by the marker's callback; the marker ends on the
    queue as simpy leaves it, so the events counted (and a later run) agree.  A loop in Python pays
    that overhead once per event, which was a tenth of a request's cost.
    """
    at = float(until)
    if at <= env.now:
        raise ValueError(f"until ({at}) must be greater than the current simulation time")
    stop = Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, at - env.now)
    queue = env._queue
    while True:
        env._now, _, _, event = heappop(queue)
        if event is stop:
            # simpy puts its stop marker back on the queue (it counts as an event).
            stop.callbacks = []
            env.schedule(stop, EventPriority(-1))
            return
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            # A failed event nobody defused crashes the run, as in simpy.
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
