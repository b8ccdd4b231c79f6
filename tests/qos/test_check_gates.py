"""CI gates of `check`: replication CIs, baselines, JUnit XML, and their exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from scipy import stats

from sim.cli.main import main
from sim.qos.baseline import (
    _holm,
    baseline_document,
    baseline_problems,
    baseline_verdicts,
    parse_baseline,
    write_baseline,
)
from sim.qos.gate import (
    Replicated,
    evaluate_replicated,
    parse_tolerance,
    replicate,
)
from sim.qos.junit import Case, Suite, case_of, junit_tree, write_junit
from sim.qos.targets import Verdict, evaluate, verdict_table
from sim.run.results import read_summary
from sim.scenario.schema import QosTarget
from sim.stats import t_interval

ROOT = Path(__file__).resolve().parents[2]
PASS = ROOT / "scenarios" / "ci" / "pass.yaml"
FAIL = ROOT / "scenarios" / "ci" / "fail.yaml"


def target(metric: str, max: object = None, min: object = None) -> QosTarget:
    return QosTarget.model_validate({"metric": metric, "max": max, "min": min})


def summaries(metric_values: dict[str, list[float | None]],
              scenario: str = "s") -> list[dict[str, Any]]:
    """One nested summary per replication from {dotted metric: values per replication}."""
    n = len(next(iter(metric_values.values())))
    out: list[dict[str, Any]] = []
    for i in range(n):
        summary: dict[str, Any] = {"scenario": scenario}
        for metric, values in metric_values.items():
            node = summary
            *parents, leaf = metric.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = values[i]
        out.append(summary)
    return out


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def render(table: Any) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(table)
    return console.export_text()


# ------------------------------------------------------------ replication rule


LATENCY = "requests.r.latency_s.mean"


def test_one_replication_judges_the_single_value() -> None:
    reps = summaries({LATENCY: [0.05]})
    targets = [target(LATENCY, max="60 ms"), target(LATENCY, max="40 ms")]
    assert evaluate_replicated(targets, reps) == evaluate(targets, reps[0])


def test_max_passes_only_when_the_ci_is_below_it() -> None:
    values = [0.050, 0.058, 0.054, 0.062, 0.046]
    low, high = t_interval(np.array(values))
    assert np.mean(values) < 0.058 < high  # the mean meets 58 ms, the CI does not
    reps = summaries({LATENCY: list(values)})
    (strict,) = evaluate_replicated([target(LATENCY, max="58 ms")], reps)
    (relaxed,) = evaluate_replicated([target(LATENCY, max="58 ms")], reps, mean_only=True)
    (wide,) = evaluate_replicated([target(LATENCY, max=high + 1e-9)], reps)
    assert not strict.passed and relaxed.passed and wide.passed
    assert strict.value == pytest.approx(np.mean(values))
    assert strict.ci == pytest.approx((low, high))
    assert strict.replications == 5
    assert "95% CI" in strict.message() and "upper end" in strict.message()
    assert "the mean is judged" in relaxed.message()


def test_min_passes_only_when_the_ci_is_above_it() -> None:
    metric = "requests.r.throughput_per_s"
    reps = summaries({metric: [10.0, 12.0, 11.0]})
    low, _ = t_interval(np.array([10.0, 12.0, 11.0]))
    (below,) = evaluate_replicated([target(metric, min=low + 0.01)], reps)
    (above,) = evaluate_replicated([target(metric, min=low - 0.01)], reps)
    (mean_only,) = evaluate_replicated([target(metric, min=10.9)], reps, mean_only=True)
    assert not below.passed and above.passed and mean_only.passed
    assert below.op == ">="


def test_a_replication_without_data_fails_the_target() -> None:
    reps = summaries({LATENCY: [0.01, None, 0.01]})
    (verdict,) = evaluate_replicated([target(LATENCY, max="1 s")], reps)
    assert not verdict.passed and verdict.value is None
    assert verdict.reason == "no data in 1 of 3 replications"


def test_identical_replications_have_a_zero_width_ci() -> None:
    rep = replicate(summaries({LATENCY: [0.02, 0.02, 0.02]}))[LATENCY]
    assert rep.mean == pytest.approx(0.02) and rep.ci == pytest.approx((0.02, 0.02))
    assert Replicated((0.1,)).ci is None and Replicated((0.1, None)).mean is None


# ------------------------------------------------------------------- baseline


def test_tolerance_parsing() -> None:
    assert parse_tolerance("5%") == pytest.approx(0.05)
    assert parse_tolerance("0.1") == pytest.approx(0.1)
    for bad in ("-5%", "five", "5 ms"):
        with pytest.raises(ValueError, match="--tolerance"):
            parse_tolerance(bad)


def test_baseline_direction_follows_the_bound() -> None:
    thr = "requests.r.throughput_per_s"
    base = summaries({LATENCY: [0.100], thr: [10.0]})[0]
    targets = [target(LATENCY, max="1 s"), target(thr, min="1 /s")]
    worse = baseline_verdicts(targets, base, summaries({LATENCY: [0.106], thr: [9.4]}), 0.05)
    better = baseline_verdicts(targets, base, summaries({LATENCY: [0.090], thr: [12.0]}), 0.05)
    inside = baseline_verdicts(targets, base, summaries({LATENCY: [0.104], thr: [9.6]}), 0.05)
    assert [v.passed for v in worse] == [False, False]
    assert [v.passed for v in better] == [True, True]
    assert [v.passed for v in inside] == [True, True]
    assert worse[0].limit == pytest.approx(0.105) and worse[1].limit == pytest.approx(9.5)
    assert worse[0].check == "baseline" and worse[0].name.startswith("baseline: ")
    assert "100 ms + 5%" in worse[0].message() and "106 ms" in worse[0].message()


def test_baseline_of_one_run_is_judged_with_the_new_replications_spread() -> None:
    """n = 1 on one side: a prediction interval from the other side's spread."""
    base = summaries({LATENCY: [0.100]})[0]
    noisy = summaries({LATENCY: [0.090, 0.130]})  # mean 110 ms, but one run could be 130
    (verdict,) = baseline_verdicts([target(LATENCY, max="1 s")], base, noisy, 0.05)
    assert verdict.passed and verdict.value == pytest.approx(0.110)
    assert "over 2 replications" in verdict.message() and "Holm" in verdict.message()
    tight = summaries({LATENCY: [0.109, 0.110, 0.111, 0.110, 0.110]})
    (verdict,) = baseline_verdicts([target(LATENCY, max="1 s")], base, tight, 0.05)
    assert not verdict.passed
    # se = s * sqrt(1 + 1/n): the single baseline run spreads as one new run would.
    values = np.array([0.109, 0.110, 0.111, 0.110, 0.110])
    t = (values.mean() - 0.100 - 0.005) / (values.std(ddof=1) * np.sqrt(1 + 1 / 5))
    assert f"p = {float(stats.t.sf(t, 4)):.2g}" in verdict.message()


def test_replicated_baseline_uses_welch_and_holm(tmp_path: Path) -> None:
    thr = "requests.r.throughput_per_s"
    old = {LATENCY: [0.100, 0.104, 0.098, 0.102, 0.101], thr: [10.0, 10.4, 9.8, 10.1, 9.9]}
    new = {LATENCY: [0.103, 0.107, 0.101, 0.104, 0.106], thr: [10.0, 10.3, 9.7, 10.2, 9.9]}
    document = baseline_document("s", [1, 2, 3, 4, 5], summaries(old))
    path = write_baseline(document, tmp_path / "b.json")
    baseline = parse_baseline(json.loads(path.read_text()))
    entry = json.loads(path.read_text())["metrics"][LATENCY]
    assert entry["n"] == 5 and entry["mean"] == pytest.approx(np.mean(old[LATENCY]))
    assert entry["ci95"] == pytest.approx(list(t_interval(np.array(old[LATENCY]))))
    targets = [target(LATENCY, max="1 s"), target(thr, min="1 /s")]
    verdicts = baseline_verdicts(targets, baseline, summaries(new), 0.0)
    # Independent reference: scipy's Welch test, one-sided in the "worse" direction.
    p_lat = stats.ttest_ind(new[LATENCY], old[LATENCY], equal_var=False,
                            alternative="greater").pvalue
    p_thr = stats.ttest_ind(new[thr], old[thr], equal_var=False, alternative="less").pvalue
    assert f"p = {p_lat:.2g}" in verdicts[0].message()
    assert f"p = {p_thr:.2g}" in verdicts[1].message()
    # Holm at 1%: the smallest p must be below 0.5%, the next below 1%.
    ordered = sorted([p_lat, p_thr])
    expect_first = ordered[0] <= 0.005
    assert [not v.passed for v in verdicts] == [
        expect_first and (p <= 0.005 or (p == ordered[1] and p <= 0.01))
        for p in (p_lat, p_thr)]


def test_holm_steps_down() -> None:
    assert _holm([0.004, 0.009, 0.5], 0.01) == [False, False, False]  # 0.004 > 0.01/3
    assert _holm([0.003, 0.006, 0.5], 0.01) == [True, False, False]  # 0.006 > 0.01/2
    assert _holm([0.003, 0.005, 0.009], 0.01) == [True, True, True]


def test_baseline_without_a_value_is_skipped_and_one_check_per_direction() -> None:
    base = summaries({LATENCY: [None]})[0]
    targets = [target(LATENCY, max="1 s"), target(LATENCY, max="2 s", min="1 ms")]
    verdicts = baseline_verdicts(targets, base, summaries({LATENCY: [0.5]}), 0.05)
    assert [(v.op, v.skipped, v.passed) for v in verdicts] == [("<=", True, True),
                                                               (">=", True, True)]


def test_baseline_problems() -> None:
    base = summaries({LATENCY: [0.1]}, scenario="other")[0]
    problems = baseline_problems([target(LATENCY, max=1), target("x.y_s", max=1)], base, "s")
    assert problems == ['the baseline is a run of scenario "other", not "s"',
                        'the baseline has no metric "x.y_s"']


# ----------------------------------------------------------------- tables, XML


def test_verdict_table_shows_ci_and_baseline_rows() -> None:
    reps = summaries({LATENCY: [0.050, 0.054, 0.052]})
    verdicts = evaluate_replicated([target(LATENCY, max="60 ms")], reps)
    verdicts += baseline_verdicts([target(LATENCY, max="60 ms")],
                                  summaries({LATENCY: [0.030]})[0], reps, 0.05)
    text = render(verdict_table(verdicts))
    assert "52 [" in text and "] ms" in text and "mean [95% CI]" in text
    assert "baseline <= 30 ms + 5%" in text
    assert "1 of 1 targets met; 0 of 1 within tolerance of the baseline" in text


def test_junit_tree_counts_and_escapes(tmp_path: Path) -> None:
    failed = Verdict("links.a->b.utilisation", "80%", "<=", 0.8, 0.9, False)
    suites = [Suite("a.yaml", [case_of(failed, "a"), Case("ok", "a"),
                               Case("skip", "a", skipped="why")]),
              Suite("b.yaml", [Case("scenario", "b.yaml", error="bad", detail="x:1:2: bad")])]
    path = write_junit(suites, tmp_path / "sub" / "report.xml")
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4", "failures": "1", "errors": "1", "skipped": "1"}
    (failure,) = root.iter("failure")
    assert failure.get("message") == "links.a->b.utilisation <= 80%: MISSED, value 90%"
    assert "links.a-&gt;b.utilisation" in path.read_text()
    assert not list(tmp_path.glob("sub/.*")), "no temporary file left behind"
    empty = junit_tree([]).getroot()
    assert empty is not None and empty.get("tests") == "0"


# --------------------------------------------------------------------- the CLI


def junit_failures(path: Path) -> list[ET.Element]:
    return list(ET.parse(path).getroot().iter("failure"))


def test_missed_target_exits_1_with_exactly_one_junit_failure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "junit.xml"
    code, out, _ = run_cli(["check", str(FAIL), "--out", str(tmp_path / "r"),
                            "--junit", str(report)], capsys)
    assert code == 1
    assert f"junit: {report}" in out
    root = ET.parse(report).getroot()
    (suite,) = root.iter("testsuite")
    assert suite.get("name") == str(FAIL) and suite.get("tests") == "3"
    assert len(list(suite.iter("testcase"))) == 3
    (failure,) = junit_failures(report)
    message = failure.get("message") or ""
    summary = read_summary(next((tmp_path / "r" / "ci-fail").iterdir()))
    value_ms = summary["requests"]["req"]["latency_s"]["mean"] * 1e3
    assert "requests.req.latency_s.mean" in message  # metric
    assert "<= 1 ms" in message  # bound
    assert f"value {value_ms:.4g} ms" in message  # value


def test_passing_scenario_exits_0_and_reports_passes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "junit.xml"
    code, _, _ = run_cli(["check", str(PASS), "--out", str(tmp_path / "r"),
                          "--junit", str(report)], capsys)
    assert code == 0
    assert junit_failures(report) == []
    names = [c.get("name") for c in ET.parse(report).getroot().iter("testcase")]
    # Scenario and metric only: tuning a bound keeps the test's history.
    assert names == ["ci-pass.requests.req.latency_s.p95",
                     "ci-pass.requests.req.latency_s.mean",
                     "ci-pass.sites.mec1.utilisation"]
    outputs = [c.findtext("system-out") or "" for c in ET.parse(report).getroot().iter("testcase")]
    assert "<= 200 ms: met, value" in outputs[0]


def test_replications_run_consecutive_seeds_and_judge_the_ci(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    out_dir = tmp_path / "r"
    code, out, _ = run_cli(["check", str(PASS), "--out", str(out_dir), "--replications", "3",
                            "--seed", "5", "--quiet"], capsys)
    assert code == 0
    folders = sorted((out_dir / "ci-pass").iterdir())
    assert [read_summary(f)["seed"] for f in folders] == [5, 6, 7]
    values = [read_summary(f)["requests"]["req"]["latency_s"]["mean"] for f in folders]
    low, high = t_interval(np.array(values))
    mean_ms = f"{np.mean(values) * 1e3:.4g}"
    row = next(line for line in out.splitlines() if "latency_s.mean" in line)
    assert f"{mean_ms} [{low * 1e3:.4g}, {high * 1e3:.4g}] ms" in row
    assert "seeds 5..7" in out


def test_baseline_regression_fails_although_the_target_passes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = str(tmp_path / "r")
    assert run_cli(["check", str(PASS), "--out", out_dir, "--quiet"], capsys)[0] == 0
    baseline = next((tmp_path / "r" / "ci-pass").iterdir())
    # The same design with slower MEC servers: latency worse, still far under its targets.
    slower = PASS.read_text().replace(
        "compute: {servers: 2, service: {req: {dist: exponential, mean: 5 ms}}}",
        "compute: {servers: 2, service: {req: {dist: exponential, mean: 8 ms}}}")
    assert slower != PASS.read_text()
    changed = tmp_path / "slower.yaml"
    changed.write_text(slower)
    report = tmp_path / "junit.xml"
    code, out, _ = run_cli(["check", str(changed), "--out", out_dir, "--baseline",
                            str(baseline), "--tolerance", "5%", "--junit", str(report)], capsys)
    assert code == 1
    assert "3 of 3 targets met" in out
    failures = junit_failures(report)
    assert failures and all((f.get("message") or "").startswith("baseline: ") for f in failures)
    assert any("requests.req.latency_s.mean" in (f.get("message") or "") for f in failures)
    # The unchanged scenario and seed reproduce the baseline exactly: no regression at 0%.
    assert run_cli(["check", str(PASS), "--out", out_dir, "--baseline",
                    str(baseline / "summary.json"), "--tolerance", "0%"], capsys)[0] == 0
    # A generous tolerance lets the slower design through.
    assert run_cli(["check", str(changed), "--out", out_dir, "--baseline", str(baseline),
                    "--tolerance", "500%"], capsys)[0] == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--tolerance", "lots"], "--tolerance"),
    (["--replications", "0"], "at least 1 replication"),
    (["--baseline", "a.json", "--baseline", "b.json"], "one per scenario"),
    (["--baseline", "absent.json"], "absent.json: no such file or run folder"),
])
def test_bad_gate_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 args: list[str], message: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["check", str(PASS), "--out", "r", *args], capsys)
    assert code == 2
    assert message in err
    assert not (tmp_path / "r").exists(), "nothing runs on bad input"


def test_baseline_of_another_scenario_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "summary.json"
    baseline.write_text(json.dumps({"scenario": "ci-fail", "requests": {}}))
    code, _, err = run_cli(["check", str(PASS), "--out", str(tmp_path / "r"),
                            "--baseline", str(baseline)], capsys)
    assert code == 2
    assert 'a run of scenario "ci-fail", not "ci-pass"' in err
    assert 'no metric "requests.req.latency_s.p95"' in err
    assert not (tmp_path / "r").exists()


def test_metric_typo_is_reported_before_the_baseline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text(PASS.read_text().replace("latency_s.p95", "latency_s.p59"))
    baseline = tmp_path / "summary.json"
    baseline.write_text(json.dumps({"scenario": "ci-pass"}))
    code, _, err = run_cli(["check", str(typo), "--baseline", str(baseline)], capsys)
    assert code == 2
    assert "qos[0].metric" in err and "did you mean" in err
    assert "baseline" not in err


def test_bad_scenario_is_a_junit_error(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PASS.read_text().replace("bandwidth: 1 Gbps", "bandwidth: 1 Gbs"))
    report = tmp_path / "junit.xml"
    code, _, err = run_cli(["check", str(PASS), str(bad), "--out", str(tmp_path / "r"),
                            "--junit", str(report)], capsys)
    assert code == 2
    assert "links[0].bandwidth" in err
    root = ET.parse(report).getroot()
    assert [s.get("name") for s in root.iter("testsuite")] == [str(PASS), str(bad)]
    (error,) = root.iter("error")
    assert "links[0].bandwidth" in (error.get("message") or "")
    assert root.get("errors") == "1" and root.get("failures") == "0"
