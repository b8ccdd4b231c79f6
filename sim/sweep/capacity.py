"""Capacity search: the smallest (or largest) value of one parameter that meets every target.

A planner's question is rarely "what happens at 8 servers" but "how many servers
do I need".  When the targets get easier monotonically as a parameter grows
(servers, bandwidth) or shrinks (user counts), that answer is found by bisection
over the range: log2 of its length in probes instead of a sweep of every value.

Each probe is a point of an ordinary sweep (:mod:`sim.sweep.runner`): the search
rewrites one sweep file with every value probed so far and runs it, so probes are
ordinary run folders with the sweep's seeds (replication ``r`` uses ``seed + r``
at every value: common random numbers), a rerun resumes from the finished runs,
and ``runs.parquet`` holds every probe.  A probe passes when every target passes
by the rule ``check`` uses (:func:`sim.qos.gate.evaluate_replicated`: the 95% CI
of the replication mean must lie on the right side of each bound), so a found
value meets the targets with the same confidence ``check`` gives.

Integer ranges (``servers=1..64``) are searched value by value; a range of
quantities with a unit (``bandwidth=10Mbps..10Gbps``) over a geometric grid from
one end to the other whose steps are at most ``resolution`` (default 10%)
apart: the answer is within that factor of the true threshold.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sim.qos.gate import evaluate_replicated
from sim.qos.targets import Verdict
from sim.run.results import read_summary
from sim.scenario.loader import load_scenario
from sim.scenario.problems import Problem, ScenarioError
from sim.scenario.schema import QosTarget
from sim.scenario.units import UnitError, format_quantity, parse_frequency, parse_rate, parse_size

__all__ = ["Direction", "Probe", "SearchResult", "Vary", "parse_vary", "search"]

Direction = Literal["up", "down"]
"""``up``: the targets get easier as the value grows (servers); ``down``: as it shrinks."""

_UNITS: tuple[tuple[str, Callable[[object], float], str], ...] = (
    ("rate", parse_rate, "bps"), ("size", parse_size, "B"), ("frequency", parse_frequency, "Hz"))
MAX_GRID = 10_000
"""Most grid points of a quantity range: finer resolutions only add probes."""


@dataclass(frozen=True)
class Vary:
    """The parameter searched: its key path and the candidate values, in increasing order."""

    key: str
    low: float
    high: float
    kind: Literal["integer", "rate", "size", "frequency"]
    resolution: float = 0.1
    """Largest relative step of the geometric grid (quantities only)."""

    @property
    def count(self) -> int:
        if self.kind == "integer":
            return int(self.high - self.low) + 1
        steps = math.ceil(math.log(self.high / self.low) / math.log1p(self.resolution) - 1e-9)
        return max(steps, 1) + 1

    def value(self, index: int) -> float:
        if self.kind == "integer":
            return self.low + index
        if index == self.count - 1:
            return self.high
        # Rounded to 6 digits so the --set text, the run id and the table agree.
        raw = self.low * (self.high / self.low) ** (index / (self.count - 1))
        return float(f"{raw:.6g}")

    def text(self, value: float) -> str:
        """The value as a --set value (a whole number, or a number with its SI unit)."""
        if self.kind == "integer":
            return str(int(value))
        unit = next(u for kind, _, u in _UNITS if kind == self.kind)
        return f"{value:.6g} {unit}"

    def shown(self, value: float) -> str:
        return str(int(value)) if self.kind == "integer" else format_quantity(value, self.kind)


def parse_vary(text: str, resolution: float = 0.1) -> Vary:
    """``KEY=LOW..HIGH`` -> :class:`Vary`; a one-line located problem if it is not one."""
    where = f"--vary {text}"

    def bad(message: str) -> ScenarioError:
        return ScenarioError([Problem((), message, file=where)])

    key, sep, span = text.partition("=")
    key, span = key.strip(), span.strip()
    low_text, dots, high_text = span.partition("..")
    if not sep or not key or not dots:
        raise bad("expected KEY=LOW..HIGH, e.g. nodes[mec1].compute.servers=1..64")
    low_text, high_text = low_text.strip(), high_text.strip()
    if re.fullmatch(r"\d+", low_text) and re.fullmatch(r"\d+", high_text):
        low, high = int(low_text), int(high_text)
        if low >= high:
            raise bad(f"the range {low}..{high} is empty; give LOW < HIGH")
        return Vary(key, low, high, "integer")
    if not 0 < resolution <= 1:
        raise bad("--resolution must be above 0% and at most 100%")
    for kind, parse, _ in _UNITS:
        try:
            ends = parse(low_text), parse(high_text)
        except UnitError:
            continue
        if not re.search(r"[A-Za-z]", low_text + high_text):
            break  # plain non-integers: no unit says what grid to use
        if not 0 < ends[0] < ends[1]:
            raise bad(f"the range {low_text}..{high_text} is empty; give 0 < LOW < HIGH")
        vary = Vary(key, ends[0], ends[1], kind, resolution)  # type: ignore[arg-type]
        if vary.count > MAX_GRID:
            raise bad(f"{vary.count:,} grid points; give a coarser --resolution")
        return vary
    raise bad(f"{low_text}..{high_text} is not a range of whole numbers or of rates, sizes "
              "or frequencies with a unit (10Mbps..10Gbps)")


@dataclass(frozen=True)
class Probe:
    """One value tried: the verdict of every target over its replications."""

    value: float
    verdicts: tuple[Verdict, ...]
    summaries: tuple[dict[str, Any], ...] = field(repr=False)
    folders: tuple[Path, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    def excess(self) -> float:
        """How far the failed bounds are off, relative to them: which end is nearer."""
        total = 0.0
        for v in self.verdicts:
            if v.passed:
                continue
            if v.value is None:
                return math.inf
            judged = v.value if v.ci is None else v.ci[1] if v.op == "<=" else v.ci[0]
            miss = judged - v.limit if v.op == "<=" else v.limit - judged
            total += miss / max(abs(v.limit), 1e-12)
        return total


@dataclass(frozen=True)
class SearchResult:
    vary: Vary
    direction: Direction
    direction_detected: bool
    probes: tuple[Probe, ...]
    """In the order they were run."""
    answer: float | None
    """The smallest passing value (``up``) or the largest (``down``); None if none passes."""
    top: Probe
    """The probe at the easy end of the range: its failed verdicts are the floor."""
    sweep_folder: Path

    @property
    def binding(self) -> list[Verdict]:
        """Targets missed at the easy end of the range (empty when a value was found)."""
        return [] if self.answer is not None else [v for v in self.top.verdicts if not v.passed]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "param"


class _Prober:
    """Runs probes as points of one growing sweep file, so they resume and share seeds."""

    def __init__(self, scenario: Path, vary: Vary, fixed: Sequence[str], replications: int,
                 seed: int | None, root: Path, scenario_name: str, workers: int,
                 tables: bool, on_probe: Callable[[Probe], None] | None) -> None:
        from sim.sweep.plan import SWEEPS

        self.scenario, self.vary, self.fixed = scenario.resolve(), vary, list(fixed)
        self.replications, self.seed, self.root = replications, seed, root
        self.name = f"size-{_slug(scenario_name)[:20]}-{_slug(vary.key)}"
        self.folder = root / SWEEPS / self.name
        self.workers, self.tables, self.on_probe = workers, tables, on_probe
        self.values: list[float] = []
        self.probes: list[Probe] = []
        self.targets: list[QosTarget] = []

    def _write_sweep_file(self) -> Path:
        spec: dict[str, Any] = {
            "name": self.name, "base": str(self.scenario),
            "parameters": [{"path": self.vary.key, "name": "size_value",
                            "values": [self.vary.text(v) if self.vary.kind != "integer"
                                       else int(v) for v in sorted(self.values)]}],
            "replications": self.replications, "set": self.fixed}
        if self.seed is not None:
            spec["seed"] = self.seed
        path = self.folder / "size.sweep.yaml"
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_text("# written by `edgestream size`: the values probed so far\n"
                        + yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return path

    def probe(self, index: int) -> Probe:
        from sim.sweep.runner import load_sweep, run_sweep

        value = self.vary.value(index)
        known = next((p for p in self.probes if p.value == value), None)
        if known is not None:
            return known
        self.values.append(value)
        plan = load_sweep(self._write_sweep_file(), self.root)
        run_sweep(plan, workers=self.workers, tables=self.tables)
        wanted = self.vary.text(value) if self.vary.kind != "integer" else int(value)
        runs = sorted((r for r in plan.runs if r.params["size_value"] == wanted),
                      key=lambda r: r.replication)
        summaries = tuple(read_summary(r.folder) for r in runs)
        verdicts = tuple(evaluate_replicated(self.targets, summaries))
        probe = Probe(value, verdicts, summaries, tuple(r.folder for r in runs))
        self.probes.append(probe)
        if self.on_probe is not None:
            self.on_probe(probe)
        return probe


def search(scenario: str | Path, vary: Vary, *, fixed: Sequence[str] = (),
           replications: int = 3, seed: int | None = None, root: Path | str = "results",
           direction: Direction | None = None, workers: int = 1, tables: bool = False,
           on_probe: Callable[[Probe], None] | None = None) -> SearchResult:
    """Bisect `vary`'s range for the boundary value of the scenario's qos targets.

    Both ends are probed first (that also tells the direction when it is not
    given); then the range is halved until the passing and failing values are
    neighbours.  Raises ScenarioError (located at ``--vary``) for a key the
    scenario does not have or a scenario without targets.
    """
    loaded = _check(scenario, vary, fixed)
    prober = _Prober(Path(scenario), vary, fixed, replications, seed, Path(root),
                     loaded.scenario.name, workers, tables, on_probe)
    prober.targets = list(loaded.scenario.qos)
    last = vary.count - 1
    low, high = prober.probe(0), prober.probe(last)
    detected = direction is None
    if direction is None:
        if low.passed != high.passed:
            direction = "up" if high.passed else "down"
        elif low.passed:
            direction = "up"  # every value passes: the smallest is the answer
        else:
            direction = "up" if high.excess() <= low.excess() else "down"
    easy, hard = (last, 0) if direction == "up" else (0, last)
    top = high if direction == "up" else low
    answer: float | None = None
    if top.passed:
        bottom = low if direction == "up" else high
        if bottom.passed:
            answer = bottom.value
        else:
            # Invariant: `hard` fails, `easy` passes.
            while abs(easy - hard) > 1:
                mid = (easy + hard) // 2
                if prober.probe(mid).passed:
                    easy = mid
                else:
                    hard = mid
            answer = vary.value(easy)
    return SearchResult(vary, direction, detected, tuple(prober.probes), answer, top,
                        prober.folder)


def _check(scenario: str | Path, vary: Vary, fixed: Sequence[str]) -> Any:
    """The scenario at both ends of the range; problems of the key are located at --vary."""
    where = f"--vary {vary.key}={vary.text(vary.low)}..{vary.text(vary.high)}"
    loaded = None
    for value in (vary.low, vary.high):
        argument = f"{vary.key}={vary.text(value)}"
        try:
            loaded = load_scenario(scenario, [*fixed, argument])
        except ScenarioError as exc:
            prefix = f"--set {argument}"
            problems = [Problem((), p.message, file=where) if p.file == prefix else p
                        for p in exc.problems]
            raise ScenarioError(problems) from None
    assert loaded is not None
    if not loaded.scenario.qos:
        raise ScenarioError([Problem(("qos",), "the scenario has no qos targets to size for",
                                     file=str(scenario))])
    return loaded
