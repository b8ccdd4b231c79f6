"""Learners with recommendations: what they are told, what they watch, what the edge caches.

Each learner loops through courses, as a chain of callbacks:

    ask for recommendations -> (placed) inference job -> answer
      -> [the MEC site prefetches the first segments of the recommended courses]
      -> pick a course: a recommended one with probability `follow`, else by popularity
      -> stream its first `watch_segments` segments through the MEC site's cache
         (a miss is fetched from the origin over the backhaul first)
      -> think -> ask again

The recommender is item-based collaborative filtering fitted on a synthetic
learner x course matrix drawn from the run's seed (:mod:`edge.recommender`);
each simulated learner is one row of it, and the courses it finishes are added
to its history.  Popularity is Zipf, optionally drifting (:mod:`edge.catalogue`).
Segments are paced like playback: segment i is requested no earlier than
i segment durations after the first, and no earlier than the previous one
arrived.

A segment is admitted into the cache when its miss is seen (as
:class:`edge.cache.CachePolicy` does); a request for it that comes while the
origin fetch is still in flight counts as a hit and is served when the site
has it.  A miss the policy does not admit (static top-k never does) is relayed
from the origin for that request alone, so the next request misses too.
Prefetched segments are inserted when they arrive.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from edge.cache import CACHES, CachePolicy
from edge.catalogue import Catalogue, ZipfPopularity
from edge.overview import LEARNING
from edge.placement import (
    Candidate,
    candidate_sites,
    make_placement,
    placed_routes,
    placement_problems,
)
from edge.recommender import RECOMMENDERS, synthetic_interactions
from edge.schema import CourseLearningSpec
from sim.engine import Wake
from sim.net.network import Route
from sim.net.topology import Topology
from sim.run.workload import WORKLOADS, RunContext, SummarySection, Table, clients_reach
from sim.scenario.problems import Problem
from sim.scenario.workload_spec import WorkloadSpec
from sim.sites import serving_site
from sim.sites import storage_site as video_site
from sim.stats import latency_summary

__all__ = ["CourseLearning"]

# A recommendation request: learner, site, t_send, t_arrive, t_start, t_end, t_response.
_L, _S, _SEND, _ARRIVE, _START, _END, _DONE = range(7)


@dataclass
class _EdgeCache:
    """One MEC site's cache and its origin route."""

    name: str
    cache: CachePolicy
    from_origin: Route
    pending: dict[int, list[Any]] = field(default_factory=dict)
    """Items on their way from the origin -> callbacks waiting for them."""
    backhaul_bytes: float = 0.0
    prefetch_bytes: float = 0.0
    prefetched: int = 0


def _cache_sites(spec: CourseLearningSpec, topology: Topology) -> set[str]:
    """The MEC sites whose caches serve the workload's groups (the nearest to each)."""
    sites = {video_site(topology, "nearest_mec", topology.groups[g].attach)
             for g in spec.clients}
    return {s for s in sites if s is not None}


class _Learner:
    __slots__ = ("cache", "client", "course", "down", "history", "index", "ranked", "recs",
                 "segment", "t_first", "up", "user")

    def __init__(self, index: int, client: int, user: int, cache: int, up: Route,
                 down: Route, history: np.ndarray) -> None:
        self.index = index
        self.client = client
        self.user = user
        self.cache = cache
        self.up = up
        self.down = down
        self.history = history
        self.recs: np.ndarray = np.zeros(0, dtype=np.int64)
        self.ranked: np.ndarray | None = None
        """The recommender's top-k for the current history; None once it changes."""
        self.course = -1
        self.segment = 0
        self.t_first = 0.0


@WORKLOADS.register("course_learning")
class CourseLearning:
    """Learners of some groups ask for recommendations and stream courses."""

    spec_class: ClassVar[type[WorkloadSpec]] = CourseLearningSpec
    sections: ClassVar[tuple[SummarySection, ...]] = (LEARNING,)
    plots: ClassVar[str] = "edge.plots:EDGE_PLOTS"

    @staticmethod
    def route_problems(spec: CourseLearningSpec, index: int,
                       topology: Topology) -> list[Problem]:
        problems = clients_reach(topology, spec.clients, index,
                                 lambda attach: video_site(topology, "nearest_mec", attach))
        problems += placement_problems(topology, spec.clients, index, spec.placement.sites,
                                       spec.job)
        origin = video_site(topology, spec.origin, "")
        assert origin is not None  # checked by the references
        for site in sorted(_cache_sites(spec, topology) - {origin}):
            topology.require_path(origin, site, ("workloads", index, "origin"), problems,
                                  f'"{site}" cannot fetch from the origin "{origin}"')
        return problems

    @staticmethod
    def storage_needs(spec: CourseLearningSpec, topology: Topology) -> list[tuple[str, float]]:
        """One cache of `cache_size` bytes at each site that serves the learners."""
        return [(site, float(int(spec.cache_size)))
                for site in sorted(_cache_sites(spec, topology))]

    def __init__(self, spec: CourseLearningSpec, ctx: RunContext) -> None:  # noqa: PLR0915  # being rewritten; split in issue 15 step 5
        self.spec = spec
        self.ctx = ctx
        self.env = ctx.engine.env
        self.net = ctx.network
        streams = ctx.engine.streams
        name = spec.name
        self.catalogue = Catalogue(spec.courses, spec.segments, (spec.bitrate,),
                                   spec.segment_duration)
        self.segment_bytes = int(self.catalogue.level_bytes[0])
        drift = math.inf if spec.drift_interval is None else spec.drift_interval
        self.popularity = ZipfPopularity(spec.courses, spec.alpha, streams(f"workload/{name}/"
                                         "popularity"), drift_fraction=spec.drift_fraction,
                                         drift_interval=drift)
        # One stream per kind of draw, each drawn at every choice whatever the outcome,
        # so that runs differing only in `follow` see the same learners (common
        # random numbers: their differences are the effect, not noise).
        self.follow_rng = streams(f"workload/{name}/follow")
        self.rank_rng = streams(f"workload/{name}/rank")
        self.think_rng = streams(f"workload/{name}/think")
        topo = ctx.topology
        total = sum(topo.groups[g].count for g in spec.clients)
        self.interactions = synthetic_interactions(total, spec.courses,
                                                   streams(f"workload/{name}/interactions"),
                                                   alpha=spec.alpha)
        self.recommender = RECOMMENDERS.get(spec.recommender)()
        self.recommender.fit(self.interactions.matrix)
        self.policy = make_placement(spec.placement)
        origin = video_site(topo, spec.origin, "")
        assert origin is not None  # checked by the references
        self.caches: list[_EdgeCache] = []
        cache_index: dict[str, int] = {}
        self.groups: list[str] = list(spec.clients)
        self.site_names: list[str] = []
        self.candidates: list[list[Candidate]] = []
        self.cand_up: list[list[list[Route]]] = []
        self.cand_down: list[list[list[Route]]] = []
        self.cand_site: list[list[int]] = []
        self.learners: list[_Learner] = []
        starts_rng = streams(f"workload/{name}/starts")
        self.starts: list[float] = []
        for i, group in enumerate(spec.clients):
            attach = topo.groups[group].attach
            site = video_site(topo, "nearest_mec", attach)
            paths = None if site is None else topo.user_paths(group, site)
            if site is None or paths is None:  # checked when the run was prepared
                raise RuntimeError(f"no MEC site for {group}")
            if site not in cache_index:
                cache_index[site] = len(self.caches)
                cache = CACHES.get(spec.cache).for_run(int(spec.cache_size), self._ranked)
                ctx.store(site, cache)
                self.caches.append(_EdgeCache(site, cache, self.net.route_between(origin, site)))
            names = candidate_sites(topo, spec.placement.sites, attach, spec.job)
            placed = placed_routes(ctx, group, names, spec.job, spec.request_size,
                                   spec.response_size)
            for n in names:
                if n not in self.site_names:
                    self.site_names.append(n)
            self.candidates.append(placed.candidates)
            self.cand_up.append(placed.up)
            self.cand_down.append(placed.down)
            self.cand_site.append([self.site_names.index(n) for n in names])
            count = topo.groups[group].count
            starts = spec.start + spec.start_spread * starts_rng.random(count)
            for user in range(count):
                index = len(self.learners)
                self.learners.append(_Learner(
                    index, i, user, cache_index[site], self.net.route(paths[0][user]),
                    self.net.route(paths[1][user]),
                    self.interactions.matrix[index].copy()))
                self.starts.append(float(starts[user]))
        self._site_objs = [ctx.sites[n] for n in self.site_names]
        self._ledger: tuple[Any, list[tuple[list[Route], list[Route]]]] | None = None
        self._settled: list[tuple[float, float]] = []
        self._settle_sent: list[float] = []
        if spec.settlement is not None:
            ledger = serving_site(topo, spec.settlement.site, None, spec.settlement.job)
            assert ledger is not None  # checked by the references
            routes = []
            for group in spec.clients:
                paths = topo.user_paths(group, ledger)
                if paths is None:  # checked when the run was prepared
                    raise RuntimeError(f"no route from {group} to {ledger}")
                routes.append(([self.net.route(p) for p in paths[0]],
                               [self.net.route(p) for p in paths[1]]))
            self._ledger = (ctx.sites[ledger], routes)
        self._rank_cdf = [np.cumsum(1.0 / np.arange(1, k + 1)) / np.sum(1.0 / np.arange(1, k + 1))
                          for k in range(1, spec.top_k + 1)]
        self._asks: list[list[float]] = []
        self._batches: dict[int, list[list[Any]]] = {}
        """Requests waiting at a site (by index) for their inference batch to fill."""
        self._rejected: list[float] = []
        """Times of the requests admission control turned away."""
        self._followed = 0
        self._chosen = 0
        # Segment rows: learner, cache, course, segment, hit, t_request, t_done.
        self._segments: list[tuple[int, int, int, int, bool, float, float]] = []

    def _ranked(self) -> Iterator[tuple[int, int]]:
        """Watched segments, most requested first, for caches filled up front.

        A course's request probability is its popularity at the start of the run
        (drift later moves ranks, but a static set is placed once); each of its
        first `watch_segments` segments is requested once per viewing, so they share
        that probability and are ranked course by course, first segment first.
        """
        order = np.argsort(-self.popularity.probabilities, kind="stable")
        for course in order.tolist():
            for segment in range(self.spec.watch_segments):
                yield self._item(course, segment), self.segment_bytes

    # ---------------------------------------------------------------- the chain

    def start(self) -> None:
        for learner, t0 in zip(self.learners, self.starts, strict=True):
            Wake(self.env, t0, self._wake_ask, learner)

    def _wake_ask(self, ev: Wake) -> None:
        self._ask(ev.data)

    def _ask(self, learner: _Learner) -> None:
        now = self.env._now
        self.popularity.advance(now)
        chosen = self.policy.choose(self.candidates[learner.client])
        if chosen is None:  # admission control: no recommendation, pick by popularity
            self._rejected.append(now)
            learner.recs = np.zeros(0, dtype=np.int64)
            self._choose(learner)
            return
        site = self.cand_site[learner.client][chosen]
        nan = math.nan
        rec: list[Any] = [learner.index, site, now, nan, nan, nan, nan, learner, chosen]
        self._asks.append(rec)
        self.net.send(self.cand_up[learner.client][chosen][learner.user],
                      self.spec.request_size, self._at_site, rec)

    def _at_site(self, rec: list[Any]) -> None:
        rec[_ARRIVE] = self.env._now
        if self.spec.batch_size == 1:
            self._site_objs[rec[_S]].submit(self.spec.job, self._inferred, rec)
            return
        batch = self._batches.setdefault(rec[_S], [])
        batch.append(rec)
        if len(batch) == self.spec.batch_size:
            self._flush(rec[_S])
        elif len(batch) == 1:
            Wake(self.env, self.spec.batch_wait, self._batch_timeout, (rec[_S], rec))

    def _batch_timeout(self, ev: Wake) -> None:
        site, first = ev.data
        batch = self._batches.get(site)
        if batch and batch[0] is first:  # the batch it opened has not left yet
            self._flush(site)

    def _flush(self, site: int) -> None:
        """Send a site's waiting requests to its compute as one batch job."""
        batch = self._batches.pop(site)
        scale = 1.0 + self.spec.batch_marginal * (len(batch) - 1)
        self._site_objs[site].submit(self.spec.job, self._batch_done, batch, 0, scale)

    def _batch_done(self, batch: list[list[Any]], start: float) -> None:
        for rec in batch:
            self._inferred(rec, start)

    def _inferred(self, rec: list[Any], start: float) -> None:
        rec[_START] = start
        rec[_END] = self.env._now
        learner: _Learner = rec[7]
        if learner.ranked is None:  # scored again only when the history has changed
            learner.ranked = self.recommender.recommend(learner.history,
                                                        self.spec.top_k).reshape(-1)
        learner.recs = learner.ranked
        if self.spec.prefetch_segments:
            self._prefetch(learner)
        route = self.cand_down[learner.client][rec[8]][learner.user]
        self.net.send(route, self.spec.response_size, self._answered, rec)

    def _answered(self, rec: list[Any]) -> None:
        rec[_DONE] = self.env._now
        self._choose(rec[7])

    def _item(self, course: int, segment: int) -> int:
        """The catalogue's item id of a segment at the one level watched (plain ints:
        :meth:`Catalogue.item_id` is vectorised and slower per call)."""
        return course * self.spec.segments + segment

    def _prefetch(self, learner: _Learner) -> None:
        """Push the first segments of the recommended courses into the learner's cache."""
        edge = self.caches[learner.cache]
        size = self.segment_bytes
        for course in learner.recs[:self.spec.prefetch_courses].tolist():
            for segment in range(min(self.spec.prefetch_segments, self.spec.segments)):
                item = self._item(course, segment)
                if item in edge.cache or item in edge.pending:
                    continue
                edge.pending[item] = []
                edge.backhaul_bytes += size
                edge.prefetch_bytes += size
                self.net.send(edge.from_origin, size, self._prefetched, (edge, item))

    def _prefetched(self, data: tuple[_EdgeCache, int]) -> None:
        edge, item = data
        if item not in edge.cache and edge.cache.insert(item, self.segment_bytes):
            edge.prefetched += 1
        for waiting in edge.pending.pop(item, []):
            self._send_segment(waiting)

    def _choose(self, learner: _Learner) -> None:
        self._chosen += 1
        recs = learner.recs
        coin = self.follow_rng.random()
        rank = self.rank_rng.random()
        popular = int(self.popularity.sample(1)[0])
        if len(recs) and coin < self.spec.follow:
            self._followed += 1
            # Position bias: the r-th recommendation is taken with weight 1/r.
            weights = self._rank_cdf[len(recs) - 1]
            course = int(recs[int(np.searchsorted(weights, rank, side="right"))])
        else:
            course = popular
        learner.course = course
        learner.segment = 0
        learner.t_first = self.env._now
        self._fetch(learner)

    def _wake_fetch(self, ev: Wake) -> None:
        self._fetch(ev.data)

    def _fetch(self, learner: _Learner) -> None:
        self.net.send(learner.up, self.spec.segment_request_size, self._at_cache,
                      [learner, learner.course, learner.segment, self.env._now, False])

    def _at_cache(self, req: list[Any]) -> None:
        learner: _Learner = req[0]
        edge = self.caches[learner.cache]
        item = self._item(req[1], req[2])
        size = self.segment_bytes
        waiting = edge.pending.get(item)
        if waiting is not None:  # on its way from the origin (a miss or a prefetch): a hit
            stats = edge.cache.stats
            stats.requests += 1
            stats.hits += 1
            stats.bytes_requested += size
            stats.bytes_hit += size
            req[4] = True
            waiting.append(req)
            return
        hit = edge.cache.request(item, size)
        req[4] = hit
        if hit:
            self._send_segment(req)
            return
        edge.backhaul_bytes += size
        if item in edge.cache:  # admitted: later requests wait for this fetch, as hits
            edge.pending[item] = [req]
            self.net.send(edge.from_origin, size, self._from_origin, (edge, item))
        else:  # not admitted (a static set, or larger than the cache): relayed alone
            self.net.send(edge.from_origin, size, self._send_segment, req)

    def _from_origin(self, data: tuple[_EdgeCache, int]) -> None:
        edge, item = data
        for waiting in edge.pending.pop(item, []):
            self._send_segment(waiting)

    def _send_segment(self, req: list[Any]) -> None:
        learner: _Learner = req[0]
        self.net.send(learner.down, self.segment_bytes, self._segment_done, req)

    def _segment_done(self, req: list[Any]) -> None:
        now = self.env._now
        learner: _Learner = req[0]
        self._segments.append((learner.index, learner.cache, req[1], req[2], req[4], req[3],
                               now))
        learner.segment += 1
        if learner.segment < self.spec.watch_segments:
            due = learner.t_first + learner.segment * self.spec.segment_duration
            if due > now:
                Wake(self.env, due - now, self._wake_fetch, learner)
            else:
                self._fetch(learner)
            return
        if not learner.history[learner.course]:
            learner.history[learner.course] = True
            learner.ranked = None
        if self._ledger is not None:
            self._settle(learner)
        Wake(self.env, self.think_rng.exponential(self.spec.think_time), self._wake_ask,
             learner)

    def _settle(self, learner: _Learner) -> None:
        """Pay for the finished course: a transaction to the ledger site and its receipt
        (the learner does not wait for it)."""
        assert self._ledger is not None and self.spec.settlement is not None
        up = self._ledger[1][learner.client][0][learner.user]
        self._settle_sent.append(self.env._now)
        self.net.send(up, self.spec.settlement.request_size, self._at_ledger,
                      [learner, self.env._now])

    def _at_ledger(self, tx: list[Any]) -> None:
        assert self._ledger is not None and self.spec.settlement is not None
        self._ledger[0].submit(self.spec.settlement.job, self._settled_job, tx)

    def _settled_job(self, tx: list[Any], _start: float) -> None:
        assert self._ledger is not None and self.spec.settlement is not None
        learner: _Learner = tx[0]
        down = self._ledger[1][learner.client][1][learner.user]
        self.net.send(down, self.spec.settlement.response_size, self._receipt, tx, True)

    def _receipt(self, tx: list[Any], t: float) -> None:
        self._settled.append((tx[1], t))

    # ------------------------------------------------------------------ results

    def _ask_columns(self) -> dict[str, np.ndarray]:
        rows = np.array([r[:7] for r in self._asks], dtype=float).reshape(-1, 7)
        return {"learner": rows[:, _L].astype(np.int64), "site": rows[:, _S].astype(np.int64),
                "t_send": rows[:, _SEND], "t_arrive": rows[:, _ARRIVE],
                "t_start": rows[:, _START], "t_end": rows[:, _END],
                "t_response": rows[:, _DONE]}

    def tables(self) -> dict[str, Table]:
        cols = self._ask_columns()
        n = len(cols["t_send"])
        group = np.array([self.groups[lr.client] for lr in self.learners], dtype=object)
        user = np.array([lr.user for lr in self.learners], dtype=np.int64)
        sites = np.array(self.site_names, dtype=object)
        seg = np.array(self._segments, dtype=float).reshape(-1, 7)
        who = seg[:, 0].astype(np.int64)
        caches = np.array([c.name for c in self.caches], dtype=object)
        m = len(seg)
        return {
            "recommendations": {
                "workload": np.full(n, self.spec.name, dtype=object),
                "group": group[cols["learner"]] if n else np.array([], dtype=object),
                "user": user[cols["learner"]] if n else np.array([], dtype=np.int64),
                "site": sites[cols["site"]] if n else np.array([], dtype=object),
                **{k: cols[k] for k in ("t_send", "t_arrive", "t_start", "t_end",
                                        "t_response")},
                "latency_s": cols["t_response"] - cols["t_send"],
            },
            "content": {
                "workload": np.full(m, self.spec.name, dtype=object),
                "group": group[who] if m else np.array([], dtype=object),
                "user": user[who] if m else np.array([], dtype=np.int64),
                "site": caches[seg[:, 1].astype(np.int64)] if m else np.array([], dtype=object),
                "course": seg[:, 2].astype(np.int64),
                "segment": seg[:, 3].astype(np.int64),
                "hit": seg[:, 4] != 0,
                "bytes": np.full(m, float(self.segment_bytes)),
                "t_request": seg[:, 5].copy(),
                "t_done": seg[:, 6].copy(),
            },
        }

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        cols = self._ask_columns()
        t = cols["t_send"]
        done = (t >= start) & (t < end) & ~np.isnan(cols["t_response"])
        latency = (cols["t_response"] - t)[done]
        queue = (cols["t_start"] - cols["t_arrive"])[done]
        inference = (cols["t_end"] - cols["t_start"])[done]
        network = latency - queue - inference
        seg = np.array(self._segments, dtype=float).reshape(-1, 7)
        window = (seg[:, 5] >= start) & (seg[:, 5] < end)
        hits = seg[window, 4] != 0
        size = float(self.segment_bytes)

        def mean(values: np.ndarray) -> float | None:
            return float(values.mean()) if len(values) else None

        section: dict[str, Any] = {
            "learners": len(self.learners),
            "recommendations": int(done.sum()),
            "rejected": int(sum(start <= t < end for t in self._rejected)),
            "latency_s": latency_summary(latency, t[done]),
            "network_s_mean": mean(network),
            "queue_s_mean": mean(queue),
            "inference_s_mean": mean(inference),
            "followed_ratio": self._followed / self._chosen if self._chosen else None,
            "segment_requests": int(window.sum()),
            "hit_ratio": mean(hits.astype(float)),
            "byte_hit_ratio": mean(hits.astype(float)),  # segments are of one size
            "bytes_saved": float(hits.sum()) * size,
            "backhaul_bytes": float(sum(c.backhaul_bytes for c in self.caches)),
            "prefetch_bytes": float(sum(c.prefetch_bytes for c in self.caches)),
            "prefetched": sum(c.prefetched for c in self.caches),
        }
        if self.spec.settlement is not None:
            tx = np.array(self._settled, dtype=float).reshape(-1, 2)
            counted = (tx[:, 0] >= start) & (tx[:, 0] < end)
            section["settlements"] = int(sum(start <= t < end for t in self._settle_sent))
            section["settlement_latency_s"] = latency_summary(
                tx[counted, 1] - tx[counted, 0], tx[counted, 0])
        return {"learning": {self.spec.name: section}}
