"""Request/response traffic: users ask a compute site and wait for the answer.

One request is a chain of callbacks, with no simpy process behind it:

    arrival -> uplink transfer -> [forward to the cloud] -> queue and service
            -> response transfer -> record

The response is sent passively (see :mod:`sim.net.network`): its arrival only needs
recording, which saves an event per request.

A serving MEC site forwards a fraction of the requests to `forward_to` on arrival,
without serving them itself (the share it cannot or should not answer).  Every
request is one row of the ``requests`` table.

A request in flight is a small list of numbers; when its response is recorded
the list is appended to a flat ``array('d')`` while it is still in the CPU cache.
Turning 600,000 scattered lists into columns after the run cost more than a
second; the flat array becomes the table without copying.
"""

from __future__ import annotations

import math
from array import array
from typing import Any, ClassVar

import numpy as np

from edge.overview import REQUESTS
from edge.placement import (
    Candidate,
    candidate_sites,
    make_placement,
    placed_routes,
    placement_problems,
)
from edge.schema import RequestResponseSpec
from sim.arrivals import ArrivalStream, make_arrivals
from sim.distributions import block_sampler
from sim.engine import Wake
from sim.net.network import Route
from sim.net.topology import Topology
from sim.run.workload import WORKLOADS, RunContext, SummarySection, Table
from sim.scenario.problems import Problem
from sim.scenario.workload_spec import WorkloadSpec
from sim.sites import serving_site
from sim.stats import latency_summary

__all__ = ["RequestResponse"]

# Positions in a request record (a plain list of numbers, cheap to create and update).
_ID, _CLIENT, _USER, _SITE, _FWD, _SEND, _ARRIVE, _START, _END, _DONE, _REJECTED = range(11)
_WIDTH = 11


class _Client:
    """One user group of the workload and its precomputed routes."""

    def __init__(self, index: int, group: str, site: str, up: list[Route],
                 down: list[Route], stream: ArrivalStream) -> None:
        self.index = index
        self.group = group
        self.site = site
        self.up = up
        self.down = down
        self.stream = stream
        self.fwd_down: list[Route] = []
        self.site_index = 0
        self.down_by_site: dict[int, list[Route]] = {}
        """Response routes per site index (the serving site, forward site, candidates)."""
        self.names: list[str] = [site]
        """Candidate sites, nearest first (placement), or just the serving site."""
        self.candidates: list[Candidate] = []
        self.up_by_candidate: list[list[Route]] = []
        self.candidate_index: list[int] = []
        self.next_user = 0
        """The user whose request is the next arrival of this group."""


@WORKLOADS.register("request_response")
class RequestResponse:
    """Users of some groups send requests to a site with compute."""

    spec_class: ClassVar[type[WorkloadSpec]] = RequestResponseSpec
    sections: ClassVar[tuple[SummarySection, ...]] = (REQUESTS,)
    plots: ClassVar[str] = ""

    @staticmethod
    def route_problems(spec: RequestResponseSpec, index: int,
                       topology: Topology) -> list[Problem]:
        return route_problems(spec, index, topology)

    def __init__(self, spec: RequestResponseSpec, ctx: RunContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.env = ctx.engine.env
        self.net = ctx.network
        self.kind = spec.job_kind
        self._inflight: dict[int, list[float]] = {}
        self._done = array("d")
        self._next_id = 0
        self._cols: dict[str, np.ndarray] | None = None
        self._forward = spec.forward_fraction
        coin_rng = ctx.engine.streams(f"workload/{spec.name}/forward")
        self._coin = block_sampler(coin_rng.random)
        """Uniform draws for forwarding, one per request that reaches its site."""
        topo = ctx.topology
        self.forward_site: str | None = None
        if spec.forward_fraction > 0:
            self.forward_site = _resolve_site(ctx, spec.forward_to, None, self.kind)
        self.clients: list[_Client] = []
        self._fwd_route: dict[str, Route] = {}
        self.policy = None if spec.placement is None else make_placement(spec.placement)
        for i, group in enumerate(spec.clients):
            attach = topo.groups[group].attach
            names = None if spec.placement is None else candidate_sites(
                topo, spec.placement.sites, attach, self.kind)
            site = _resolve_site(ctx, spec.serve, attach, self.kind) if names is None \
                else names[0]
            paths = topo.user_paths(group, site)
            if paths is None:  # checked when the run was prepared
                raise RuntimeError(f"no route from {group} to {site}")
            stream = make_arrivals(
                spec.arrivals, topo.groups[group].count,
                ctx.engine.streams(f"workload/{spec.name}/arrivals/{group}"))
            client = _Client(i, group, site, [self.net.route(p) for p in paths[0]],
                             [self.net.route(p) for p in paths[1]], stream)
            if self.forward_site is not None and self.forward_site != site:
                fwd = topo.user_paths(group, self.forward_site)
                if fwd is None:
                    raise RuntimeError(f"no route from {group} to {self.forward_site}")
                client.fwd_down = [self.net.route(p) for p in fwd[1]]
                self._fwd_route[site] = self.net.route_between(site, self.forward_site)
            if names is not None:
                client.names = names
            self.clients.append(client)
        self.sites: list[str] = sorted({n for c in self.clients for n in c.names}
                                       | ({self.forward_site} if self.forward_site else set()))
        index = {name: i for i, name in enumerate(self.sites)}
        for client in self.clients:
            client.site_index = index[client.site]
            client.down_by_site[client.site_index] = client.down
            if self.forward_site is not None and self.forward_site != client.site:
                client.down_by_site[index[self.forward_site]] = client.fwd_down
            if self.policy is not None:
                self._add_candidates(client, index)
        self._site_objs = [ctx.sites[name] for name in self.sites]
        self._fwd_index = -1 if self.forward_site is None else index[self.forward_site]
        self._fwd_routes = {index[site]: route for site, route in self._fwd_route.items()}

    def _add_candidates(self, client: _Client, index: dict[str, int]) -> None:
        """Routes to every candidate site of a placed workload, and its latency model."""
        spec = self.spec
        placed = placed_routes(self.ctx, client.group, client.names, self.kind,
                               spec.request_size, spec.response_size)
        client.candidates = placed.candidates
        client.up_by_candidate = placed.up
        client.candidate_index = [index[name] for name in client.names]
        for name, down in zip(client.names, placed.down, strict=True):
            client.down_by_site[index[name]] = down

    # ---------------------------------------------------------------- the chain

    def start(self) -> None:
        for client in self.clients:
            gap, client.next_user = client.stream()
            Wake(self.env, self.spec.start + gap, self._arrive, client)

    def _arrive(self, ev: Wake) -> None:
        client: _Client = ev.data
        user = client.next_user
        now = self.env._now
        gap, client.next_user = client.stream()
        Wake(self.env, gap, self._arrive, client)
        rid = self._next_id
        self._next_id = rid + 1
        nan = math.nan
        site, up = client.site_index, client.up
        if self.policy is not None:
            chosen = self.policy.choose(client.candidates)
            if chosen is None:  # admission control turned it away
                self._done.extend((rid, client.index, user, -1, 0, now, nan, nan, nan, nan, 1))
                return
            site, up = client.candidate_index[chosen], client.up_by_candidate[chosen]
        rec = [rid, client.index, user, site, 0, now, nan, nan, nan, nan, 0]
        self._inflight[rid] = rec
        self.net.send(up[user], self.spec.request_size, self._at_site, rec)

    def _at_site(self, rec: list[Any]) -> None:
        # The coin is drawn for every request reaching its site, forwarded or not.
        if (self._forward > 0.0 and self._coin() < self._forward
                and rec[_SITE] != self._fwd_index):
            rec[_FWD] = 1
            self.net.send(self._fwd_routes[rec[_SITE]], self.spec.request_size,
                          self._at_forward, rec)
            return
        rec[_ARRIVE] = self.env._now
        self._site_objs[rec[_SITE]].submit(self.kind, self._served, rec, self.spec.priority)

    def _at_forward(self, rec: list[Any]) -> None:
        rec[_SITE] = self._fwd_index
        rec[_ARRIVE] = self.env._now
        self._site_objs[rec[_SITE]].submit(self.kind, self._served, rec, self.spec.priority)

    def _served(self, rec: list[Any], start: float) -> None:
        rec[_START] = start
        rec[_END] = self.env._now
        route = self.clients[rec[_CLIENT]].down_by_site[rec[_SITE]][rec[_USER]]
        self.net.send(route, self.spec.response_size, self._responded, rec, True)  # passive

    def _responded(self, rec: list[Any], t: float) -> None:
        rec[_DONE] = t
        self._done.extend(rec)
        del self._inflight[rec[_ID]]

    # ------------------------------------------------------------------ results

    def _columns(self) -> dict[str, np.ndarray]:
        """The records as columns, in request order (computed once, after the run)."""
        n = len(self._done) // _WIDTH + len(self._inflight)
        if self._cols is not None and len(self._cols["t_send"]) == n:
            return self._cols
        done = np.frombuffer(self._done, dtype=float).reshape(-1, _WIDTH)
        pending = np.array(list(self._inflight.values()), dtype=float).reshape(-1, _WIDTH)
        rows = np.concatenate([done, pending])
        rows = rows[np.argsort(rows[:, _ID], kind="stable")]
        cols = {
            "group": rows[:, _CLIENT].astype(np.int32),
            "user": rows[:, _USER].astype(np.int64),
            "site": rows[:, _SITE].astype(np.int32),
            "forwarded": rows[:, _FWD] != 0,
            "rejected": rows[:, _REJECTED] != 0,
            "t_send": rows[:, _SEND].copy(),
            "t_arrive": rows[:, _ARRIVE].copy(),
            "t_start": rows[:, _START].copy(),
            "t_end": rows[:, _END].copy(),
            "t_response": rows[:, _DONE].copy(),
        }
        self._cols = cols
        return cols

    def tables(self) -> dict[str, Table]:
        cols = self._columns()
        groups = np.array([c.group for c in self.clients], dtype=object)
        sites = np.array(self.sites, dtype=object)
        n = len(cols["t_send"])
        return {"requests": {
            "request_id": np.arange(n, dtype=np.int64),
            "workload": np.full(n, self.spec.name, dtype=object),
            "group": groups[cols["group"]] if n else np.array([], dtype=object),
            "user": cols["user"],
            "site": np.asarray(np.where(cols["rejected"], None, sites[cols["site"]]))
            if n else np.array([], dtype=object),
            "forwarded": cols["forwarded"],
            "rejected": cols["rejected"],
            "t_send": cols["t_send"],
            "t_arrive": cols["t_arrive"],
            "t_start": cols["t_start"],
            "t_end": cols["t_end"],
            "t_response": cols["t_response"],
            "latency": cols["t_response"] - cols["t_send"],
            "bytes_up": np.full(n, self.spec.request_size),
            "bytes_down": np.full(n, self.spec.response_size),
        }}

    def summary(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        cols = self._columns()
        sent = (cols["t_send"] >= start) & (cols["t_send"] < end)
        rejected = sent & cols["rejected"]
        done = sent & ~np.isnan(cols["t_response"])
        t_send = cols["t_send"][done]
        latency = cols["t_response"][done] - t_send
        wait = cols["t_start"][done] - cols["t_arrive"][done]
        span = end - start
        section: dict[str, Any] = {
            "sent": int(sent.sum()),
            "completed": int(done.sum()),
            "incomplete": int(sent.sum() - done.sum() - rejected.sum()),
            "rejected": int(rejected.sum()),
            "forwarded": int((sent & cols["forwarded"]).sum()),
            "throughput_per_s": float(done.sum() / span) if span > 0 else 0.0,
            "latency_s": latency_summary(latency, t_send),
            "wait_s": latency_summary(wait, t_send),
        }
        return {"requests": {self.spec.name: section}}




def route_problems(spec: RequestResponseSpec, index: int, topology: Topology) -> list[Problem]:
    """Every client group must reach its serving site and back (and the forward site)."""
    problems: list[Problem] = []
    kind = spec.job_kind
    if spec.placement is not None:
        return placement_problems(topology, spec.clients, index, spec.placement.sites, kind)
    for j, group in enumerate(spec.clients):
        attach = topology.groups[group].attach
        loc = ("workloads", index, "clients", j)
        served = serving_site(topology, spec.serve, attach, kind)
        if served is None:
            problems.append(Problem(loc, f'user group "{group}" reaches no MEC site '
                                         f'serving job kind "{kind}"'))
            continue
        topology.require_path(attach, served, loc, problems,
                              f'user group "{group}" cannot reach "{served}"')
        if spec.forward_fraction > 0:
            target = serving_site(topology, spec.forward_to, None, kind)
            if target is not None and target != served:
                topology.require_path(served, target, ("workloads", index, "forward_to"),
                                      problems, f'"{served}" cannot forward to "{target}"')
    return problems


def _resolve_site(ctx: RunContext, target: str, attach: str | None, kind: str) -> str:
    site = serving_site(ctx.topology, target, attach, kind)
    if site is None:  # excluded by route_problems before the run is built
        raise RuntimeError(f"no site for {target!r} from {attach!r}")
    return site
