"""The run builder: reproducibility, and summaries that do not disturb a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from sim.run.builder import Run
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]


def default_scenario(**changes: object) -> Scenario:
    data = yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text())
    return Scenario.model_validate(data).model_copy(update={"duration": 20.0, **changes})


def test_same_seed_same_results_different_seed_different_results() -> None:
    a = Run(default_scenario()).execute()
    b = Run(default_scenario()).execute()
    c = Run(default_scenario(seed=43)).execute()
    assert json.dumps(a.summary) == json.dumps(b.summary)
    for name, table in a.tables.items():
        for column, values in table.items():
            same_nan = values.dtype.kind == "f"
            assert np.array_equal(values, b.tables[name][column], equal_nan=same_nan)
    assert a.run_id == b.run_id != c.run_id
    assert a.summary["requests"] != c.summary["requests"]


def test_summary_before_the_run_changes_nothing() -> None:
    # The CLI takes the (empty) summary first to validate qos metric names.
    probed = Run(default_scenario())
    empty = probed.summary()
    assert empty["requests"]["recommend"]["sent"] == 0
    after = probed.execute().summary
    plain = Run(default_scenario()).execute().summary
    assert json.dumps(after) == json.dumps(plain)
    assert after["links"]["core->cloud"]["bytes"] > 0


def test_progress_reports_do_not_change_results() -> None:
    seen: list[float] = []
    with_progress = Run(default_scenario()).execute(seen.append).summary
    assert seen[-1] == 20.0 and len(seen) > 10
    assert json.dumps(with_progress) == json.dumps(Run(default_scenario()).execute().summary)


def test_link_bytes_match_the_traffic_that_crossed_them() -> None:
    # Every catalogue response (500 kB) and every forwarded recommendation crosses
    # cloud->core; the summary's byte count over the whole run must equal the sum.
    out = Run(default_scenario(warmup=0.0)).execute()
    req = out.tables["requests"]
    from_cloud = (req["site"] == "cloud") & ~np.isnan(req["t_response"])
    expected = float(np.sum(req["bytes_down"][from_cloud]))
    # The core->cloud link has 0.01% loss: the wire carries size / (1 - p) bytes.
    carried = out.summary["links"]["cloud->core"]["bytes"] * (1 - 1e-4)
    assert carried >= expected * (1 - 1e-9)
    in_flight = float(np.sum(req["bytes_down"][(req["site"] == "cloud")
                                               & np.isnan(req["t_response"])]))
    assert carried <= expected + in_flight + 1e-6 * expected
