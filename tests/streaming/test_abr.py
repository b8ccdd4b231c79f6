"""ABR policies against their published definitions, evaluated independently here."""

from __future__ import annotations

import math

import pytest

from sim.registry import UnknownPluginError
from streaming.abr import (
    ABR,
    AbrState,
    Bba,
    Bola,
    FixedLevel,
    ThroughputRule,
    make_abr,
)
from streaming.ladder import Ladder
from streaming.player import simulate_on_trace

LADDER = Ladder(bitrates=(1e6, 2e6, 3e6, 5e6), segment_duration=2.0)


def state(buffer: float, *, ladder: Ladder = LADDER, last: int | None = None,
          throughputs: tuple[float, ...] = ()) -> AbrState:
    return AbrState(ladder=ladder, segment=len(throughputs), buffer_level=buffer,
                    last_level=last, throughputs=throughputs,
                    download_times=tuple(1.0 for _ in throughputs))


def highest_at_most(ladder: Ladder, rate: float) -> int:
    fits = [m for m, r in enumerate(ladder.bitrates) if r <= rate]
    return fits[-1] if fits else 0


# ---- registry ------------------------------------------------------------------------------


def test_registry_names_and_factory() -> None:
    assert {"throughput", "bba", "bola", "fixed"} <= set(ABR.names())
    assert isinstance(make_abr("bba", reservoir=0.1, cushion=0.4), Bba)
    with pytest.raises(ValueError, match="bad parameters"):
        make_abr("throughput", horizon=3)
    with pytest.raises(UnknownPluginError, match="did you mean 'bola'"):
        make_abr("bolla")


# ---- throughput rule -----------------------------------------------------------------------


def test_throughput_rule_starts_at_lowest() -> None:
    assert ThroughputRule().choose(state(20.0)) == 0


def test_throughput_rule_uses_harmonic_mean_of_last_window() -> None:
    samples = (100e6, 1e6, 4e6, 4e6, 2e6, 8e6)  # the first falls outside a window of 5
    last5 = samples[1:]
    hm = 5 / sum(1 / x for x in last5)  # 5 / (1e-6 + 0.25e-6 * 2 + 0.5e-6 + 0.125e-6)
    assert hm == pytest.approx(5 / 2.125e-6)
    rule = ThroughputRule(window=5, safety=0.9)
    assert rule.estimate(state(0.0, throughputs=samples)) == pytest.approx(0.9 * hm)
    # 0.9 * 2.353 Mbit/s = 2.12 Mbit/s -> the 2 Mbit/s rung.
    assert rule.choose(state(0.0, throughputs=samples)) == highest_at_most(LADDER, 0.9 * hm) == 1
    # A window of 1 sees only the last sample: 0.9 * 8 = 7.2 Mbit/s -> top.
    assert ThroughputRule(window=1).choose(state(0.0, throughputs=samples)) == 3
    # Below the lowest rung -> the lowest.
    assert ThroughputRule().choose(state(0.0, throughputs=(0.5e6,))) == 0


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"window": 0}, "window"), ({"window": 2.5}, "window"),
    ({"safety": 0.0}, "safety"), ({"safety": 1.5}, "safety"),
])
def test_throughput_rule_validates(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        ThroughputRule(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("bandwidth", [2.7e6, 6.0e6, 9.1e6])
def test_throughput_rule_settles_on_constant_link(bandwidth: float) -> None:
    ladder = Ladder(bitrates=(0.4e6, 1e6, 2e6, 3e6, 5e6, 8e6), segment_duration=2.0)
    safety = 0.9
    expected = highest_at_most(ladder, bandwidth * safety)
    run = simulate_on_trace(ladder, ThroughputRule(window=5, safety=safety),
                            [(1000.0, bandwidth)], n_segments=40, latency=0.0)
    levels = run.stats.levels
    assert levels[0] == 0  # no sample yet
    # From the second segment on every sample equals the link rate.
    assert set(levels[1:]) == {expected}
    assert run.stats.rebuffer_events == 0
    assert run.stats.rebuffer_time == 0.0
    assert run.stats.finished


# ---- BBA-0 ---------------------------------------------------------------------------------


def bba_map(buffer: float, r: float, c: float, ladder: Ladder) -> float:
    """Huang et al. 2014: f linear from R_min at B = r to R_max at B = r + c."""
    lo, hi = ladder.bitrates[0], ladder.bitrates[-1]
    if buffer <= r:
        return lo
    if buffer >= r + c:
        return hi
    return lo + (hi - lo) * (buffer - r) / c


@pytest.mark.parametrize(("buffer", "expected"), [
    (0.0, 0), (4.9, 0), (5.0, 0),
    (7.5, 1),   # f = 1 + 4 * 2.5 / 10 = 2 Mbit/s exactly -> the 2 Mbit/s rung
    (9.0, 1),   # f = 2.6
    (10.0, 2),  # f = 3.0
    (14.9, 2),  # f = 4.96
    (15.0, 3), (40.0, 3),
])
def test_bba_follows_its_rate_map(buffer: float, expected: int) -> None:
    r, c = 5.0, 10.0
    f = bba_map(buffer, r, c, LADDER)
    assert highest_at_most(LADDER, f) == expected
    # r = 5 s and c = 10 s of a 20 s buffer: fractions 0.25 and 0.5.
    assert Bba(reservoir=0.25, cushion=0.5, max_buffer=20.0).choose(
        state(buffer, last=3)) == expected


@pytest.mark.parametrize(("buffer", "last", "expected"), [
    (9.0, 2, 2),    # f = 2.6: between R- = 2 and R+ = 5 -> keep 3 Mbit/s
    (9.0, 1, 1),    # f = 2.6: between 1 and 3 -> keep 2 Mbit/s
    (12.0, 0, 2),   # f = 3.8 >= R+ = 2 -> max{R < 3.8} = 3 Mbit/s
    (6.0, 3, 1),    # f = 1.4 <= R- = 3 -> min{R > 1.4} = 2 Mbit/s
    (10.0, 0, 1),   # f = 3.0 >= R+ = 2 -> max{R < 3.0} strictly = 2 Mbit/s
])
def test_bba_algorithm_1_hysteresis(buffer: float, last: int, expected: int) -> None:
    policy = Bba(reservoir=0.25, cushion=0.5, max_buffer=20.0, hysteresis=True)
    assert policy.choose(state(buffer, last=last)) == expected


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"reservoir": -1.0}, "reservoir"), ({"reservoir": 10.0}, "reservoir"),
    ({"cushion": 0.0}, "cushion"), ({"cushion": 15.0}, "cushion"),
    ({"reservoir": 0.5, "cushion": 0.6}, "whole buffer"), ({"max_buffer": 0.0}, "max_buffer"),
])
def test_bba_validates(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Bba(**kwargs)  # type: ignore[arg-type]


# ---- BOLA-BASIC ----------------------------------------------------------------------------


def bola_choice(buffer: float, capacity: float, gp: float, ladder: Ladder) -> int:
    """Spiteri et al.: argmax_m (V v_m + V gp - Q) / S_m, V = (Q_max - 1) / (v_M + gp)."""
    p = ladder.segment_duration
    sizes = [r * p for r in ladder.bitrates]  # S_m in bits
    v = [math.log(s / sizes[0]) for s in sizes]
    q, q_max = buffer / p, capacity / p
    big_v = (q_max - 1) / (v[-1] + gp)
    scores = [(big_v * v[m] + big_v * gp - q) / sizes[m] for m in range(len(sizes))]
    return max(range(len(scores)), key=lambda m: (scores[m], -m))


BOLA_LADDER = Ladder(bitrates=(0.5e6, 1e6, 2e6, 4e6, 8e6), segment_duration=2.0)


@pytest.mark.parametrize("buffer", [0.0, 2.0, 6.0, 9.0, 11.0, 13.0, 15.0, 17.0, 18.0, 25.0])
def test_bola_matches_formula(buffer: float) -> None:
    policy = Bola(buffer_capacity=20.0, gamma_p=5.0)
    assert policy.choose(state(buffer, ladder=BOLA_LADDER)) == bola_choice(
        buffer, 20.0, 5.0, BOLA_LADDER)


def test_bola_climbs_the_whole_ladder_with_the_buffer() -> None:
    # V = 9 / (ln 16 + 5); at Q = 0 the lowest rung scores best, and at Q = Q_max - 1
    # the top rung's score reaches 0 while all others are negative.
    policy = Bola(buffer_capacity=20.0, gamma_p=5.0)
    chosen = [policy.choose(state(b / 4, ladder=BOLA_LADDER)) for b in range(0, 80)]
    assert chosen[0] == 0
    assert chosen[-1] == BOLA_LADDER.levels - 1
    assert chosen == sorted(chosen)
    assert set(chosen) == set(range(BOLA_LADDER.levels))


def test_bola_on_sabre_like_ladder_with_other_gamma() -> None:
    ladder = Ladder(bitrates=(230e3, 331e3, 477e3, 688e3, 991e3, 1427e3, 2056e3, 2962e3,
                              5027e3, 6000e3), segment_duration=3.0)
    policy = Bola(buffer_capacity=25.0, gamma_p=2.0)
    for b in [0.0, 1.5, 4.0, 8.0, 12.5, 16.0, 19.0, 21.9]:
        assert policy.choose(state(b, ladder=ladder)) == bola_choice(b, 25.0, 2.0, ladder)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"buffer_capacity": 0.0}, "buffer_capacity"), ({"gamma_p": -1.0}, "gamma_p"),
])
def test_bola_validates(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Bola(**kwargs)


def test_bola_needs_more_than_one_segment_of_buffer() -> None:
    with pytest.raises(ValueError, match="buffer_capacity"):
        Bola(buffer_capacity=2.0).choose(state(0.0))


# ---- fixed ---------------------------------------------------------------------------------


def test_fixed_level() -> None:
    assert FixedLevel(2).choose(state(0.0)) == 2
    assert FixedLevel(9).choose(state(0.0)) == 3
    with pytest.raises(ValueError, match="level"):
        FixedLevel(-1)
