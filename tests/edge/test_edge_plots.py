"""Edge plots (edge.plots), checked on the data behind them."""

from __future__ import annotations

import numpy as np
import pytest

from edge.plots import HIT_BINS, hit_ratio_figure, latency_breakdown_figure


def test_hit_ratio_bins_are_the_share_of_hits() -> None:
    t = np.array([1.0, 2.0, 3.0, 61.0, 62.0])
    content = {"t_request": t, "hit": np.array([True, False, False, True, True]),
               "workload": np.array(["w"] * 5, dtype=object),
               "site": np.array(["mec"] * 5, dtype=object)}
    fig = hit_ratio_figure({"content": content}, "t", duration=100.0)
    (line,) = fig.axes[0].lines
    y = line.get_ydata()
    assert len(y) == HIT_BINS
    assert y[0] == pytest.approx(100 / 3)  # bin [0, 5): one hit in three
    assert y[12] == pytest.approx(100.0)   # bin [60, 65): both hits
    assert np.isnan(y[5])


def test_latency_bars_stack_the_mean_parts() -> None:
    section = {"network_s_mean": 0.008, "queue_s_mean": 0.002, "inference_s_mean": 0.010,
               "latency_s": {"p95": 0.03}}
    fig = latency_breakdown_figure({"learning": {"edge": section}}, "t")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx([8.0, 2.0, 10.0])
    assert fig.axes[0].lines[0].get_ydata()[0] == pytest.approx(30.0)
    assert "no " in latency_breakdown_figure({}, "t").axes[0].texts[0].get_text()
