"""The pytest plugin: scenario files with qos targets collected and judged as test items."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

# pytester's in-process runs drop modules first imported inside them; numpy's and
# scipy's extension modules cannot be imported twice, so everything a scenario
# run needs is imported here, before any inner run.
import sim.qos.gate
import sim.run.builder
import sim.scenario.loader
from sim.plugins import load_builtin_plugins

load_builtin_plugins()

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "scenarios" / "ci"


def plugin_args() -> list[str]:
    """Load the plugin by module unless the installed entry point already does."""
    installed = any(ep.name == "edgestream" and ep.value == "sim.qos.pytest_plugin"
                    for ep in metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "sim.qos.pytest_plugin"]


@pytest.fixture
def scenarios(pytester: pytest.Pytester) -> Path:
    """pass.yaml and fail.yaml of scenarios/ci/ in a scratch project directory."""
    folder = pytester.mkdir("scenarios")
    for name in ("pass.yaml", "fail.yaml"):
        (folder / name).write_text((CI / name).read_text())
    return folder


def test_pass_and_fail_scenarios(pytester: pytest.Pytester, scenarios: Path) -> None:
    result = pytester.runpytest(*plugin_args(), "scenarios", "-v")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines([
        "scenarios/fail.yaml::requests.req.latency_s.mean FAILED*",
        "scenarios/pass.yaml::requests.req.latency_s.mean PASSED*",
        # metric, bound and value, at the line of the target in the file
        "scenarios/fail.yaml:35: qos target missed: requests.req.latency_s.mean <= 1 ms: "
        "MISSED, value * ms",
    ])


def test_a_single_file_given_explicitly(pytester: pytest.Pytester, scenarios: Path) -> None:
    result = pytester.runpytest(*plugin_args(), "scenarios/pass.yaml")
    result.assert_outcomes(passed=3)


def test_not_collected_from_testpaths_or_the_current_directory(
        pytester: pytest.Pytester, scenarios: Path) -> None:
    pytester.makeini("[pytest]\ntestpaths = scenarios\n")
    assert pytester.runpytest(*plugin_args()).ret == pytest.ExitCode.NO_TESTS_COLLECTED
    pytester.makeini("[pytest]\n")
    assert pytester.runpytest(*plugin_args()).ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_ini_option_collects_everywhere(pytester: pytest.Pytester, scenarios: Path) -> None:
    pytester.makeini("[pytest]\nedgestream_scenarios = true\n")
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(passed=5, failed=1)


def test_other_yaml_is_ignored(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", ci="qos:\n  - {metric: x, max: 1}\njobs: {}\n")
    pytester.makefile(".yml", sweep="base: pass.yaml\nnodes_per_site: 3\n")
    pytester.makefile(".yaml", broken="key: [unclosed\n")
    pytester.makefile(".txt", notes="nodes:\nqos:\n")
    result = pytester.runpytest(*plugin_args(), ".")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_flow_style_scenario_is_collected(pytester: pytest.Pytester) -> None:
    text = (CI / "pass.yaml").read_text()
    import yaml

    data = yaml.safe_load(text)
    pytester.makefile(".yml", flow=yaml.safe_dump(data, default_flow_style=True))
    result = pytester.runpytest(*plugin_args(), "flow.yml")
    result.assert_outcomes(passed=3)


def test_bad_scenario_is_a_located_collection_error(pytester: pytest.Pytester) -> None:
    text = (CI / "pass.yaml").read_text().replace("bandwidth: 1 Gbps", "bandwidth: 1 Gbs")
    pytester.makefile(".yaml", bad=text.replace("latency_s.p95", "latency_s.p59"))
    result = pytester.runpytest(*plugin_args(), "bad.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*ERROR collecting bad.yaml*",
        'bad.yaml:22:36: links[[]0[]].bandwidth: "1 Gbs" is not a rate*',
        "1 problem found in the scenario",
    ])
    assert "Traceback" not in result.stdout.str()
    # Once the unit is right, the unknown metric is the next located problem.
    pytester.makefile(".yaml", bad=text.replace("1 Gbs", "1 Gbps")
                      .replace("latency_s.p95", "latency_s.p59"))
    result = pytester.runpytest(*plugin_args(), "bad.yaml")
    result.stdout.fnmatch_lines(['bad.yaml:34:14: qos[[]0[]].metric: unknown metric*did you mean*'])


def test_the_scenario_runs_once_per_file(pytester: pytest.Pytester, scenarios: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = sim.run.builder.Run.execute

    def counted(self: sim.run.builder.Run, *args: Any, **kwargs: Any) -> sim.run.builder.RunOutput:
        calls.append(self.scenario.seed)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sim.run.builder.Run, "execute", counted)
    pytester.runpytest(*plugin_args(), "scenarios").assert_outcomes(passed=5, failed=1)
    assert calls == [1, 1]  # two files, one run each, with the scenario's seed


def test_replications_judge_the_ci(pytester: pytest.Pytester, scenarios: Path) -> None:
    pytester.makeini("[pytest]\nedgestream_replications = 2\n")
    result = pytester.runpytest(*plugin_args(), "scenarios/fail.yaml")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*MISSED, mean * ms, 95% CI [[]* ms, * ms[]] over 2 "
                                 "replications*"])
    pytester.makeini("[pytest]\nedgestream_replications = none\n")
    result = pytester.runpytest(*plugin_args(), "scenarios/fail.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_junitxml_of_pytest_carries_metric_bound_and_value(pytester: pytest.Pytester,
                                                           scenarios: Path) -> None:
    pytester.runpytest(*plugin_args(), "scenarios/fail.yaml", "--junitxml=report.xml")
    root = ET.parse(pytester.path / "report.xml").getroot()
    (failed,) = [c for c in root.iter("testcase") if c.find("failure") is not None]
    props = {p.get("name"): p.get("value") for p in failed.iter("property")}
    assert props["metric"] == "requests.req.latency_s.mean"
    assert props["bound"] == "<= 1 ms"
    assert (props["value"] or "").endswith(" ms")


def test_baseline_from_the_ini_fails_a_regression(pytester: pytest.Pytester,
                                                  scenarios: Path) -> None:
    """The same baseline and rule as ``check --baseline``: a regression is a failed item."""
    from sim.cli.main import main

    baseline = pytester.path / "ci" / "baseline-pass.json"
    assert main(["check", str(scenarios / "pass.yaml"), "--replications", "5", "--quiet",
                 "--no-plots", "--no-tables", "--out", str(pytester.path / "r"),
                 "--write-baseline", str(baseline)]) == 0
    pytester.makeini("[pytest]\nedgestream_replications = 5\n"
                     "edgestream_baselines = ci/baseline-pass.json\n")
    result = pytester.runpytest(*plugin_args(), "scenarios/pass.yaml", "-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*pass.yaml::requests.req.latency_s.mean (baseline) PASSED*"])
    slower = (scenarios / "pass.yaml").read_text().replace(
        "compute: {servers: 2, service: {req: {dist: exponential, mean: 5 ms}}}",
        "compute: {servers: 2, service: {req: {dist: exponential, mean: 10 ms}}}")
    (scenarios / "pass.yaml").write_text(slower)
    result = pytester.runpytest(*plugin_args(), "scenarios/pass.yaml", "-v")
    result.stdout.fnmatch_lines([
        "*pass.yaml::requests.req.latency_s.mean (baseline) FAILED*",
        "*regression against the baseline: baseline: requests.req.latency_s.mean*MISSED*"])
    assert result.ret == 1
