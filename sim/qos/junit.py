"""JUnit XML reports of QoS checks, for CI servers that display test results.

JUnit XML is the one test-report format every CI system reads (GitHub Actions
reporters, GitLab, Jenkins, Azure).  A ``check`` writes one ``<testsuite>`` per
scenario and one ``<testcase>`` per target bound, so a missed target shows up
in the CI's test view as a failed test.  Test names are the scenario and the
metric only (``ci-pass.requests.req.latency_s.p95``; ``.max``/``.min`` when one
metric has both bounds, ``.baseline`` for a baseline comparison), never the
bound: a CI keeps a test's history by its name, and a tuned target must not
start a new one.  The bound and the value are in the failure message and the
``system-out`` of every case.  A scenario that could not be run (bad input) is a suite with one
``<error>`` case, so the report still accounts for every scenario asked for.

The XML is built with :mod:`xml.etree.ElementTree`, which escapes every text
and attribute (metric names contain ``->``, messages contain quotes), and
written atomically: a CI job never uploads half a report.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.qos.targets import Verdict

__all__ = ["Case", "Suite", "case_of", "cases_of", "junit_tree", "write_junit"]


@dataclass(frozen=True)
class Case:
    """One test case: passed unless it has a failure, an error or is skipped."""

    name: str
    classname: str
    failure: str | None = None
    """Failure message: a check ran and its condition did not hold."""
    error: str | None = None
    """Error message: the check could not run (bad input)."""
    skipped: str | None = None
    detail: str = ""
    """Longer text inside the failure/error element (e.g. every located problem)."""
    time: float = 0.0
    output: str = ""
    """``system-out`` text: the bound and the value, also for a passed case."""


@dataclass
class Suite:
    """The test cases of one scenario."""

    name: str
    cases: list[Case] = field(default_factory=list)
    time: float = 0.0
    properties: dict[str, str] = field(default_factory=dict)
    """Facts shown with the suite: scenario file, seeds, results folder."""


def case_of(verdict: Verdict, classname: str, name: str | None = None) -> Case:
    """The test case of one verdict; its failure message names metric, bound and value."""
    name = name or f"{classname}.{verdict.metric}"
    if verdict.skipped:
        return Case(name, classname, skipped=verdict.message())
    if verdict.passed:
        return Case(name, classname, output=verdict.message() + "\n")
    return Case(name, classname, failure=verdict.message(), output=verdict.message() + "\n",
                detail=f"metric: {verdict.metric}\nbound: {verdict.op} {verdict.bound}\n"
                       f"value: {verdict.value_text()}\n")


def cases_of(verdicts: Sequence[Verdict], scenario: str) -> list[Case]:
    """The test cases of a scenario's verdicts, with stable names (module doc)."""
    sides: dict[tuple[str, str], set[str]] = {}
    for v in verdicts:
        sides.setdefault((v.check, v.metric), set()).add(v.op)
    names: list[str] = []
    for v in verdicts:
        name = f"{scenario}.{v.metric}"
        if len(sides[(v.check, v.metric)]) > 1:
            name += ".max" if v.op == "<=" else ".min"
        if v.check == "baseline":
            name += ".baseline"
        names.append(name)
    out: list[Case] = []
    for i, (v, name) in enumerate(zip(verdicts, names, strict=True)):
        shown = name
        if names.count(name) > 1:  # the same metric in two targets
            shown = f"{name}#{names[:i].count(name) + 1}"
        out.append(case_of(v, scenario, shown))
    return out


def _count(cases: Sequence[Case]) -> dict[str, str]:
    return {
        "tests": str(len(cases)),
        "failures": str(sum(c.failure is not None for c in cases)),
        "errors": str(sum(c.error is not None for c in cases)),
        "skipped": str(sum(c.skipped is not None for c in cases)),
    }


def junit_tree(suites: Sequence[Suite], *, name: str = "edgestream check") -> ET.ElementTree:
    """The report as an element tree: ``<testsuites>`` of ``<testsuite>`` of ``<testcase>``."""
    all_cases = [c for s in suites for c in s.cases]
    root = ET.Element("testsuites", {"name": name, **_count(all_cases),
                                     "time": f"{sum(s.time for s in suites):.3f}"})
    for suite in suites:
        node = ET.SubElement(root, "testsuite", {"name": suite.name, **_count(suite.cases),
                                                 "time": f"{suite.time:.3f}"})
        if suite.properties:
            props = ET.SubElement(node, "properties")
            for key, value in suite.properties.items():
                ET.SubElement(props, "property", {"name": key, "value": value})
        for case in suite.cases:
            item = ET.SubElement(node, "testcase", {"name": case.name,
                                                    "classname": case.classname,
                                                    "time": f"{case.time:.3f}"})
            if case.failure is not None:
                ET.SubElement(item, "failure", {"message": case.failure,
                                                "type": "QosTargetMissed"}).text = case.detail
            if case.error is not None:
                ET.SubElement(item, "error", {"message": case.error,
                                              "type": "BadInput"}).text = case.detail
            if case.skipped is not None:
                ET.SubElement(item, "skipped", {"message": case.skipped})
            if case.output:
                ET.SubElement(item, "system-out").text = case.output
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(suites: Sequence[Suite], path: Path | str) -> Path:
    """Write the report to `path` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        junit_tree(suites).write(staged, encoding="utf-8", xml_declaration=True)
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)
    return path
