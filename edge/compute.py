"""Compute at MEC sites and the cloud: a multi-server queue per site.

`c` identical servers, one queue, service time drawn per job from the
distribution of the job's kind when its service starts.  Disciplines: FIFO, and
non-preemptive priority (lower number first, FIFO within a priority).  Jobs are
callback chains, not simpy processes: a job costs one event (its service end).

The site integrates the number of jobs in queue and in system over time, so the
time averages needed for Little's law (L = λW) are exact, not sampled.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from itertools import count
from typing import Any

import simpy

from sim.distributions import Sampler, make_sampler
from sim.engine import Streams, Wake
from sim.scenario.schema import ComputeSpec

__all__ = ["ComputeSite", "Done"]

Done = Callable[[Any, float], None]
"""Called as ``done(data, service_start_time)`` when a job's service ends."""


class ComputeSite:
    """The compute of one node."""

    def __init__(self, env: simpy.Environment, name: str, spec: ComputeSpec,
                 streams: Streams) -> None:
        self.env = env
        self.name = name
        self.spec = spec
        self.servers = spec.servers
        self.busy = 0
        self.priority = spec.discipline == "priority"
        self._fifo: deque[tuple[Sampler, Done, Any, float]] = deque()
        """Waiting jobs: sampler, callback, data, service scale."""
        self._heap: list[tuple[int, int, Sampler, Done, Any, float]] = []
        self._seq = count()
        self.samplers: dict[str, Sampler] = {
            kind: make_sampler(dist, streams(f"site/{name}/service/{kind}"))
            for kind, dist in sorted(spec.service.items())
        }
        self.arrivals = 0
        self.completions = 0
        # Time integrals of jobs waiting, jobs in service, since t_mark.
        self._t_last = 0.0
        self.area_queue = 0.0
        self.area_busy = 0.0
        self.t_mark = 0.0

    @property
    def queue_length(self) -> int:
        return len(self._heap) if self.priority else len(self._fifo)

    def has_kind(self, kind: str) -> bool:
        return kind in self.samplers

    def _advance(self, now: float) -> None:
        dt = now - self._t_last
        if dt > 0.0:
            self.area_queue += dt * self.queue_length
            self.area_busy += dt * self.busy
            self._t_last = now

    def mark(self) -> None:
        """Restart the time integrals now (end of warm-up)."""
        self._advance(self.env.now)
        self.area_queue = 0.0
        self.area_busy = 0.0
        self.arrivals = 0
        self.completions = 0
        self.t_mark = self.env.now

    def submit(self, kind: str, done: Done, data: Any, priority: int = 0,
               scale: float = 1.0) -> None:
        """A job of `kind` arrives now; ``done(data, start)`` is called when it ends.

        Its service time is a draw from the kind's distribution times `scale` (a
        batch of jobs served together, see :mod:`edge.learning`)."""
        now = self.env._now
        dt = now - self._t_last
        if dt > 0.0:  # the integrals, inlined: this runs once per job
            self.area_queue += dt * (len(self._heap) + len(self._fifo))
            self.area_busy += dt * self.busy
            self._t_last = now
        self.arrivals += 1
        sampler = self.samplers[kind]
        if self.busy < self.servers:
            self.busy += 1
            Wake(self.env, sampler() * scale, self._finish, (done, data, now))
        elif self.priority:
            heapq.heappush(self._heap, (priority, next(self._seq), sampler, done, data, scale))
        else:
            self._fifo.append((sampler, done, data, scale))

    def _finish(self, ev: Wake) -> None:
        now = self.env._now
        dt = now - self._t_last
        if dt > 0.0:
            self.area_queue += dt * (len(self._heap) + len(self._fifo))
            self.area_busy += dt * self.busy
            self._t_last = now
        self.completions += 1
        done, data, start = ev.data
        if self.priority and self._heap:
            _, _, sampler, nxt_done, nxt_data, scale = heapq.heappop(self._heap)
            Wake(self.env, sampler() * scale, self._finish, (nxt_done, nxt_data, now))
        elif not self.priority and self._fifo:
            sampler, nxt_done, nxt_data, scale = self._fifo.popleft()
            Wake(self.env, sampler() * scale, self._finish, (nxt_done, nxt_data, now))
        else:
            self.busy -= 1
        done(data, start)

    def averages(self, now: float) -> dict[str, float]:
        """Time averages since the last mark: queue length, busy servers, utilisation.

        Reading them changes nothing, so a summary can be taken at any time.
        """
        dt = max(now - self._t_last, 0.0)
        area_queue = self.area_queue + dt * self.queue_length
        area_busy = self.area_busy + dt * self.busy
        span = now - self.t_mark
        if span <= 0:
            return {"mean_queue": 0.0, "mean_busy": 0.0, "utilisation": 0.0}
        busy = area_busy / span
        return {
            "mean_queue": area_queue / span,
            "mean_busy": busy,
            "utilisation": busy / self.servers,
        }
