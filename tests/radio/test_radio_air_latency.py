"""Air-interface latency: slot timing, component sums, HARQ closed forms and sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.radio.air_latency import (
    AirLatency,
    harq_extra_delay_s,
    mean_retransmissions,
    mean_retransmissions_delivered,
    residual_loss,
    sample_retransmissions,
    slot_duration_s,
    symbol_duration_s,
)

MS = 1e-3


@pytest.mark.parametrize(("mu", "slot_ms"), [(0, 1.0), (1, 0.5), (2, 0.25), (3, 0.125)])
def test_slot_and_symbol_lengths(mu: int, slot_ms: float) -> None:
    assert slot_duration_s(mu) == pytest.approx(slot_ms * MS, rel=1e-15)
    assert symbol_duration_s(mu) * 14 == pytest.approx(slot_ms * MS, rel=1e-15)


def test_downlink_components_with_explicit_times() -> None:
    model = AirLatency(mu=1, ue_rx_symbols=7, gnb_symbols=3.5, ue_harq_symbols=10, bler=0.0)
    sym = 0.5 * MS / 14
    parts = model.breakdown("DL").as_dict()
    assert list(parts) == ["gnb_processing", "frame_alignment", "tti", "ue_processing", "harq"]
    assert parts["frame_alignment"] == pytest.approx(0.25 * MS)
    assert parts["harq"] == 0.0
    expected = 3.5 * sym + 0.25 * MS + 0.5 * MS + 7 * sym
    assert model.mean_latency_s("DL") == pytest.approx(expected, rel=1e-12)


def test_downlink_defaults_from_capability_1() -> None:
    # mu = 1: N1 = 10 symbols (TS 38.214 Table 5.3-1); UE decode and gNB take N1/2 each.
    sym = 0.5 * MS / 14
    model = AirLatency(mu=1)
    first = model.breakdown("DL").first_attempt_s
    assert first == pytest.approx(5 * sym + 0.25 * MS + 0.5 * MS + 5 * sym, rel=1e-12)
    # RTT: N1 + gNB + half a slot alignment + a slot.
    assert model.harq_rtt_s("DL") == pytest.approx(10 * sym + 5 * sym + 0.75 * MS, rel=1e-12)


@pytest.mark.parametrize(("mu", "k2"), [(0, 1), (1, 1), (2, 2), (3, 3)])
def test_uplink_sr_path(mu: int, k2: int) -> None:
    # k2 = ceil(N2 / 14), N2 = 10, 12, 23, 36 symbols (TS 38.214 Table 6.4-1).
    slot = MS / 2**mu
    model = AirLatency(mu=mu, gnb_symbols=0.0, bler=0.0)
    parts = model.breakdown("UL").as_dict()
    assert parts["sr_wait"] == pytest.approx(slot / 2)
    assert parts["grant_to_pusch"] == pytest.approx(k2 * slot)
    expected = slot / 2 + slot + k2 * slot + slot
    assert model.mean_latency_s("UL") == pytest.approx(expected, rel=1e-12)


def test_uplink_sr_period_and_configured_grant() -> None:
    slot = 0.5 * MS
    sr = AirLatency(mu=1, sr_period_slots=10, gnb_symbols=0.0, bler=0.0)
    assert sr.mean_latency_s("UL") == pytest.approx(5 * slot + slot + slot + slot, rel=1e-12)
    cg = AirLatency(mu=1, configured_grant=True, cg_period_slots=2, gnb_symbols=0.0,
                    ue_tx_symbols=12, bler=0.0)
    parts = cg.breakdown("UL").as_dict()
    assert "sr_wait" not in parts
    assert "sr_to_grant" not in parts
    assert cg.mean_latency_s("UL") == pytest.approx(12 * slot / 14 + slot + slot, rel=1e-12)
    assert cg.mean_latency_s("UL") < AirLatency(mu=1, gnb_symbols=0.0, bler=0.0).mean_latency_s(
        "UL")


def test_mini_slot_shortens_downlink() -> None:
    sym = 0.5 * MS / 14
    model = AirLatency(mu=1, tti_symbols=2, ue_rx_symbols=0, gnb_symbols=0, bler=0.0)
    assert model.mean_latency_s("DL") == pytest.approx(1 * sym + 2 * sym, rel=1e-12)


def test_latency_falls_with_numerology() -> None:
    for direction in ("DL", "UL"):
        means = [AirLatency(mu=mu).mean_latency_s(direction) for mu in range(4)]
        assert all(a > b for a, b in itertools.pairwise(means))


@pytest.mark.parametrize("p", [0.0, 0.01, 0.1, 0.3, 0.7])
@pytest.mark.parametrize("m", [0, 1, 2, 3, 8])
def test_harq_closed_forms_against_sums(p: float, m: int) -> None:
    prob = [p**n * (1 - p) for n in range(m + 1)]  # n failures then a success
    delivered = sum(prob)
    assert residual_loss(p, m) == pytest.approx(1 - delivered, abs=1e-15)
    conditional = sum(n * q for n, q in enumerate(prob)) / delivered
    assert mean_retransmissions_delivered(p, m) == pytest.approx(conditional, rel=1e-12, abs=1e-15)
    overall = sum(n * q for n, q in enumerate(prob)) + m * (1 - delivered)
    assert mean_retransmissions(p, m) == pytest.approx(overall, rel=1e-12, abs=1e-15)


def test_harq_unbounded_is_geometric() -> None:
    assert mean_retransmissions_delivered(0.1, None) == pytest.approx(0.1 / 0.9)
    assert mean_retransmissions(0.1, None) == pytest.approx(0.1 / 0.9)
    assert residual_loss(0.1, None) == 0.0
    assert harq_extra_delay_s(2 * MS, 0.1, None) == pytest.approx(2 * MS * 0.1 / 0.9)
    model = AirLatency(mu=1, bler=0.1, max_retx=None)
    b = model.breakdown("DL")
    assert b.harq_s == pytest.approx(model.harq_rtt_s("DL") * 0.1 / 0.9, rel=1e-12)
    assert b.mean_s == pytest.approx(b.first_attempt_s + b.harq_s)


def test_harq_defaults() -> None:
    b = AirLatency().breakdown("UL")
    assert b.residual_loss == pytest.approx(0.1**4)  # BLER 0.1, 3 retransmissions
    assert b.mean_retransmissions == pytest.approx(
        sum(n * 0.1**n * 0.9 for n in range(4)) / (1 - 0.1**4))


@pytest.mark.parametrize("m", [None, 0, 2])
def test_sampler_matches_closed_form(m: int | None) -> None:
    p, n = 0.1, 400_000
    retx, delivered = sample_retransmissions(np.random.default_rng(7), p, m, n)
    assert retx.dtype == np.int64
    assert delivered.shape == (n,)
    expected = p / (1 - p) if m is None else sum(k * p**k * (1 - p) for k in range(m + 1)) / (
        1 - p ** (m + 1))
    got = retx[delivered].mean()
    sd = retx[delivered].std() / np.sqrt(delivered.sum())
    assert abs(got - expected) < 5 * sd + 1e-12
    loss = 0.0 if m is None else p ** (m + 1)
    assert abs((~delivered).mean() - loss) < 5 * np.sqrt(loss * (1 - loss) / n) + 1e-12
    if m is not None:
        assert retx.max() <= m


@pytest.mark.parametrize("direction", ["DL", "UL"])
@pytest.mark.parametrize("configured_grant", [False, True])
def test_sampled_latency_mean(direction: str, configured_grant: bool) -> None:
    model = AirLatency(mu=1, bler=0.2, max_retx=2, sr_period_slots=4,
                       configured_grant=configured_grant)
    draws = model.sample_latency_s(np.random.default_rng(3), direction, 200_000)  # type: ignore[arg-type]
    ok = draws[~np.isnan(draws)]
    mean = model.mean_latency_s(direction)  # type: ignore[arg-type]
    assert abs(ok.mean() - mean) < 5 * ok.std() / np.sqrt(ok.size)
    assert np.isnan(draws).mean() == pytest.approx(0.2**3, abs=5 * np.sqrt(0.008 / 200_000))
    first = model.breakdown(direction).first_attempt_s  # type: ignore[arg-type]
    assert ok.min() >= first - model.slot_s * 2  # waits are at least zero


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="bler"):
        AirLatency(bler=1.0)
    with pytest.raises(ValueError, match="max_retx"):
        residual_loss(0.1, -1)
    with pytest.raises(ValueError, match="mu"):
        AirLatency(mu=4)
    with pytest.raises(ValueError, match="direction"):
        AirLatency().mean_latency_s("SL")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tti_symbols"):
        AirLatency(tti_symbols=15)
    explicit = AirLatency(mu=4, ue_rx_symbols=1, ue_harq_symbols=2, ue_tx_symbols=3,
                          gnb_symbols=1, k2_slots=4)
    assert explicit.slot_s == pytest.approx(MS / 16)
