"""One run of a scenario: build the models, run the engine, collect tables and summary.

This module is the run builder: with the CLI it is the only place that knows
every package.  The engine, topology and network never import a workload; they
are wired to the workloads here, through the workload registry.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.compute import ComputeSite, compute_site
from sim.engine import Engine, Wake
from sim.net.linkload import ChannelLoad
from sim.net.linktrace import LinkTraces
from sim.net.network import FlowNetwork
from sim.net.topology import Topology
from sim.plugins import load_builtin_plugins
from sim.run.overload import overload_warnings
from sim.run.records import ChainedTable, LazyTable, SpillFolder
from sim.run.workload import (
    WORKLOADS,
    RunContext,
    Site,
    SiteStorage,
    Table,
    Workload,
    storage_problems,
)
from sim.scenario.problems import Problem, ScenarioError
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.radio.access import RadioAccess
    from sim.scenario.loader import LoadedScenario

__all__ = ["Run", "RunOutput", "prepared_run", "run_id_of"]

SUMMARY_SCHEMA = "edgestream.summary/1"

FOLD_SEGMENTS = 1 << 16
"""The network's rate segments are folded into the channel loads once this many
are buffered (checked every FOLD_INTERVAL simulated seconds): 2 MB of buffer."""
FOLD_INTERVAL = 1.0


@dataclass
class RunOutput:
    """What a finished run hands to the results writer."""

    scenario: Scenario
    run_id: str
    tables: dict[str, Table]
    summary: dict[str, Any]
    stats: dict[str, float] = field(default_factory=dict)
    """Wall time, event count: facts about the execution, never in summary.json."""


def run_id_of(scenario: Scenario) -> str:
    """Deterministic run id: the seed and a hash of the effective scenario."""
    canonical = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
    return f"seed{scenario.seed}-{digest}"


def route_problems(scenario: Scenario, topology: Topology,
                   source_dir: str | None = None) -> list[Problem]:
    """Routing problems of every workload (e.g. users that cannot reach their site),
    sites whose caches do not fit their storage (which caches go where is routing),
    and the data files a workload reads (its optional ``file_problems``, e.g. a video
    manifest), relative to `source_dir`."""
    problems: list[Problem] = []
    for i, spec in enumerate(scenario.workloads):
        kind = WORKLOADS.get(spec.kind)
        problems += kind.route_problems(spec, i, topology)
        files = getattr(kind, "file_problems", None)
        if files is not None:
            problems += files(spec, i, source_dir)
    return problems + storage_problems(scenario, topology)


class Run:
    """A scenario wired to its models, ready to execute once."""

    def __init__(self, scenario: Scenario, source_dir: str | None = None,
                 spill_dir: str | Path | None = None) -> None:
        self.source_dir = source_dir
        """Directory of the scenario file: relative data files (traces) are read from it."""
        load_builtin_plugins()  # before route_problems: workloads come from the registry
        self.scenario = scenario
        self.run_id = run_id_of(scenario)
        self.topology = Topology(scenario)
        problems = route_problems(scenario, self.topology, source_dir)
        if problems:
            raise ScenarioError(problems)
        self.engine = Engine(scenario.seed, scenario.duration, scenario.warmup)
        env = self.engine.env
        self.network = FlowNetwork(env, self.topology, self.engine.streams("network/jitter"),
                                   scenario.network.tcp)
        self.network.horizon = scenario.duration
        self.traces = LinkTraces(scenario, self.topology, self.network, source_dir) \
            if any(link.trace is not None for link in scenario.links) else None
        self.sites: dict[str, ComputeSite] = {
            name: compute_site(env, node, self.engine.streams)
            for name, node in sorted(self.topology.sites.items()) if node.compute is not None
        }
        self.radio = self._build_radio(scenario)
        sites: dict[str, Site] = dict(self.sites)
        self.spill = SpillFolder(spill_dir)
        """Record logs too long to keep in memory (made on first use, in `spill_dir` or
        the system's temporary folder); removed when the run and its output are gone."""
        self.context = RunContext(scenario, self.engine, self.topology, self.network, sites,
                                  storage={name: SiteStorage(node.storage) for name, node
                                           in sorted(self.topology.sites.items())},
                                  source_dir=source_dir, spill=self.spill)
        self.workloads: list[Workload] = [
            WORKLOADS.get(spec.kind)(spec, self.context) for spec in scenario.workloads
        ]
        self._site_rows: list[tuple[float, str, int, int]] = []
        self._grid, self._edges = _load_grid(scenario)
        self.network.bin_edges = self._grid.tolist()
        self._load = ChannelLoad(len(self.topology.channels), self._grid)
        self._loads: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._executed = False

    def _build_radio(self, scenario: Scenario) -> RadioAccess | None:
        """The radio hop, when the scenario has cells (imported only then)."""
        if scenario.radio is None:
            return None
        from sim.radio.access import RadioAccess
        from sim.radio.ran import build_ran

        radio = scenario.radio
        groups = [(g.name, g.count, g.radio) for g in self.topology.groups.values()
                  if g.radio is not None]
        ran = build_ran(radio, groups, self.engine.streams, self.source_dir)
        return RadioAccess(ran, self.network, self.topology, radio.scheduler, radio.pf_window,
                           radio.update_interval, radio.ue_sample_interval, scenario.duration)

    # ------------------------------------------------------------------ running

    def _sample_sites(self, _: Any) -> None:
        now = self.engine.now
        for name, site in self.sites.items():
            self._site_rows.append((now, name, site.queue_length, site.busy))
        if now + self.scenario.sample_interval <= self.scenario.duration:
            Wake(self.engine.env, self.scenario.sample_interval, self._sample_sites)

    def _fold(self, _: Any) -> None:
        """Fold the network's buffered segments into the channel loads, when many."""
        if self.network.pending_segments() >= FOLD_SEGMENTS:
            self._fold_segments()
        if self.engine.now + FOLD_INTERVAL < self.scenario.duration:
            Wake(self.engine.env, FOLD_INTERVAL, self._fold)

    def _fold_segments(self) -> None:
        seg = self.network.take_segments()
        self._load.add(seg["route"], seg["t0"], seg["t1"], seg["rate"],
                       self.network.segment_sets)

    def _end_warmup(self, _: Any) -> None:
        for site in self.sites.values():
            site.mark()

    def execute(self, progress: Callable[[float], None] | None = None) -> RunOutput:
        """Run the scenario to its end and collect the results."""
        if self._executed:
            raise RuntimeError("a Run executes once; build a new one")
        self._executed = True
        started = time.perf_counter()
        env = self.engine.env
        Wake(env, 0.0, self._sample_sites)
        Wake(env, FOLD_INTERVAL, self._fold)
        if self.scenario.warmup > 0:
            Wake(env, self.scenario.warmup, self._end_warmup)
        if self.radio is not None:
            self.radio.start()
        if self.traces is not None:
            self.traces.start()
        for workload in self.workloads:
            workload.start()
        # The run creates millions of short-lived objects and no reference cycles
        # that outlive an event; the cyclic collector would only rescan the growing
        # record lists again and again (it doubled the run time of the benchmark).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.engine.run(progress)
            self.network.flush(self.engine.now)
            if self.radio is not None:
                self.radio.finish(self.engine.now)
            self._loads = None  # a summary taken before the run cached empty loads
            sim_wall = time.perf_counter() - started
            tables = self.tables()
            summary = self.summary()
        except BaseException:
            self.spill.remove()
            raise
        finally:
            if gc_was_enabled:
                gc.enable()
        return RunOutput(
            scenario=self.scenario, run_id=self.run_id, tables=tables, summary=summary,
            stats={"wall_time_s": time.perf_counter() - started, "simulate_s": sim_wall,
                   "events": float(_events_scheduled(env))},
        )

    # ------------------------------------------------------------------ results

    def _channel_bytes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bytes per channel and sample bin, and per channel in the statistics window.

        Returns (bin edges, bytes per bin, bytes in [warmup, duration]); computed once.
        """
        if self._loads is None:
            scn = self.scenario
            edges, grid = self._edges, self._grid
            load = self._load.copy()  # the rest of the segments stay in the network's buffer
            seg = self.network.segments()
            load.add(seg["route"], seg["t0"], seg["t1"], seg["rate"],
                     self.network.segment_sets)
            fine = load.bytes()
            cum = np.concatenate([np.zeros((fine.shape[0], 1)), np.cumsum(fine, axis=1)], axis=1)
            at_edges = cum[:, np.searchsorted(grid, edges)]
            w0, w1 = np.searchsorted(grid, [scn.warmup, scn.duration])
            self._loads = (edges, np.diff(at_edges, axis=1), cum[:, w1] - cum[:, w0])
        return self._loads

    def _capacity_time(self, edges: np.ndarray) -> np.ndarray:
        """Bytes each channel could carry per interval (traced links vary over time)."""
        caps = self.topology.capacities()
        if self.traces is None:
            return np.asarray(caps[:, None] * np.diff(edges)[None, :])
        return self.traces.capacity_time(len(caps), caps, edges)

    def _link_groups(self) -> list[tuple[str, str, list[int]]]:
        """(label, kind, channels): infrastructure channels one by one, access per group."""
        topo = self.topology
        out: list[tuple[str, str, list[int]]] = []
        access: dict[tuple[str, str], list[int]] = {}
        for c in topo.channels:
            if c.group is not None and topo.groups[c.group].radio is not None:
                continue  # radio channels: capacity varies; see the cell tables
            if c.group is None:
                out.append((f"{c.src}->{c.dst}", "link", [c.index]))
            else:
                direction = "uplink" if c.dst == topo.groups[c.group].attach else "downlink"
                access.setdefault((c.group, direction), []).append(c.index)
        for (group, direction), chans in access.items():
            out.append((f"{group}.{direction}", "access", chans))
        return out

    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        for workload in self.workloads:
            for name, table in workload.tables().items():
                if name in tables and (isinstance(table, LazyTable)
                                       or isinstance(tables[name], LazyTable)):
                    tables[name] = ChainedTable([tables[name], table])
                elif name in tables:
                    tables[name] = {k: np.concatenate([tables[name][k], v])
                                    for k, v in table.items()}
                else:
                    tables[name] = table
        edges, per_bin, _ = self._channel_bytes()
        n_bins = len(edges) - 1
        possible = self._capacity_time(edges)
        rows_t, rows_link, rows_kind, rows_bytes, rows_util = [], [], [], [], []
        for label, kind, chans in self._link_groups():
            carried = per_bin[chans].sum(axis=0)
            rows_t.append(edges[:-1])
            rows_link.append(np.full(n_bins, label, dtype=object))
            rows_kind.append(np.full(n_bins, kind, dtype=object))
            rows_bytes.append(carried)
            rows_util.append(carried / possible[chans].sum(axis=0))
        if not rows_t:  # a radio-only scenario has no fixed links
            rows_t, rows_link, rows_kind = [np.zeros(0)], [np.zeros(0, object)], [
                np.zeros(0, object)]
            rows_bytes, rows_util = [np.zeros(0)], [np.zeros(0)]
        tables["link_series"] = {
            "t": np.concatenate(rows_t), "link": np.concatenate(rows_link),
            "kind": np.concatenate(rows_kind), "bytes": np.concatenate(rows_bytes),
            "utilisation": np.concatenate(rows_util),
        }
        if self.radio is not None:
            tables.update(self.radio.tables())
        rows = self._site_rows
        tables["site_series"] = {
            "t": np.array([r[0] for r in rows], dtype=float),
            "site": np.array([r[1] for r in rows], dtype=object),
            "queue": np.array([r[2] for r in rows], dtype=np.int64),
            "busy": np.array([r[3] for r in rows], dtype=np.int64),
        }
        return tables

    def _site_summary(self, now: float) -> dict[str, dict[str, Any]]:
        """Per site: jobs and time averages of its compute, memory when modelled, and
        cache storage when the site sets `storage` (keys absent otherwise, so
        scenarios that do not use them keep their summary byte for byte)."""
        out: dict[str, dict[str, Any]] = {}
        for name in sorted(self.topology.sites):
            entry: dict[str, Any] = {}
            site = self.sites.get(name)
            if site is not None:
                entry = {"jobs": site.completions, **site.averages(now), **site.resources(now)}
            storage = self.context.storage[name]
            if storage.capacity is not None:
                entry.update(storage_bytes=storage.capacity,
                             storage_reserved_bytes=storage.reserved,
                             storage_used_bytes=storage.used)
            if entry:
                out[name] = entry
        return out

    def summary(self) -> dict[str, Any]:
        scn = self.scenario
        start, end = scn.warmup, scn.duration
        out: dict[str, Any] = {
            "schema": SUMMARY_SCHEMA, "scenario": scn.name, "run_id": self.run_id,
            "seed": scn.seed, "duration_s": scn.duration, "warmup_s": scn.warmup,
        }
        requests: dict[str, Any] = {}
        for workload in self.workloads:
            for section, content in workload.summary(start, end).items():
                (requests if section == "requests" else out.setdefault(section, {})).update(
                    content)
        out["requests"] = requests
        out["sites"] = self._site_summary(max(self.engine.now, start))
        carried = self._channel_bytes()[2]
        possible = self._capacity_time(np.asarray([start, end]))[:, 0]
        links: dict[str, Any] = {}
        access: dict[str, Any] = {}
        for label, kind, chans in self._link_groups():
            util = carried[chans] / possible[chans]
            if kind == "link":
                links[label] = {"bytes": float(carried[chans].sum()), "utilisation": float(util[0])}
            else:
                access[label] = {"bytes": float(carried[chans].sum()),
                                 "utilisation_mean": float(util.mean()),
                                 "utilisation_max": float(util.max())}
        out["links"] = links
        out["access"] = access
        if self.radio is not None:
            out["radio"] = self.radio.summary(start, end)
        net = self.network
        out["network"] = {
            "messages_sent": net.messages_sent, "messages_delivered": net.messages_delivered,
            "bytes_sent": net.bytes_sent, "bytes_delivered": net.bytes_delivered,
            "rate_solves": net.solves,
        }
        if self.engine.now > 0:  # a finished run: an overloaded site or link is reported
            warnings = overload_warnings(out)
            if warnings:
                out["warnings"] = warnings
        return out


def _load_grid(scn: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """(fine grid, sample bin edges) of the channel loads: the bins and the warmup."""
    n_bins = max(1, int(np.ceil(scn.duration / scn.sample_interval - 1e-9)))
    edges = np.arange(n_bins + 1) * scn.sample_interval
    edges[-1] = scn.duration  # the last bin may be shorter than the others
    return np.union1d(edges, [scn.warmup]), edges


def _events_scheduled(env: Any) -> int:
    """Events the environment has scheduled (simpy numbers them with a counter)."""
    text = repr(env._eid)
    return int(text[text.index("(") + 1 : text.index(")")])


def prepared_run(loaded: LoadedScenario, *, force: bool = False) -> Run:
    """The run of a loaded scenario, checked before anything executes: its work
    estimate against the limits (unless ``force``; before anything is allocated), its
    routing (when it is built) and qos targets that name metrics its summary has, each
    problem located at its place in the file."""
    from sim.qos.targets import check_targets, flatten
    from sim.run.work_estimate import estimate_problems

    try:
        if not force:
            too_much = estimate_problems(loaded.scenario, loaded.source_dir)
            if too_much:
                raise ScenarioError(too_much)
        run = Run(loaded.scenario, loaded.source_dir)
        problems = check_targets(loaded.scenario.qos, flatten(run.summary()))
        if problems:
            raise ScenarioError(problems)
    except ScenarioError as exc:
        raise ScenarioError(loaded.document.locate_all(exc.problems)) from None
    return run
