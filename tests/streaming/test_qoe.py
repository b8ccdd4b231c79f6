"""Yin et al.'s linear QoE, worked out by hand for small sessions."""

from __future__ import annotations

import math

import pytest

from streaming.ladder import Ladder
from streaming.player import Session
from streaming.qoe import linear_qoe, session_qoe, utility

# Bitrates 1, 2, 2, 0.5 Mbit/s; 1.5 s of stalls; 0.8 s startup; ladder 0.5..4 Mbit/s.
RATES = (1e6, 2e6, 2e6, 0.5e6)


def test_linear_utility_with_default_weights() -> None:
    # q in Mbit/s: sum q = 5.5; switches |2-1| + 0 + |0.5-2| = 2.5 (lambda = 1);
    # mu = mu_s = q(R_max) = 4: stalls 4 * 1.5 = 6, startup 4 * 0.8 = 3.2.
    qoe = linear_qoe(RATES, 1.5, 0.8, min_bitrate=0.5e6, max_bitrate=4e6)
    assert qoe.quality == pytest.approx(5.5)
    assert qoe.switching == pytest.approx(2.5)
    assert qoe.rebuffering == pytest.approx(6.0)
    assert qoe.startup == pytest.approx(3.2)
    assert qoe.total == pytest.approx(5.5 - 2.5 - 6.0 - 3.2)
    assert qoe.per_segment == pytest.approx((5.5 - 2.5 - 6.0 - 3.2) / 4)


def test_log_utility() -> None:
    # q = ln(R / 0.5 Mbit/s): ln 2, ln 4, ln 4, 0 -> sum 5 ln 2; switches ln 2 + 0 + ln 4
    # = 3 ln 2; mu = mu_s = ln 8 = 3 ln 2: stalls 4.5 ln 2, startup 2.4 ln 2.
    qoe = linear_qoe(RATES, 1.5, 0.8, min_bitrate=0.5e6, max_bitrate=4e6, kind="log")
    ln2 = math.log(2)
    assert qoe.quality == pytest.approx(5 * ln2)
    assert qoe.switching == pytest.approx(3 * ln2)
    assert qoe.total == pytest.approx((5 - 3 - 4.5 - 2.4) * ln2)


def test_explicit_weights() -> None:
    # The paper's "avoid instability" preset: lambda = 3; mu, mu_s as given.
    qoe = linear_qoe(RATES, 1.5, 0.8, min_bitrate=0.5e6, max_bitrate=4e6,
                     lam=3.0, mu=8.0, mu_s=1.0)
    assert qoe.total == pytest.approx(5.5 - 3 * 2.5 - 8 * 1.5 - 1 * 0.8)


def test_pensieve_log_weight() -> None:
    # Pensieve's log QoE uses mu = 2.66 for its 300..4300 kbit/s ladder: q(R_max).
    assert utility(4300e3, "log", 300e3) == pytest.approx(2.66, abs=0.005)


def test_session_qoe_from_events() -> None:
    ladder = Ladder(bitrates=(0.5e6, 1e6, 2e6, 4e6), segment_duration=2.0)
    s = Session(ladder, 4)
    s.on_segment_downloaded(0.8, 0, 1, 250_000, 0.8)  # startup delay 0.8, B = 2
    s.on_segment_downloaded(1.0, 1, 2, 500_000, 0.2)  # B = 3.8
    s.on_segment_downloaded(1.2, 2, 2, 500_000, 0.2)  # B = 5.6
    s.on_segment_downloaded(8.3, 3, 0, 125_000, 7.1)  # B empties at 6.8: 1.5 s stall
    stats = s.stats()
    assert stats.rebuffer_time == pytest.approx(1.5)
    qoe = session_qoe(stats, ladder)
    assert qoe.total == pytest.approx(5.5 - 2.5 - 6.0 - 3.2)


def test_validation() -> None:
    with pytest.raises(ValueError, match="utility"):
        utility(1e6, "cubic", 1e6)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rebuffer_time"):
        linear_qoe(RATES, -1.0, 0.0, min_bitrate=1.0, max_bitrate=2.0)
    with pytest.raises(ValueError, match="mu"):
        linear_qoe(RATES, 0.0, 0.0, min_bitrate=1.0, max_bitrate=2.0, mu=-1.0)
    with pytest.raises(ValueError, match="never started"):
        session_qoe(Session(Ladder((1e6,), 1.0), 1).stats(), Ladder((1e6,), 1.0))
