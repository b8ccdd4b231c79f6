"""pytest plugin (entry point ``pytest11``): scenario files with ``qos:`` targets as tests.

``pytest scenarios/`` then works in any CI that runs pytest: every qos target of
every scenario is one test item, passing or failing with the metric, the bound
and the value in its report, and pytest's own ``--junitxml``, ``-k``, ``-x`` and
``-n`` (xdist) apply.  Items are one per target rather than one per scenario
with sub-reports, because a CI's test view lists items: a missed p95 target is
then a red line of its own, named ``<file>::<metric>`` (the metric only, never
the bound, so a CI's test history survives a tuned target; the bound and the
value are in the failure message and the item's ``user_properties``).

Which YAML files are collected
    A file ending in ``.yaml``/``.yml`` whose top level has a ``nodes:`` key and
    a ``qos:`` list (so other YAML, e.g. CI configs or sweep files, is ignored),
    and only when the file lies inside a path given on the command line
    (``pytest scenarios/``) or the ini option ``edgestream_scenarios = true`` is
    set.  Installing edgestream therefore never adds tests to a project's plain
    ``pytest`` run over its ``testpaths``.

How a file runs
    The scenario is loaded and validated at collection: a bad scenario (unit,
    unknown key, unknown metric, ...) is a collection error that shows every
    located problem (``file:line:column: key path: message``).  The first item
    of a file runs the scenario in memory (no result folder is written) with
    the scenario's seed; the other items of the file reuse that summary.  With
    the ini option ``edgestream_replications = N`` the seeds seed..seed+N-1 run
    and each target is judged on the 95% CI of the mean, as ``check
    --replications N`` does.

Baselines
    The ini option ``edgestream_baselines`` lists baseline files (written by
    ``check --write-baseline``; one per line, relative to the ini file).  Each
    names its scenario; a scenario file with a baseline gets one more item per
    target, ``<metric> (baseline)``, that fails on a regression exactly as
    ``check --baseline`` does (the same Welch/Holm rule of
    :mod:`sim.qos.baseline`, tolerance ``edgestream_tolerance``, default 5%).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sim.qos.targets import Verdict
    from sim.scenario.schema import QosTarget, Scenario

__all__ = ["QosItem", "QosTargetMissedError", "ScenarioFile", "pytest_addoption",
           "pytest_collect_file", "pytest_configure"]

INI_COLLECT = "edgestream_scenarios"
INI_REPLICATIONS = "edgestream_replications"
INI_BASELINES = "edgestream_baselines"
INI_TOLERANCE = "edgestream_tolerance"
_TOP_LEVEL_KEY = re.compile(r"^(qos|nodes)\s*:", re.MULTILINE)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_COLLECT, type="bool", default=False,
                  help="edgestream: collect scenario files with qos targets under every "
                       "collected directory, not only under paths given on the command line")
    parser.addini(INI_REPLICATIONS, type="string", default="1",
                  help="edgestream: replications per scenario; targets are judged on the "
                       "95%% CI of the mean when > 1")
    parser.addini(INI_BASELINES, type="linelist", default=[],
                  help="edgestream: baseline files (check --write-baseline), relative to "
                       "the ini file; a scenario's regressions against its baseline fail")
    parser.addini(INI_TOLERANCE, type="string", default="5%",
                  help="edgestream: allowed regression relative to the baseline (default 5%%)")


def pytest_configure(config: pytest.Config) -> None:
    _replications(config)  # a bad ini value is a usage error before anything runs
    _tolerance(config)


def _tolerance(config: pytest.Config) -> float:
    from sim.qos.gate import parse_tolerance

    try:
        return parse_tolerance(str(config.getini(INI_TOLERANCE)))
    except ValueError as exc:
        raise pytest.UsageError(f"{INI_TOLERANCE}: {exc}") from None


_BASELINES = pytest.StashKey[dict[object, Any]]()


def _baselines(config: pytest.Config) -> dict[object, Any]:
    """The ini's baselines by scenario name, read once; a bad file is a usage error."""
    if _BASELINES not in config.stash:
        from sim.qos.baseline import parse_baseline
        from sim.run.results import read_summary

        base = config.inipath.parent if config.inipath else config.invocation_params.dir
        found: dict[object, Any] = {}
        for entry in config.getini(INI_BASELINES):
            path = base / entry
            try:
                baseline = parse_baseline(read_summary(path))
            except (OSError, ValueError) as exc:
                raise pytest.UsageError(f"{INI_BASELINES}: {path}: {exc}") from None
            found[baseline.scenario] = baseline
        config.stash[_BASELINES] = found
    return config.stash[_BASELINES]


# ------------------------------------------------------------------- collecting


_EXPLICIT = pytest.StashKey[list[Path]]()


def _explicit_paths(config: pytest.Config) -> list[Path]:
    """The paths named on the command line (not the ini's testpaths), resolved once."""
    if _EXPLICIT not in config.stash:
        base = config.invocation_params.dir
        config.stash[_EXPLICIT] = (
            [(base / arg.split("::", 1)[0]).resolve() for arg in config.args]
            if config.args_source == pytest.Config.ArgsSource.ARGS else [])
    return config.stash[_EXPLICIT]


def _wanted(config: pytest.Config, path: Path) -> bool:
    if config.getini(INI_COLLECT):
        return True
    resolved = path.resolve()
    return any(resolved == p or p in resolved.parents for p in _explicit_paths(config))


def _is_scenario(path: Path) -> bool:
    """A top-level ``nodes:`` key and a ``qos:`` list; decided without validating.

    A plain text scan finds both keys in block-style YAML without parsing (and
    also finds them in a scenario with a syntax error, which must then be
    reported, not ignored); other YAML is parsed to look for them.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if {m.group(1) for m in _TOP_LEVEL_KEY.finditer(text)} == {"qos", "nodes"}:
        return True
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and "nodes" in data and isinstance(data.get("qos"), list)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if not _wanted(parent.config, file_path) or not _is_scenario(file_path):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


def _shown(config: pytest.Config, path: Path) -> str:
    """The file name as messages show it: relative to where pytest was started.

    Only while that is still the working directory, since the loader opens the
    name it shows.
    """
    if Path.cwd() != config.invocation_params.dir:
        return str(path)
    try:
        return os.path.relpath(path, config.invocation_params.dir)
    except ValueError:  # another drive on Windows
        return str(path)


def _replications(config: pytest.Config) -> int:
    text = str(config.getini(INI_REPLICATIONS)).strip() or "1"
    try:
        value = int(text)
    except ValueError:
        raise pytest.UsageError(f"{INI_REPLICATIONS} = {text!r} is not a whole number") from None
    if value < 1:
        raise pytest.UsageError(f"{INI_REPLICATIONS} must be at least 1")
    return value


class ScenarioFile(pytest.File):
    """A scenario file: one :class:`QosItem` per target, one run shared by all."""

    _scenario: Scenario | None = None
    _outcome: list[dict[str, Any]] | Exception | None = None
    _regressions: list[Verdict] | None = None

    def collect(self) -> Iterator[QosItem]:
        from sim.run.builder import prepared_run
        from sim.scenario.loader import load_scenario
        from sim.scenario.problems import Problem, ScenarioError

        try:
            loaded = load_scenario(_shown(self.config, self.path))
            prepared_run(loaded)
        except ScenarioError as exc:
            count = len(exc.problems)
            lines = [p.format() for p in exc.problems]
            lines.append(f"{count} problem{'s' if count != 1 else ''} found in the scenario")
            raise self.CollectError("\n".join(lines)) from None
        self._scenario = loaded.scenario
        from sim.qos.baseline import baseline_problems

        baseline = _baselines(self.config).get(loaded.scenario.name)
        if baseline is not None:
            problems = baseline_problems(loaded.scenario.qos, baseline, loaded.scenario.name)
            if problems:
                raise self.CollectError("\n".join(f"{INI_BASELINES}: {p}" for p in problems))
        names = [t.metric for t in loaded.scenario.qos]
        kinds = ("target",) if baseline is None else ("target", "baseline")
        for kind in kinds:
            for i, target in enumerate(loaded.scenario.qos):
                name = names[i] if names.count(names[i]) == 1 else f"{names[i]} (qos[{i}])"
                if kind == "baseline":
                    name += " (baseline)"
                line = loaded.document.locate(Problem(("qos", i), "")).line
                yield QosItem.from_parent(self, name=name, target=target, kind=kind,
                                          line=None if line is None else line - 1)

    def regressions(self) -> list[Verdict]:
        """The baseline verdicts of all targets, judged together (one Holm family)."""
        from sim.qos.baseline import baseline_verdicts

        if self._regressions is None:
            assert self._scenario is not None
            baseline = _baselines(self.config)[self._scenario.name]
            self._regressions = baseline_verdicts(self._scenario.qos, baseline,
                                                  self.summaries(), _tolerance(self.config))
        return self._regressions

    def summaries(self) -> list[dict[str, Any]]:
        """The summaries of the scenario's runs, computed by the first item that asks."""
        from sim.run.builder import Run

        if self._outcome is None:
            scenario = self._scenario
            assert scenario is not None, "collect() runs before any item"
            seeds = range(scenario.seed, scenario.seed + _replications(self.config))
            try:
                self._outcome = [
                    Run(scenario.model_copy(update={"seed": s}), str(self.path.parent))
                    .execute().summary for s in seeds]
            except Exception as exc:
                self._outcome = exc
                raise
        if isinstance(self._outcome, Exception):
            raise RuntimeError(f"the run of {_shown(self.config, self.path)} failed in an "
                               f"earlier test: {self._outcome!r}")
        return self._outcome


class QosTargetMissedError(Exception):
    """A qos target missed: the verdicts that failed."""

    def __init__(self, verdicts: Sequence[Verdict]) -> None:
        self.verdicts = tuple(verdicts)
        super().__init__("; ".join(v.message() for v in self.verdicts))


class QosItem(pytest.Item):
    """One qos target of a scenario: passes when every bound of it holds."""

    def __init__(self, *, target: QosTarget, line: int | None, kind: str = "target",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.line = line
        self.kind = kind

    def runtest(self) -> None:
        from sim.qos.gate import evaluate_replicated

        parent = self.parent
        assert isinstance(parent, ScenarioFile)
        if self.kind == "baseline":
            verdicts = [v for v in parent.regressions() if v.metric == self.target.metric
                        and getattr(self.target, "max" if v.op == "<=" else "min") is not None]
        else:
            verdicts = evaluate_replicated([self.target], parent.summaries())
        for v in verdicts:
            self.user_properties.append(("metric", v.metric))
            self.user_properties.append(("bound", f"{v.op} {v.bound}"))
            self.user_properties.append(("value", v.value_text()))
        failed = [v for v in verdicts if not v.passed]
        if failed:
            raise QosTargetMissedError(failed)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if isinstance(excinfo.value, QosTargetMissedError):
            where = _shown(self.config, self.path)
            if self.line is not None:
                where += f":{self.line + 1}"
            what = "regression against the baseline" if self.kind == "baseline" else \
                "qos target missed"
            return "\n".join(f"{where}: {what}: {v.message()}"
                             for v in excinfo.value.verdicts)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.line, f"qos: {self.name}"
