"""Links whose capacity follows a throughput trace: hand-computed transfer times."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import chain_scenario

from sim.cli.main import main
from sim.engine import Wake
from sim.net.linktrace import LinkTrace, capacity_time, read_trace
from sim.run.builder import Run
from sim.scenario.limits import MAX_TRACE_BYTES
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

SABRE = next((p for p in (Path(__file__).resolve().parents[2].parent / "shared" / "traces"
              / "sabre", Path("/work/shared/traces/sabre")) if p.is_dir()),
             Path("/work/shared/traces/sabre"))
MB = 1e6


def traced_run(tmp_path: Path, rows: str, **trace: Any) -> Run:
    (tmp_path / "t.csv").write_text("time_s,bandwidth_bps\n" + rows)
    spec = chain_scenario([100], [0])
    spec["links"][0] = {"a": "r0", "b": "r1", "delay": 0,
                        "trace": {"file": str(tmp_path / "t.csv"), **trace}}
    return Run(Scenario.model_validate(spec))


def transfer_time(run: Run, size: float, start: float = 0.0) -> float:
    env = run.network.env
    route = run.network.route_between("r0", "r1")
    done: list[float] = []
    Wake(env, start, lambda _: run.network.send(route, size, lambda _d: done.append(env.now),
                                                None))
    assert run.traces is not None
    run.traces.start()
    env.run(until=run.scenario.duration)
    return done[0] - start


def test_transfer_follows_a_step_down(tmp_path: Path) -> None:
    # 10 Mbps for 1 s carries 1.25 MB; the other 0.75 MB at 1 Mbps takes 6 s more.
    run = traced_run(tmp_path, "0,10e6\n1,1e6\n", repeat=False)
    assert transfer_time(run, 2 * MB) == pytest.approx(7.0)


def test_zero_bandwidth_stalls_the_flow(tmp_path: Path) -> None:
    # 8 Mbps (1 MB/s) for 1 s, nothing for 2 s, then 8 Mbps again: 2 MB end at 4 s.
    run = traced_run(tmp_path, "0,8e6\n1,0\n3,8e6\n", repeat=False)
    assert transfer_time(run, 2 * MB) == pytest.approx(4.0)


def test_a_repeating_trace_starts_over(tmp_path: Path) -> None:
    # Period 2 s: 8 Mbps for 1 s, 0 for 1 s.  3 MB need three "on" seconds: t = 5.
    run = traced_run(tmp_path, "0,8e6\n1,0\n", repeat=True)
    assert transfer_time(run, 3 * MB) == pytest.approx(5.0)
    run = traced_run(tmp_path, "0,8e6\n1,0\n", repeat=False)
    with pytest.raises(IndexError):
        transfer_time(run, 3 * MB)  # stuck at zero after one pass: never arrives


def test_utilisation_divides_by_the_traced_capacity() -> None:
    steps = [(0.0, 8e6), (1.0, 0.0), (3.0, 16e6)]
    # Bytes possible in [0, 2], [2, 4]: 1 MB + 0, then 0 + 2 MB.
    assert capacity_time(steps, np.array([0.0, 2.0, 4.0])).tolist() == [1e6, 2e6]


@pytest.mark.skipif(not SABRE.is_dir(), reason="shared sabre traces not present")
def test_sabre_4g_log_reads_as_its_readme_says() -> None:
    trace = read_trace(SABRE / "report_foot_0002.json")
    assert len(trace.start) == 619
    assert trace.length == pytest.approx(618.3, abs=0.1)
    durations = np.diff(np.append(trace.start, trace.length))
    mean = float((trace.bps * durations).sum() / durations.sum())
    assert mean == pytest.approx(17.6e6, rel=0.01)
    assert trace.latency is not None and set(trace.latency.tolist()) == {0.02}  # 20 ms


def test_bad_trace_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.csv").write_text("time_s,bandwidth_bps\n0,1e6\n0.5,fast\n")
    text = ("name: x\nduration: 10 s\nnodes:\n  - {name: a, kind: router}\n"
            "  - {name: b, kind: router}\nlinks:\n  - a: a\n    b: b\n"
            "    trace: {file: t.csv}\n")
    (tmp_path / "x.yaml").write_text(text)
    assert main(["validate", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "x.yaml:9:" in err and "links[0].trace.file" in err and "line 3" in err
    assert "Traceback" not in err
    (tmp_path / "t.csv").write_text("time_s,bandwidth_bps\n0,1e6\n")
    assert load_scenario(tmp_path / "x.yaml").scenario.links[0].trace is not None


# ---- per-period latency ----------------------------------------------------------------------


LATENCY_ROWS = "0,8e6,0.05\n1,8e6,0.2\n"  # 1 MB/s throughout; latency 50 ms, then 200 ms


def traced_latency_run(tmp_path: Path, **trace: Any) -> Run:
    (tmp_path / "t.csv").write_text("time_s,bandwidth_bps,latency_s\n" + LATENCY_ROWS)
    spec = chain_scenario([100], [0])
    spec["links"][0] = {"a": "r0", "b": "r1", "delay": 0.001,
                        "trace": {"file": str(tmp_path / "t.csv"), "repeat": False, **trace}}
    return Run(Scenario.model_validate(spec))


@pytest.mark.parametrize(("start", "expected"), [
    (0.0, 1.0 + 0.05),   # sent in the first period: 1 s transfer + 50 ms
    (0.5, 1.0 + 0.05),   # still sent in the first period: keeps 50 ms after 1 s
    (1.5, 1.0 + 0.2),    # sent in the second period: 200 ms
])
def test_a_trace_latency_is_the_delay_of_messages_sent_in_its_period(
        tmp_path: Path, start: float, expected: float) -> None:
    run = traced_latency_run(tmp_path)
    assert transfer_time(run, 1 * MB, start) == pytest.approx(expected)


def test_trace_latency_can_be_ignored(tmp_path: Path) -> None:
    run = traced_latency_run(tmp_path, latency=False)
    assert transfer_time(run, 1 * MB, 1.5) == pytest.approx(1.0 + 0.001)  # the link's delay


def test_sabre_latency_is_read(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(
        '[{"duration_ms": 1000, "bandwidth_kbps": 8000, "latency_ms": 30},'
        ' {"duration_ms": 500, "bandwidth_kbps": 0, "latency_ms": 70}]')
    trace = read_trace(tmp_path / "t.json")
    assert trace.latency is not None and trace.latency.tolist() == [0.03, 0.07]
    assert trace.latency_steps(10.0, repeat=True)[:3] == [(0.0, 0.03), (1.0, 0.07),
                                                          (1.5, 0.03)]
    (tmp_path / "u.json").write_text(
        '[{"duration_ms": 1000, "bandwidth_kbps": 8000, "latency_ms": 30},'
        ' {"duration_ms": 500, "bandwidth_kbps": 0}]')
    with pytest.raises(ValueError, match="period 1: lacks 'latency_ms'"):
        read_trace(tmp_path / "u.json")
    (tmp_path / "v.json").write_text('[{"duration_ms": 1000, "bandwidth_kbps": 8000}]')
    assert read_trace(tmp_path / "v.json").latency is None


# ------------------------------------------------------------- bounded (issue 14)


def _trace_scenario(tmp_path: Path, trace: str, name: str) -> Path:
    (tmp_path / name).write_text(trace)
    text = ("name: x\nduration: 10 s\nnodes:\n  - {name: a, kind: router}\n"
            "  - {name: b, kind: router}\nlinks:\n  - a: a\n    b: b\n"
            f"    trace: {{file: {name}, repeat: true}}\n")
    (tmp_path / "x.yaml").write_text(text)
    return tmp_path / "x.yaml"


@pytest.mark.parametrize(("trace", "name"), [
    ('[{"duration_ms": 1e-6, "bandwidth_kbps": 1000}]', "t.json"),
    ('[{"duration_ms": 100, "bandwidth_kbps": 1}, {"duration_ms": 0, "bandwidth_kbps": 2},'
     ' {"duration_ms": 100, "bandwidth_kbps": 3}]', "t.json"),
    ("time_s,bandwidth_bps\n0,1e6\n1e-9,2e6\n", "t.csv"),
])
def test_periods_shorter_than_the_minimum_are_located_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], trace: str, name: str) -> None:
    started = time.perf_counter()
    assert main(["validate", str(_trace_scenario(tmp_path, trace, name))]) == 2
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err
    assert "links[0].trace.file" in err and "at least 1 ms" in err


def test_a_trace_over_the_size_limit_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = _trace_scenario(tmp_path, "time_s,bandwidth_bps\n0,1e6\n", "t.csv")
    with (tmp_path / "t.csv").open("r+b") as handle:
        handle.truncate(MAX_TRACE_BYTES + 1)  # sparse: no disk used, and never read
    assert main(["validate", str(path)]) == 2
    assert "the limit is 16 MiB" in capsys.readouterr().err


def test_repeat_is_lazy_and_a_constant_trace_ends_after_one_pass() -> None:
    one = LinkTrace(np.array([0.0, 1.0]), np.array([5.0, 5.0]), 2.0)
    assert list(one.changes(1e300, repeat=True)) == [(0.0, 5.0)]
    two = LinkTrace(np.array([0.0, 1.0]), np.array([5.0, 7.0]), 2.0)
    changes = two.changes(1e300, repeat=True)  # unbounded, but nothing is unrolled
    assert [next(changes) for _ in range(5)] == [
        (0.0, 5.0), (1.0, 7.0), (2.0, 5.0), (3.0, 7.0), (4.0, 5.0)]
    assert two.changes_per_pass() == 2
