"""The DASH reference player's rules (BOLA-E, DYNAMIC), the throughput estimators and
BBA's buffer fractions, on worked examples from their published rules, and on the sabre
4G logs with the Big Buck Bunny manifest (the issue's acceptance)."""

from __future__ import annotations

import math

import pytest
from conftest import sabre_dir

from streaming.abr import ABR, AbrState, Bba, BolaE, Dynamic, ThroughputRule, make_abr
from streaming.estimators import Estimator
from streaming.ladder import Ladder, load_sabre_manifest
from streaming.player import load_sabre_trace, simulate_on_trace

LADDER = Ladder(bitrates=(1e6, 2e6, 4e6, 8e6), segment_duration=2.0)
CAPACITY = 20.0  # s: Q_max = 10 segments, V = 9 / (ln 8 + 5)


def state(buffer: float, *, last: int | None = None, throughputs: tuple[float, ...] = (),
          times: tuple[float, ...] | None = None, idle: float = 0.0) -> AbrState:
    return AbrState(ladder=LADDER, segment=len(throughputs), buffer_level=buffer,
                    last_level=last, throughputs=throughputs,
                    download_times=times if times is not None else (1.0,) * len(throughputs),
                    idle=idle)


def bola_choice(buffer: float, gp: float = 5.0) -> int:
    """Spiteri et al. 2016: argmax_m (V v_m + V gp - Q) / S_m, V = (Q_max - 1) / (v_M + gp)."""
    p = LADDER.segment_duration
    sizes = [r * p for r in LADDER.bitrates]
    v = [math.log(s / sizes[0]) for s in sizes]
    big_v = (CAPACITY / p - 1) / (v[-1] + gp)
    scores = [(big_v * (v[m] + gp) - buffer / p) / sizes[m] for m in range(len(sizes))]
    return max(range(len(scores)), key=lambda m: (scores[m], -m))


def lowest_buffer_choosing(level: int) -> float:
    """The smallest buffer (1 ms grid) at which BOLA picks `level` or more."""
    b = 0.0
    while bola_choice(b) < level:
        b += 0.001
    return b


# ---- estimators ----------------------------------------------------------------------------


def test_sliding_mean_and_harmonic_mean_of_the_window() -> None:
    samples = (100e6, 1e6, 4e6, 4e6, 2e6, 8e6)  # the first is outside a window of 5
    assert Estimator("mean", window=5).estimate(samples, (1.0,) * 6) == pytest.approx(3.8e6)
    assert Estimator("harmonic", window=5).estimate(samples, (1.0,) * 6) == pytest.approx(
        5 / (1 / 1e6 + 2 / 4e6 + 1 / 2e6 + 1 / 8e6))
    assert Estimator("mean").estimate((), ()) is None


def test_two_ewma_weighs_by_download_time_and_takes_the_minimum() -> None:
    # Samples 4 Mbit/s over 1 s, then 2 Mbit/s over 2 s.  An EWMA of half-life h gives
    # the last sample weight 1 - 0.5^(2/h) and the first (1 - 0.5^(1/h)) 0.5^(2/h);
    # corrected for the zero start, divided by 1 - 0.5^(3/h).
    def by_hand(h: float) -> float:
        w1 = (1 - 0.5 ** (1 / h)) * 0.5 ** (2 / h)
        w2 = 1 - 0.5 ** (2 / h)
        return (w1 * 4e6 + w2 * 2e6) / (1 - 0.5 ** (3 / h))

    fast, slow = by_hand(3.0), by_hand(8.0)
    assert fast < slow  # the fast average has followed the drop further
    est = Estimator("ewma", fast_half_life=3.0, slow_half_life=8.0)
    assert est.estimate((4e6, 2e6), (1.0, 2.0)) == pytest.approx(min(fast, slow))
    # After a rise the slow average is the lower one, so the rise is believed slowly.
    assert est.estimate((2e6, 4e6), (2.0, 1.0)) == pytest.approx(
        ((1 - 0.5 ** (2 / 8)) * 0.5 ** (1 / 8) * 2e6 + (1 - 0.5 ** (1 / 8)) * 4e6)
        / (1 - 0.5 ** (3 / 8)))
    # The zero-start correction: one sample, or equal samples, are estimated exactly.
    assert est.estimate((3e6,), (0.7,)) == pytest.approx(3e6)
    assert est.estimate((5e6,) * 4, (0.1, 2.0, 0.3, 9.0)) == pytest.approx(5e6)


def test_throughput_rule_with_each_estimator() -> None:
    samples, times = (8e6, 2e6), (1.0, 3.0)
    for name, raw in (("harmonic", 2 / (1 / 8e6 + 1 / 2e6)), ("mean", 5e6)):
        rule = ThroughputRule(estimator=name, safety=0.9)
        assert rule.estimate(state(0.0, throughputs=samples, times=times)) == pytest.approx(
            0.9 * raw)
    ewma = ThroughputRule(estimator="ewma", safety=1.0)
    got = ewma.estimate(state(0.0, throughputs=samples, times=times))
    assert got is not None and 2e6 < got < 5e6


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"estimator": "median"}, "estimator"), ({"estimator": "ewma", "fast_half_life": 0.0},
                                             "fast_half_life"),
    ({"slow_half_life": -1.0}, "slow_half_life"), ({"window": 0}, "window"),
])
def test_estimator_options_are_validated(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        ThroughputRule(**kwargs)  # type: ignore[arg-type]


# ---- BBA fractions -------------------------------------------------------------------------


def test_bba_fractions_scale_with_the_buffer() -> None:
    policy = Bba(reservoir=0.2, cushion=0.6, max_buffer=25.0)
    assert (policy.reservoir, policy.cushion) == pytest.approx((5.0, 15.0))
    # The top of the map, 20 s, lies below the highest requesting buffer 25 - 3 = 22 s.
    ladder = Ladder(bitrates=(1e6, 6e6), segment_duration=3.0)
    top = AbrState(ladder=ladder, segment=0, buffer_level=20.0)
    assert policy.choose(top) == 1


def test_bba_that_cannot_reach_the_top_is_an_error() -> None:
    # The case: reservoir 10 s + cushion 15 s in a 25 s buffer of 3 s segments.
    # Requests happen only at buffers <= 22 s, where f(B) < R_max.
    with pytest.raises(ValueError, match="requests only at buffers up to 22 s"):
        Bba(reservoir=0.4, cushion=0.6, max_buffer=25.0, segment_duration=3.0)
    late = Bba(reservoir=0.4, cushion=0.6, max_buffer=25.0)  # no segment length given
    with pytest.raises(ValueError, match="top rungs"):
        late.choose(AbrState(ladder=Ladder((1e6, 2e6), 3.0), segment=0, buffer_level=0.0))
    Bba(reservoir=0.3, cushion=0.58, max_buffer=25.0, segment_duration=3.0)  # 22 s: fits


def test_bba_params_come_through_the_registry() -> None:
    assert {"bola_e", "dynamic"} <= set(ABR.names())
    policy = make_abr("bba", reservoir=0.1, cushion=0.5, max_buffer=40.0, hysteresis=True)
    assert isinstance(policy, Bba) and policy.hysteresis
    assert (policy.reservoir, policy.cushion) == pytest.approx((4.0, 20.0))


# ---- BOLA-E --------------------------------------------------------------------------------


def started(throughput: float, buffer: float = 2.0) -> tuple[BolaE, int]:
    """A BOLA-E after its startup decision (one segment downloaded)."""
    policy = BolaE(buffer_capacity=CAPACITY)
    assert policy.choose(state(0.0)) == 0  # no sample: the lowest level
    level = policy.choose(state(buffer, last=0, throughputs=(throughput,), times=(0.8,)))
    return policy, level


def test_bola_e_placeholder_after_the_startup_download() -> None:
    # One segment in (B = 2 s) at 5 Mbit/s: the throughput rule says 0.9 x 5 = 4.5 Mbit/s,
    # the 4 Mbit/s rung.  The placeholder lifts the buffer BOLA sees to the lowest level
    # at which BOLA itself picks that rung.
    policy, level = started(5e6)
    assert level == 2
    assert policy.placeholder + 2.0 == pytest.approx(lowest_buffer_choosing(2), abs=2e-3)
    assert bola_choice(2.0 + policy.placeholder + 1e-3) == 2  # BOLA goes on from there
    # BOLA-BASIC at the real 2 s buffer would still pick the lowest rung.
    assert bola_choice(2.0) == 0


def test_bola_e_placeholder_is_zero_when_the_buffer_already_suffices() -> None:
    policy, level = started(1.5e6, buffer=8.0)  # 1.35 Mbit/s -> the lowest rung
    assert level == 0 and policy.placeholder == 0.0


def test_bola_e_insufficient_buffer_rule_chooses_by_throughput() -> None:
    policy, _ = started(20e6)  # top rung, and a placeholder that keeps BOLA high
    low = state(1.0, last=3, throughputs=(3e6, 3e6))
    # BOLA on buffer + placeholder would stay high ...
    assert bola_choice(1.0 + policy.placeholder) >= 2
    # ... but only 0.9 x 3 Mbit/s x 1 s = 2.7 Mbit arrive before the buffer empties: the
    # 2 Mbit segment of the lowest rung fits, the 4 Mbit one does not.
    assert policy.choose(low) == 0
    no_ibr = BolaE(buffer_capacity=CAPACITY, ibr=False)
    no_ibr.choose(state(0.0))
    no_ibr.choose(state(2.0, last=0, throughputs=(20e6,), times=(0.8,)))
    assert no_ibr.choose(low) >= 2


def test_bola_e_caps_up_switches_at_the_throughput_level() -> None:
    policy, _ = started(5e6)  # 4 Mbit/s rung
    # A long pause adds 10 s to the placeholder: BOLA alone would jump to the top.
    s = state(6.0, last=1, throughputs=(5e6, 5e6), idle=10.0)
    before = policy.placeholder
    assert bola_choice(6.0 + before + 10.0) == 3
    # Up from level 1, above the throughput's level 2: capped at max(1, 2) = 2.
    assert policy.choose(s) == 2


def test_bola_e_keeps_quality_over_a_pause_and_forgets_it_after_a_stall() -> None:
    policy, _ = started(5e6)
    ph = policy.placeholder
    policy.choose(state(2.0, last=2, throughputs=(5e6, 5e6), idle=1.5))
    assert policy.placeholder == pytest.approx(ph + 1.5)
    assert policy.choose(state(0.0, last=2, throughputs=(5e6, 5e6, 0.5e6))) == 0
    assert policy.placeholder == 0.0


# ---- DYNAMIC -------------------------------------------------------------------------------


class Says:
    """A stand-in rule that chooses what it is told."""

    def __init__(self) -> None:
        self.level = 0

    def choose(self, state: AbrState) -> int:
        return self.level


@pytest.mark.parametrize(("steps", "expected"), [
    # (buffer, BOLA's level, throughput's level) -> the rule DYNAMIC follows.
    ([(9.9, 3, 1)], ["tput"]),                       # below 10 s: throughput
    ([(10.0, 3, 1)], ["bola"]),                      # 10 s and BOLA >= throughput
    ([(12.0, 1, 2)], ["tput"]),                      # BOLA lower: no switch yet
    ([(12.0, 2, 2), (12.0, 0, 3)], ["bola", "bola"]),  # above 10 s BOLA stays
    ([(12.0, 2, 2), (9.0, 2, 1), (9.0, 1, 2)], ["bola", "bola", "tput"]),
])
def test_dynamic_switch_thresholds(steps: list[tuple[float, int, int]],
                                   expected: list[str]) -> None:
    policy = Dynamic(buffer_capacity=CAPACITY)
    bola, tput = Says(), Says()
    policy.bola, policy.throughput = bola, tput  # type: ignore[assignment]
    for (buffer, m_bola, m_tput), rule in zip(steps, expected, strict=True):
        bola.level, tput.level = m_bola, m_tput
        assert policy.choose(state(buffer)) == (m_bola if rule == "bola" else m_tput)


def test_dynamic_starts_on_throughput() -> None:
    policy = Dynamic(buffer_capacity=CAPACITY)
    assert policy.choose(state(0.0)) == 0
    assert policy.choose(state(2.0, last=0, throughputs=(9e6,))) == 3  # 8.1 Mbit/s
    assert not policy.using_bola


# ---- the acceptance: sabre 4G logs, bbb manifest -------------------------------------------



FOUR_G = ("report_foot_0002.json", "report_tram_0002.json")


@pytest.mark.parametrize("trace_file", FOUR_G)
def test_dash_rules_reach_the_top_two_rungs_within_15_s_on_4g(trace_file: str) -> None:
    d = sabre_dir()
    ladder = load_sabre_manifest(d / "bbb.json")
    trace = load_sabre_trace(d / trace_file)
    top = ladder.levels - 1
    for name in ("bola_e", "dynamic"):
        run = simulate_on_trace(ladder, make_abr(name, buffer_capacity=25.0), trace,
                                max_buffer=25.0)
        early = [r.level for r, t in zip(run.records, run.request_times, strict=True)
                 if t < 15.0]
        assert max(early) >= top - 1, (name, early)
        assert run.stats.finished
    basic = simulate_on_trace(ladder, make_abr("bola", buffer_capacity=25.0), trace,
                              max_buffer=25.0)
    dash = simulate_on_trace(ladder, make_abr("bola_e", buffer_capacity=25.0), trace,
                             max_buffer=25.0)
    assert dash.stats.switches < basic.stats.switches  # the up-switch cap at work


@pytest.mark.parametrize("trace_file", FOUR_G)
def test_bba_with_a_25_s_buffer_reaches_the_top_rung_on_4g(trace_file: str) -> None:
    d = sabre_dir()
    ladder = load_sabre_manifest(d / "bbb.json")
    trace = load_sabre_trace(d / trace_file)
    run = simulate_on_trace(ladder, make_abr("bba", max_buffer=25.0), trace, max_buffer=25.0)
    assert max(run.stats.levels) == ladder.levels - 1
    # The old absolute defaults (10 s + 15 s) would have capped it below the top: refused.
    with pytest.raises(ValueError, match="top rungs"):
        make_abr("bba", reservoir=10 / 25, cushion=15 / 25, max_buffer=25.0,
                 segment_duration=ladder.segment_duration)
