"""Compute at MEC sites and the cloud: a multi-server queue per site.

`c` identical servers, one queue, service time drawn per job from the
distribution of the job's kind when its service starts.  Disciplines: FIFO, and
non-preemptive priority (lower number first, FIFO within a priority).  Jobs are
callback chains, not simpy processes: a job costs one event (its service end).

The site integrates the number of jobs in queue and in system over time, so the
time averages needed for Little's law (L = λW) are exact, not sampled.

A site that models memory (:class:`MemoryLimitedSite`) also makes a job wait
until its kind's memory fits; the plain site keeps the hot path free of that.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Sized
from itertools import count
from typing import Any

import simpy

from sim.distributions import Sampler, make_sampler
from sim.engine import Streams, Wake
from sim.scenario.schema import CloudNode, ComputeSpec, MecNode

__all__ = ["ComputeSite", "Done", "MemoryLimitedSite", "compute_site"]

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
        self._queued: Sized = self._heap if self.priority else self._fifo
        """The one of the two that the discipline uses (the other stays empty)."""
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
            self.area_queue += dt * len(self._queued)
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
        fifo = self._fifo
        dt = now - self._t_last
        if dt > 0.0:
            self.area_queue += dt * len(self._queued)
            self.area_busy += dt * self.busy
            self._t_last = now
        self.completions += 1
        done, data, start = ev.data
        if self.priority:
            if self._heap:
                _, _, sampler, nxt_done, nxt_data, scale = heapq.heappop(self._heap)
                Wake(self.env, sampler() * scale, self._finish, (nxt_done, nxt_data, now))
            else:
                self.busy -= 1
        elif fifo:
            sampler, nxt_done, nxt_data, scale = fifo.popleft()
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

    def resources(self, now: float) -> dict[str, float | int | None]:
        """Summary keys of the resources besides the servers: none modelled here."""
        return {}


class MemoryLimitedSite(ComputeSite):
    """A site whose jobs also hold their kind's memory while in service.

    A job starts when a server is free *and* its memory fits in what the running
    jobs leave of `memory`.  The queue keeps its order (FIFO, or priority then
    FIFO): a job that does not fit holds back the jobs behind it, as a
    first-come first-served scheduler without backfilling does, so a large job is
    never starved by small ones.  With ``memory=None`` no job waits for memory but
    its use is still measured: what the site would need.  Service times are drawn
    when service starts, in the same order as the plain site's, so a site whose
    memory never binds gives the plain site's results exactly.
    """

    def __init__(self, env: simpy.Environment, name: str, spec: ComputeSpec,
                 streams: Streams, memory: float | None) -> None:
        super().__init__(env, name, spec, streams)
        self.memory = memory
        self._limit = math.inf if memory is None else memory
        self._need = {kind: cost.memory for kind, cost in spec.service.items()}
        self._waiting: list[tuple[int, int, str, Done, Any, float]] = []
        """Heap of (priority, or 0 under FIFO; arrival number; kind, callback, data, scale)."""
        self.memory_used = 0.0
        self.memory_peak = 0.0
        self.area_memory = 0.0
        self.memory_waits = 0
        """Jobs that reached the head of the queue with a server free but no memory."""
        self._held_back = -1

    @property
    def queue_length(self) -> int:
        return len(self._waiting)

    def _advance(self, now: float) -> None:
        dt = now - self._t_last
        if dt > 0.0:
            self.area_memory += dt * self.memory_used
        super()._advance(now)

    def mark(self) -> None:
        super().mark()
        self.area_memory = 0.0
        self.memory_peak = self.memory_used
        self.memory_waits = 0

    def submit(self, kind: str, done: Done, data: Any, priority: int = 0,
               scale: float = 1.0) -> None:
        self._advance(self.env._now)
        self.arrivals += 1
        heapq.heappush(self._waiting, (priority if self.priority else 0, next(self._seq), kind,
                                       done, data, scale))
        self._start()

    def _start(self) -> None:
        """Start waiting jobs, in order, while a server is free and the head one fits."""
        now = self.env._now
        while self._waiting and self.busy < self.servers:
            _, seq, kind, done, data, scale = self._waiting[0]
            need = self._need[kind]
            if self.memory_used + need > self._limit:
                if seq != self._held_back:
                    self._held_back = seq
                    self.memory_waits += 1
                return
            heapq.heappop(self._waiting)
            self.busy += 1
            self.memory_used += need
            self.memory_peak = max(self.memory_peak, self.memory_used)
            Wake(self.env, self.samplers[kind]() * scale, self._end, (done, data, now, need))

    def _end(self, ev: Wake) -> None:
        self._advance(self.env._now)
        self.completions += 1
        done, data, start, need = ev.data
        self.busy -= 1
        self.memory_used -= need
        self._start()
        done(data, start)

    def resources(self, now: float) -> dict[str, float | int | None]:
        """Memory since the last mark: capacity, peak and time-averaged use, jobs held back."""
        span = now - self.t_mark
        area = self.area_memory + max(now - self._t_last, 0.0) * self.memory_used
        return {"memory_bytes": self.memory, "memory_peak_bytes": self.memory_peak,
                "memory_mean_bytes": area / span if span > 0 else 0.0,
                "memory_waits": self.memory_waits}


def compute_site(env: simpy.Environment, node: CloudNode | MecNode,
                 streams: Streams) -> ComputeSite:
    """The compute of a site; memory is modelled when the site or one of its job kinds
    declares it, so scenarios without memory keep the plain site's hot path."""
    if node.compute is None:
        raise ValueError(f"{node.name} has no compute")
    if node.memory is None and not any(c.memory for c in node.compute.service.values()):
        return ComputeSite(env, node.name, node.compute, streams)
    return MemoryLimitedSite(env, node.name, node.compute, streams, node.memory)
