"""Stream plots (streaming.plots): drawn from the tables, on the data the summary uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.plots.figure import write_plots
from sim.run.builder import Run, RunOutput
from sim.run.records import ChainedTable
from sim.scenario.loader import load_scenario
from streaming import plots as plots_streams
from streaming.plots import (
    SAMPLED_SESSIONS,
    deadline_miss_figure,
    frame_latency_figure,
    playback_figure,
    qoe_figure,
)

SCENARIO = """\
name: streams-plot
seed: 4
duration: 6 s
nodes:
  - name: mec1
    kind: mec
    compute: {servers: 1, service: {vr_render: {dist: exponential, mean: 8 ms}}}
  - {name: viewers, kind: users, count: 8, attach: mec1, access: {bandwidth: 20 Mbps}}
  - {name: headsets, kind: users, count: 3, attach: mec1, access: {bandwidth: 200 Mbps}}
workloads:
  - {name: course, kind: course_video, clients: [viewers], segments: 10, start_spread: 1 s}
  - {name: vr, kind: vr_lesson, clients: [headsets], bitrate: 20 Mbps, deadline: 20 ms}
"""


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> RunOutput:
    path = tmp_path_factory.mktemp("plots") / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return Run(load_scenario(path).scenario).execute()


def test_the_miss_bars_are_the_summary_ratio(output: RunOutput) -> None:
    fig = deadline_miss_figure(output.tables, "t")
    (bar,) = fig.axes[0].patches
    # One GPU slot for three 60 fps headsets at 8 ms mean: the queue makes misses.
    ratio = output.summary["frames"]["vr"]["deadline_miss_ratio"]
    assert 0 < ratio < 1
    frames = output.tables["frames"]
    # The bar counts every frame in the table; the summary leaves out the last
    # frames whose fate is unknown, so they agree to within those few frames.
    assert bar.get_height() == pytest.approx(100 * frames["missed"].mean())
    assert bar.get_height() == pytest.approx(100 * ratio, abs=100 * 3 / len(frames["frame"]))


def test_latency_cdf_has_a_line_and_a_deadline_per_workload(output: RunOutput) -> None:
    fig = frame_latency_figure(output.tables, "t")
    ax = fig.axes[0]
    cdf, deadline = ax.lines
    assert deadline.get_xdata()[0] == pytest.approx(20.0)
    latency = output.tables["frames"]["latency_s"]
    assert cdf.get_xdata()[-1] == pytest.approx(1e3 * np.nanmax(latency))


def test_playback_samples_sessions_and_qoe_has_one_per_session(output: RunOutput) -> None:
    fig = playback_figure(output.tables, "t")
    assert len(fig.axes[0].lines) == SAMPLED_SESSIONS
    fig = qoe_figure(output.tables, "t")
    (line,) = fig.axes[0].lines
    assert len(line.get_xdata()) == 8
    assert np.mean(line.get_xdata()) == pytest.approx(
        output.summary["sessions"]["course"]["qoe_mean"])


def test_empty_tables_draw_a_note() -> None:
    for build in (playback_figure, qoe_figure, frame_latency_figure, deadline_miss_figure):
        fig = build({}, "t")
        assert "no " in fig.axes[0].texts[0].get_text()


def test_runs_with_streams_write_the_stream_plots(output: RunOutput, tmp_path: Path) -> None:
    names = {p.name for p in write_plots(output, tmp_path)}
    assert {"playback.png", "qoe.png", "frame_latency_cdf.png",
            "deadline_misses.png"} <= names


def _in_parts(table: dict[str, np.ndarray], size: int) -> ChainedTable:
    """The same table as one read back from disk in row groups of `size` rows."""
    n = len(next(iter(table.values())))
    return ChainedTable([{k: v[i:i + size] for k, v in table.items()} for i in range(0, n, size)])


def test_plots_walk_tables_in_row_groups(output: RunOutput) -> None:
    whole = output.tables
    parts = {name: _in_parts(dict(whole[name]), 37) for name in ("frames", "segments")}
    for build in (playback_figure, frame_latency_figure, deadline_miss_figure):
        a, b = build(whole, "t").axes[0], build(parts, "t").axes[0]
        assert [line.get_label() for line in a.lines] == [line.get_label() for line in b.lines]
        for x, y in zip(a.lines, b.lines, strict=True):
            assert np.array_equal(x.get_xydata(), y.get_xydata())
        assert [p.get_height() for p in a.patches] == [p.get_height() for p in b.patches]
        assert [t.get_text() for t in a.get_xticklabels()] == \
            [t.get_text() for t in b.get_xticklabels()]


def test_latency_sample_is_evenly_spaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plots_streams, "CDF_SAMPLE", 10)
    sample = plots_streams._Decimated()
    rng = np.random.default_rng(1)
    n = 0
    while n < 1000:
        size = int(rng.integers(0, 30))
        sample.add(np.arange(n, n + size, dtype=float))
        n += size
    kept = sample.values()
    assert sample.seen == n
    assert sample.stride in (32, 64) and 10 <= len(kept) <= 20
    assert np.array_equal(kept, np.arange(0, n, sample.stride, dtype=float))
