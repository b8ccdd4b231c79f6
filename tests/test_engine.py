"""The engine's inlined run loop against simpy's own ``Environment.run``."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy

from sim.engine import Engine, Wake, _run_until


def _model(env: simpy.Environment, log: list[tuple[float, str]]) -> None:
    """Ties at equal times, a process waiting on a Wake, and events due at the end."""

    def tick(ev: Wake) -> None:
        log.append((env.now, f"tick{ev.data}"))
        if ev.data < 40:
            Wake(env, 0.25 if ev.data % 3 else 0.0, tick, ev.data + 1)

    def waiter() -> Generator[simpy.Event, Any, None]:
        for k in range(5):
            yield Wake(env, 1.0, lambda _: log.append((env.now, "wake")), k)
            log.append((env.now, f"resumed{k}"))
            yield env.timeout(0.5)

    Wake(env, 0.0, tick, 0)
    Wake(env, 0.0, tick, 100)
    env.process(waiter())
    Wake(env, 5.0, lambda _: log.append((env.now, "at the end")))  # due at `until`


def _run(runner: Callable[[simpy.Environment], None]) -> tuple[list[tuple[float, str]], str, float]:
    env = simpy.Environment()
    log: list[tuple[float, str]] = []
    _model(env, log)
    runner(env)
    return log, repr(env._eid), env.now


def test_same_events_in_the_same_order_as_simpy() -> None:
    ours = _run(lambda env: _run_until(env, 5.0))
    simpys = _run(lambda env: env.run(until=5.0))
    assert ours == simpys
    assert all(t < 5.0 for t, _ in ours[0])  # simpy stops before the events due at `until`
    assert ours[2] == 5.0


def test_a_later_run_continues_as_after_simpy() -> None:
    def twice(env: simpy.Environment, first: Callable[[simpy.Environment], None]) -> None:
        first(env)
        env.run(until=8.0)

    ours = _run(lambda env: twice(env, lambda e: _run_until(e, 5.0)))
    simpys = _run(lambda env: twice(env, lambda e: e.run(until=5.0)))
    assert ours == simpys


def test_an_undefused_failure_crashes_the_run() -> None:
    engine = Engine(seed=1, duration=2.0)
    env = engine.env
    failed = env.event()
    Wake(env, 1.0, lambda _: failed.fail(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        engine.run()


def test_until_must_lie_ahead() -> None:
    env = simpy.Environment()
    with pytest.raises(ValueError):
        _run_until(env, 0.0)
