"""`check`: run scenarios and judge their `qos:` targets (exit 1 when one is missed).

The CI gate of the project.  Beyond one run judged against its targets it can

* run ``--replications N`` seeds and judge each target on the 95% CI of the
  replication mean (``--mean-only``: on the mean), see :mod:`sim.qos.gate`;
* record a replicated baseline (``--write-baseline FILE``: per metric the mean,
  its sd, 95% CI and n) and compare later replications with it
  (``--baseline``): a regression beyond ``--tolerance`` that is significant at
  a family-wise false-alarm rate of 1% fails even when the target still
  passes, see :mod:`sim.qos.baseline`;
* write a JUnit XML report (``--junit FILE``) for the CI's test view.

Exit codes stay those of the CLI: 1 when any target or baseline check fails,
2 on bad input (the scenario, the baseline file or the options), checked before
anything runs whenever possible.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from sim.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_QOS,
    add_run_options,
    overrides,
    print_problems,
    run_one,
)
from sim.qos.junit import Case, Suite, cases_of, write_junit
from sim.scenario.limits import MAX_REPLICATIONS
from sim.scenario.problems import Problem, ScenarioError

if TYPE_CHECKING:
    from sim.qos.baseline import Baseline

__all__ = ["add_parser", "run"]


def _replications(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("give at least 1 replication")
    if value > MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(f"at most {MAX_REPLICATIONS} replications")
    return value


def add_parser(sub: Any) -> None:
    chk = sub.add_parser(
        "check", help="run scenarios and judge their qos targets (exit 1 on a miss)",
        description="Run each scenario and judge its qos targets. Exit 1 when a target or a "
                    "baseline comparison fails, 2 on bad input.")
    chk.add_argument("scenarios", nargs="+", help="YAML files")
    add_run_options(chk)
    gate = chk.add_argument_group("CI gates")
    gate.add_argument("--replications", type=_replications, default=1, metavar="N",
                      help="run seeds seed..seed+N-1 and judge each target on the 95%% CI of "
                           "the mean: a max passes only if the CI is below it (default 1)")
    gate.add_argument("--mean-only", action="store_true",
                      help="with replications, judge the mean instead of the CI")
    gate.add_argument("--baseline", action="append", default=[], metavar="FILE",
                      help="a baseline file (--write-baseline), or the summary.json or run "
                           "folder of one earlier run; fail if a qos metric got significantly "
                           "worse by more than --tolerance (one per scenario, in order)")
    gate.add_argument("--write-baseline", action="append", default=[], metavar="FILE",
                      help="store the replications' mean, sd, 95%% CI and n of every metric "
                           "as a baseline (one per scenario, in order)")
    gate.add_argument("--tolerance", default="5%",
                      help="allowed regression relative to the baseline value (default 5%%)")
    gate.add_argument("--junit", type=Path, metavar="FILE",
                      help="write a JUnit XML report: one test case per target")


def _read_baseline(path: str, targets: Any, scenario: str) -> Baseline:
    """The baseline, or a ScenarioError naming the file and what is wrong."""
    from sim.qos.baseline import baseline_problems, parse_baseline
    from sim.run.results import read_summary

    try:
        baseline = parse_baseline(read_summary(path))
    except FileNotFoundError:
        raise ScenarioError([Problem((), "no such file or run folder", file=path)]) from None
    except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ScenarioError([Problem((), f"not a baseline or run summary: {exc}",
                                     file=path)]) from None
    problems = baseline_problems(targets, baseline, scenario)
    if problems:
        raise ScenarioError([Problem((), p, file=path) for p in problems])
    return baseline


def _validate(path: str, ns: argparse.Namespace) -> None:
    """Raise the located problems of the scenario and its targets, as ``validate`` does."""
    from sim.run.builder import prepared_run
    from sim.scenario.loader import load_scenario

    prepared_run(load_scenario(path, overrides(ns)), force=ns.force)


def _check_one(path: str, baseline_path: str | None, write_path: str | None,
               tolerance: float, ns: argparse.Namespace,
               console: Console) -> tuple[Suite, bool]:
    """Run one scenario's replications and judge them; (JUnit suite, all passed)."""
    from sim.qos.baseline import baseline_document, baseline_verdicts, write_baseline
    from sim.qos.gate import evaluate_replicated
    from sim.qos.targets import verdict_table
    from sim.scenario.loader import load_scenario

    started = time.perf_counter()
    scn = load_scenario(path, overrides(ns)).scenario
    baseline = None
    if baseline_path is not None:
        _validate(path, ns)  # a typo in a metric is reported as such, not as "not in baseline"
        baseline = _read_baseline(baseline_path, scn.qos, scn.name)
    n = ns.replications
    seeds = list(range(scn.seed, scn.seed + n))
    runs = [run_one(path, ns if n == 1 else argparse.Namespace(
        **{**vars(ns), "seed": seed, "warned": seed != seeds[0]}), console) for seed in seeds]
    summaries = [summary for summary, _ in runs]
    folders = [folder for _, folder in runs]
    where = str(folders[0]) if n == 1 else f"{folders[0].parent}, seeds {seeds[0]}..{seeds[-1]}"
    if write_path is not None:
        try:
            written = write_baseline(baseline_document(scn.name, seeds, summaries), write_path)
        except OSError as exc:
            raise ScenarioError([Problem((), f"cannot write the baseline: {exc.strerror}",
                                         file=f"--write-baseline {write_path}")]) from None
        console.print(f"baseline: {written} ({n} replication{'s' if n != 1 else ''})",
                      soft_wrap=True, markup=False)
    suite = Suite(path, properties={
        "scenario": scn.name, "file": path, "seeds": " ".join(map(str, seeds)),
        "results": " ".join(map(str, folders)), "judged": "mean" if ns.mean_only else "ci95"})
    if not scn.qos:
        console.print(f"{path}: no qos targets to check")
        suite.time = time.perf_counter() - started
        return suite, True
    verdicts = evaluate_replicated(scn.qos, summaries, mean_only=ns.mean_only)
    if baseline is not None:
        suite.properties["baseline"] = baseline_path or ""
        suite.properties["tolerance"] = f"{tolerance:.4g}"
        verdicts += baseline_verdicts(scn.qos, baseline, summaries, tolerance)
    # The location is a line of its own: a table title wraps at the table's width, and a long
    # results path would split the seed range over two lines.
    console.print(f"{path}  ({where})", soft_wrap=True, markup=False, highlight=False)
    console.print(verdict_table(verdicts))
    suite.cases = cases_of(verdicts, scn.name)
    suite.time = time.perf_counter() - started
    return suite, all(v.passed for v in verdicts)


def _error_suite(path: str, exc: ScenarioError) -> Suite:
    """A scenario that could not be checked: one error case holding every problem."""
    count = len(exc.problems)
    first = exc.problems[0].format() if exc.problems else "bad input"
    message = first if count == 1 else f"{first} (and {count - 1} more)"
    detail = "\n".join(p.format() for p in exc.problems) + "\n"
    return Suite(path, [Case("scenario", path, error=message, detail=detail)])


def run(ns: argparse.Namespace, console: Console) -> int:
    from sim.qos.gate import parse_tolerance

    try:
        tolerance = parse_tolerance(ns.tolerance)
    except ValueError as exc:
        sys.stderr.write(f"edgestream check: error: {exc}\n")
        return EXIT_INPUT
    for flag, given in (("--baseline", ns.baseline), ("--write-baseline", ns.write_baseline)):
        if given and len(given) != len(ns.scenarios):
            sys.stderr.write(f"edgestream check: error: {len(given)} {flag} for "
                             f"{len(ns.scenarios)} scenarios; give one per scenario, in order\n")
            return EXIT_INPUT
    suites: list[Suite] = []
    missed = False
    bad_input = False
    for i, path in enumerate(ns.scenarios):
        try:
            suite, passed = _check_one(path, ns.baseline[i] if ns.baseline else None,
                                       ns.write_baseline[i] if ns.write_baseline else None,
                                       tolerance, ns, console)
        except ScenarioError as exc:
            print_problems(exc)
            bad_input = True
            suites.append(_error_suite(path, exc))
            continue
        suites.append(suite)
        missed |= not passed
    if ns.junit is not None:
        written = write_junit(suites, ns.junit)
        console.print(f"junit: {written}", soft_wrap=True, markup=False)
    if bad_input:
        return EXIT_INPUT
    return EXIT_QOS if missed else EXIT_OK

