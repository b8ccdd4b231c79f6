"""`size`: the capacity search against Erlang C and against a closed-form latency floor."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from sim.cli.main import main
from sim.sweep.capacity import parse_vary, search
from sim.theory import mmc_wait

ARRIVAL, MEAN_SERVICE = 250.0, 0.01  # offered load 2.5 Erlang: unstable below 3 servers
DELAY = 0.005  # one-way access delay of the floor scenario


def _scenario(tmp_path: Path, *, delay: float, metric: str, bound: str) -> Path:
    spec = {
        "name": "size-test", "seed": 1, "duration": "20 s", "warmup": "2 s",
        "sample_interval": "2 s", "output": {"tables": False, "plots": False},
        "nodes": [
            {"name": "site", "kind": "mec", "compute": {
                "servers": 1, "service": {"job": {"dist": "exponential", "mean": MEAN_SERVICE}}}},
            {"name": "users", "kind": "users", "count": 1, "attach": "site",
             "access": {"bandwidth": "1 Gbps", "delay": delay}}],
        "workloads": [{"name": "job", "kind": "request_response", "clients": ["users"],
                       "arrivals": {"process": "poisson", "rate": ARRIVAL},
                       "request_size": 0, "response_size": 0, "serve": "site"}],
        "qos": [{"metric": metric, "max": bound}],
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_size_finds_the_erlang_c_server_count(tmp_path: Path) -> None:
    target = 0.005  # Wq(3) = 14 ms and Wq(4) = 1.9 ms: both far from 5 ms against the CI
    theory = next(c for c in range(3, 17) if c * 100 > ARRIVAL
                  and mmc_wait(ARRIVAL, 1 / MEAN_SERVICE, c) <= target)
    assert mmc_wait(ARRIVAL, 100, theory - 1) > 2 * target
    assert mmc_wait(ARRIVAL, 100, theory) < target / 2
    path = _scenario(tmp_path, delay=0, metric="requests.job.wait_s.mean", bound="5 ms")
    result = search(path, parse_vary("nodes[site].compute.servers=1..16"), replications=3,
                    root=tmp_path / "out")
    assert result.direction == "up" and result.direction_detected
    assert result.answer == theory
    # Bisection: both ends, then about log2(16) probes, not every value.
    assert len(result.probes) <= 2 + math.ceil(math.log2(16))


def test_size_reports_the_latency_floor(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """With any number of servers latency stays >= 2 x delay + mean service = 20 ms."""
    path = _scenario(tmp_path, delay=DELAY, metric="requests.job.latency_s.mean", bound="15 ms")
    code = main(["size", str(path), "--vary", "nodes[site].compute.servers=1..16",
                 "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1
    assert "binding: requests.job.latency_s.mean <= 15 ms" in out
    folder = next((tmp_path / "out" / "sweeps").iterdir())
    table = pq.read_table(folder / "size.parquet").to_pandas()
    assert set(table.columns) == {"parameter", "value", "replication", "metric",
                                  "metric_value", "verdict"}
    top = table[table["value"] == 16]
    floor = 2 * DELAY + MEAN_SERVICE
    # Waiting vanishes with 16 servers at 2.5 Erlang; the mean of 3 x ~4500 requests of
    # exponential service is within ~1% of the mean service time.
    assert top["metric_value"].mean() == pytest.approx(floor, rel=0.03)
    assert set(top["verdict"]) == {"FAIL"}
    assert (folder / "size.png").stat().st_size > 0


def test_quantity_ranges_use_a_geometric_grid_with_exact_ends() -> None:
    vary = parse_vary("links[0].bandwidth=10Mbps..10Gbps", resolution=0.1)
    values = [vary.value(i) for i in range(vary.count)]
    assert values[0] == 10e6 and values[-1] == 10e9
    steps = [b / a for a, b in itertools.pairwise(values)]
    assert max(steps) <= 1.1 + 1e-5
    assert vary.count == math.ceil(math.log(1000) / math.log(1.1)) + 1


@pytest.mark.parametrize(("vary", "message"), [
    ("nodes[nope].compute.servers=1..4", 'no element of nodes has name "nope"'),
    ("nodes[site].compute.servers=a..b", "is not a range"),
    ("nodes[site].compute.servers=5..5", "is empty"),
    ("nodes[site].compute.servers", "expected KEY=LOW..HIGH"),
])
def test_bad_vary_is_a_located_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           vary: str, message: str) -> None:
    path = _scenario(tmp_path, delay=0, metric="requests.job.wait_s.mean", bound="5 ms")
    assert main(["size", str(path), "--vary", vary, "--out", str(tmp_path / "out")]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("--vary ") and message in first


def test_size_finds_the_largest_user_count_when_fewer_users_are_easier(tmp_path: Path) -> None:
    """3 servers, 50 requests/s per user: Wq(4 users) = 4.4 ms, Wq(5 users) = 14 ms."""
    per_user, servers, target = 50.0, 3, 0.008
    theory = max(n for n in range(1, 9) if per_user * n < servers * 100
                 and mmc_wait(per_user * n, 1 / MEAN_SERVICE, servers) <= target)
    assert theory == 4
    path = _scenario(tmp_path, delay=0, metric="requests.job.wait_s.mean", bound="8 ms")
    result = search(path, parse_vary("nodes[users].count=1..8"), replications=3,
                    root=tmp_path / "out", fixed=[f"nodes[site].compute.servers={servers}",
                                                  f"workloads[job].arrivals.rate={per_user}"])
    assert result.direction == "down"
    assert result.answer == theory
