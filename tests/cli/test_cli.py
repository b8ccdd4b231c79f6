"""The command line as users and CI pipelines meet it: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name: tiny
duration: 5 s
nodes:
  - name: cloud
    kind: cloud
    compute: {servers: 4, service: {req: {dist: exponential, mean: 5 ms}}}
  - name: mec1
    kind: mec
    compute: {servers: 2, service: {req: {dist: exponential, mean: 5 ms}}}
  - {name: users, kind: users, count: 5, attach: mec1, access: {bandwidth: 50 Mbps, delay: 2 ms}}
links:
  - {a: mec1, b: cloud, bandwidth: 1 Gbps, delay: 10 ms}
workloads:
  - name: req
    kind: request_response
    clients: [users]
    arrivals: {process: poisson, rate: 2 /s}
    request_size: 1 kB
    response_size: 10 kB
qos:
  - {metric: requests.req.latency_s.p95, max: 200 ms}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# One test per kind of bad input: file:line:column, key path, exit code 2.
BAD_INPUTS = [
    ("yaml_syntax", GOOD.replace("duration: 5 s", "duration: [5 s"), "s.yaml:3:6", "YAML syntax"),
    ("unknown_key", GOOD.replace("  - {a: mec1, b: cloud,", "  - {a: mec1, bb: cloud,"),
     "s.yaml:12:15: links[0].bb", 'unknown key "bb"'),
    ("bad_unit", GOOD.replace("bandwidth: 1 Gbps", "bandwidth: 1 Gbs"),
     "s.yaml:12:36: links[0].bandwidth", '"1 Gbs" is not a rate (e.g. "10 Mbps")'),
    ("negative_bandwidth", GOOD.replace("bandwidth: 1 Gbps", "bandwidth: -1 Gbps"),
     "s.yaml:12:36: links[0].bandwidth", "must be positive"),
    ("dangling_link_end", GOOD.replace("b: cloud, bandwidth", "b: clod, bandwidth"),
     "s.yaml:12:18: links[0].b", '"clod" is not a node (did you mean "cloud"?)'),
    ("unreachable", GOOD.replace("  - {a: mec1, b: cloud, bandwidth: 1 Gbps, delay: 10 ms}\n",
                                 "  []\n").replace("links:\n  []", "links: []")
     .replace("    response_size: 10 kB\n", "    response_size: 10 kB\n    serve: cloud\n"),
     "s.yaml:15:15: workloads[0].clients[0]", 'cannot reach "cloud"'),
]


@pytest.mark.parametrize(("case", "text", "where", "what"), BAD_INPUTS,
                         ids=[c[0] for c in BAD_INPUTS])
@pytest.mark.parametrize("command", ["validate", "run", "check"])
def test_bad_input_is_located_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          command: str, case: str, text: str, where: str,
                                          what: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli([command, "s.yaml", *(["--out", str(tmp_path / "r")]
                                                 if command != "validate" else [])], capsys)
    assert code == 2
    assert where in err, err
    assert what in err, err
    assert not (tmp_path / "r").exists(), "nothing may be written for bad input"
    assert path.exists()


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["validate", str(tmp_path / "absent.yaml")], capsys)
    assert code == 2
    assert f"{tmp_path / 'absent.yaml'}: no such file" in err


def test_all_problems_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("bandwidth: 1 Gbps", "bandwidth: 1 Gbs").replace("count: 5", "count: -5")
    code, _, err = run_cli(["validate", str(write(tmp_path, text))], capsys)
    assert code == 2
    assert "nodes[2].count" in err and "links[0].bandwidth" in err
    assert "2 problems found" in err


def test_validate_accepts_every_shipped_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").rglob("*.yaml")
                   if p.relative_to(ROOT / "scenarios").parts[0] != "sweeps")  # test_sweep.py
    code, out, _ = run_cli(["validate", *files], capsys)
    assert code == 0
    assert out.count(": ok") == len(files)


def test_bad_qos_metric_is_a_validation_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("requests.req.latency_s.p95", "requests.req.latency_s.p59")
    code, _, err = run_cli(["validate", str(write(tmp_path, text))], capsys)
    assert code == 2
    assert "qos[0].metric" in err and 'unknown metric "requests.req.latency_s.p59"' in err
    assert "did you mean" in err


def test_set_overrides_and_their_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(tmp_path, GOOD))
    assert run_cli(["validate", path, "--set", "links[0].bandwidth=2 Gbps"], capsys)[0] == 0
    code, _, err = run_cli(["validate", path, "--set", "links[0].bandwidth=2 Gbs"], capsys)
    assert code == 2
    assert "--set links[0].bandwidth=2 Gbs" in err


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["run", "--seed", "x"], capsys)
    assert code == 2
    assert "--seed" in err


def test_run_writes_results_and_prints_the_path(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(tmp_path, GOOD))
    code, out, _ = run_cli(["run", path, "--out", str(tmp_path / "res"), "--seed", "3"], capsys)
    assert code == 0
    folders = list((tmp_path / "res" / "tiny").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("seed3-")
    assert str(folders[0]) in out
    assert (folders[0] / "summary.json").is_file()


def test_check_passes_and_fails_on_targets(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    ok = write(tmp_path, GOOD, "ok.yaml")
    strict = write(tmp_path, GOOD.replace("max: 200 ms", "max: 1 ms"), "strict.yaml")
    out_dir = str(tmp_path / "res")
    assert run_cli(["check", str(ok), "--out", out_dir], capsys)[0] == 0
    code, out, _ = run_cli(["check", str(ok), str(strict), "--out", out_dir], capsys)
    assert code == 1
    assert "FAIL" in out and "PASS" in out


def test_default_scenario_from_a_fresh_directory(tmp_path: Path) -> None:
    """`python run_sim.py` with no arguments: summary table and results path, < 60 s."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "run_sim.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "recommend" in proc.stdout  # the summary table
    assert "results: results/default/seed42-" in proc.stdout
    summary = next((tmp_path / "results" / "default").glob("*/summary.json"))
    assert summary.is_file()
    assert elapsed < 60


def test_help_texts_show_percent_signs_once() -> None:
    # argparse %-formats help strings but not descriptions: "20%%" printed literally.
    from sim.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[attr-defined]
        assert "%%" not in command.format_help(), name
