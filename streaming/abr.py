"""Adaptive-bitrate (ABR) policies: which quality level to fetch next.

A policy chooses a level from an `AbrState` snapshot taken when the player is about to
request a segment.  Most policies are pure functions of it; BOLA-E and DYNAMIC keep a
little state of their own between requests (the placeholder buffer, which rule is in
charge), so every session owns its policy instance, and the same sequence of states
always gives the same levels.  Policies are registered in `ABR` under the name used in
YAML; `make_abr` builds one from that name and its parameters.

Built in (docs/streaming.md explains each with its reference):

* ``throughput`` -- rate-based: a throughput estimate (`streaming.estimators`), discounted.
* ``bba`` -- buffer-based BBA-0 (Huang et al., SIGCOMM 2014), reservoir and cushion as
  fractions of the buffer.
* ``bola`` -- BOLA-BASIC (Spiteri, Urgaonkar & Sitaraman, INFOCOM 2016 / ToN 2020).
* ``bola_e`` -- BOLA-E (Spiteri, Sitaraman & Sparacio, MMSys 2018): BOLA with a
  placeholder buffer, a throughput-based startup, a cap on up-switches and the
  insufficient-buffer rule.
* ``dynamic`` -- the DASH reference player's DYNAMIC: throughput at low buffer, BOLA-E
  once the buffer holds (same paper).
* ``fixed`` -- always the same level (baselines and tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sim.registry import Registry
from streaming.estimators import Estimator, harmonic_mean
from streaming.ladder import Ladder

__all__ = [
    "ABR",
    "AbrFactory",
    "AbrPolicy",
    "AbrState",
    "Bba",
    "Bola",
    "BolaE",
    "Dynamic",
    "FixedLevel",
    "ThroughputRule",
    "harmonic_mean",
    "make_abr",
]

_SLACK = 1e-9
"""Relative slack of buffer comparisons (a 22 s request limit and a 22 s map top)."""


@dataclass(frozen=True)
class AbrState:
    """What the player knows when it is about to request `segment`.

    `throughputs` (bit/s) and `download_times` (s) describe the previous segments,
    oldest first; a throughput is the segment's size over its download time, request
    latency included.  `last_level` is None before the first segment.  `idle` is how
    long the player waited since the last download ended (a full buffer), 0 before
    the first segment.
    """

    ladder: Ladder
    segment: int
    buffer_level: float
    last_level: int | None = None
    throughputs: tuple[float, ...] = ()
    download_times: tuple[float, ...] = ()
    idle: float = 0.0


class AbrPolicy(Protocol):
    """Chooses the level of the next segment."""

    def choose(self, state: AbrState) -> int:
        """Index into ``state.ladder.bitrates``."""
        ...


AbrFactory = Callable[..., AbrPolicy]
ABR: Registry[AbrFactory] = Registry("abr")


def make_abr(name: str, **params: Any) -> AbrPolicy:
    """The policy registered as `name`, built with `params` (YAML keys)."""
    factory = ABR.get(name)
    try:
        return factory(**params)
    except TypeError as exc:
        raise ValueError(f"abr {name!r}: bad parameters {sorted(params)}: {exc}") from exc


def _positive(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


def _safety(value: float) -> float:
    if not math.isfinite(value) or not 0 < value <= 1:
        raise ValueError(f"safety must be in (0, 1], got {value!r}")
    return float(value)


@ABR.register("throughput")
class ThroughputRule:
    """Rate-based rule: the highest level <= safety x the throughput estimate.

    `estimator` is ``harmonic`` (default: the harmonic mean of the last `window`
    samples), ``mean`` (their arithmetic mean) or ``ewma`` (the smaller of two
    download-time EWMAs with half-lives `fast_half_life` and `slow_half_life`); see
    `streaming.estimators`.  Before the first sample the lowest level is chosen, the
    safe way to start.
    """

    def __init__(self, window: int = 5, safety: float = 0.9, estimator: str = "harmonic",
                 fast_half_life: float = 3.0, slow_half_life: float = 8.0) -> None:
        self.estimator = Estimator(estimator, window, fast_half_life, slow_half_life)
        self.window = window
        self.safety = _safety(safety)

    def estimate(self, state: AbrState) -> float | None:
        """Discounted throughput estimate (bit/s), or None without samples."""
        raw = self.estimator.estimate(state.throughputs, state.download_times)
        return None if raw is None else self.safety * raw

    def choose(self, state: AbrState) -> int:
        estimate = self.estimate(state)
        if estimate is None:
            return 0
        return state.ladder.highest_at_most(estimate)


@ABR.register("bba")
class Bba:
    """BBA-0 of Huang, Johari, McKeown, Trunnell & Watson, SIGCOMM 2014.

    The rate map is ``f(B) = R_min + (R_max - R_min) (B - r) / c`` for ``r <= B <= r + c``
    with reservoir ``r = reservoir x max_buffer`` and cushion ``c = cushion x
    max_buffer`` (seconds; `reservoir` and `cushion` are fractions).  Below the
    reservoir the lowest level is chosen, above ``r + c`` the highest.  The paper ran
    r = 90 s and c = 126 s in a 240 s buffer (0.375 and 0.525); the defaults 0.2 and
    0.6 put the top of the map at 80% of the buffer, so it stays reachable.

    The player requests a segment only while ``B <= max_buffer - segment_duration``, so
    the top rung is reachable only if ``r + c`` is at most that; otherwise the policy
    raises ValueError (at construction when `segment_duration` is given, as the
    workload does, else at the first choice).

    Default (``hysteresis=False``): the memoryless variant, the highest level whose
    bitrate is <= f(B).  With ``hysteresis=True``: the paper's Algorithm 1, which keeps
    the previous rate R_prev until f(B) reaches the next rate up (then takes the highest
    rate strictly below f(B)) or falls to the next rate down (then takes the lowest rate
    strictly above f(B)), so small buffer wiggles cause no switches.
    """

    def __init__(self, reservoir: float = 0.2, cushion: float = 0.6,
                 max_buffer: float = 30.0, hysteresis: bool = False,
                 segment_duration: float | None = None) -> None:
        if not math.isfinite(reservoir) or not 0 <= reservoir < 1:
            raise ValueError(f"reservoir is a fraction of max_buffer in [0, 1), "
                             f"got {reservoir!r}")
        if not math.isfinite(cushion) or not 0 < cushion <= 1:
            raise ValueError(f"cushion is a fraction of max_buffer in (0, 1], got {cushion!r}")
        if reservoir + cushion > 1 + _SLACK:
            raise ValueError(f"reservoir + cushion ({reservoir:g} + {cushion:g}) exceeds "
                             "the whole buffer (1)")
        self.max_buffer = _positive("max_buffer", max_buffer)
        self.reservoir = float(reservoir) * self.max_buffer
        self.cushion = float(cushion) * self.max_buffer
        self.hysteresis = bool(hysteresis)
        if segment_duration is not None:
            self.check_reachable(_positive("segment_duration", segment_duration))

    def check_reachable(self, segment_duration: float) -> None:
        """Raise ValueError if the map's top lies above the highest requesting buffer."""
        highest = self.max_buffer - segment_duration
        top = self.reservoir + self.cushion
        if top > highest * (1 + _SLACK) + _SLACK:
            raise ValueError(
                f"reservoir + cushion reach {top:g} s, but with max_buffer {self.max_buffer:g} s "
                f"and {segment_duration:g} s segments the player requests only at buffers up "
                f"to {highest:g} s, so the top rungs are never chosen; lower the fractions to "
                f"a sum of at most {highest / self.max_buffer:.3g}")

    def rate_map(self, buffer_level: float, ladder: Ladder) -> float:
        """f(B) in bit/s, clamped to [R_min, R_max]."""
        lo, hi = ladder.min_bitrate, ladder.max_bitrate
        if buffer_level <= self.reservoir:
            return lo
        if buffer_level >= self.reservoir + self.cushion:
            return hi
        return lo + (hi - lo) * (buffer_level - self.reservoir) / self.cushion

    def choose(self, state: AbrState) -> int:
        ladder, b = state.ladder, state.buffer_level
        if state.last_level is None:
            self.check_reachable(ladder.segment_duration)
        top = ladder.levels - 1
        if b <= self.reservoir:
            return 0
        if b >= self.reservoir + self.cushion:
            return top
        f = self.rate_map(b, ladder)
        if not self.hysteresis or state.last_level is None:
            return ladder.highest_at_most(f)
        prev = state.last_level
        rates = ladder.bitrates
        up = rates[min(prev + 1, top)]
        down = rates[max(prev - 1, 0)]
        if f >= up:
            below = [m for m, r in enumerate(rates) if r < f]
            return below[-1] if below else 0
        if f <= down:
            above = [m for m, r in enumerate(rates) if r > f]
            return above[0] if above else top
        return prev


@ABR.register("bola")
class Bola:
    """BOLA-BASIC of Spiteri, Urgaonkar & Sitaraman (INFOCOM 2016; IEEE/ACM ToN 2020).

    With segment duration p, levels m = 1..M of nominal segment size S_m = R_m p:

    * utilities ``v_m = ln(S_m / S_1)`` (so v_1 = 0),
    * buffer in segments ``Q = B / p`` and capacity ``Q_max = buffer_capacity / p``,
    * the paper's parameter choice ``V = (Q_max - 1) / (v_M + gamma_p)``,
    * the level ``argmax_m (V v_m + V gamma_p - Q) / S_m`` (ties to the lower level).

    The argmax is unchanged by the unit of S_m, so bitrates stand in for sizes.  BOLA
    itself would pause when every score is negative (Q > Q_max - 1); pausing is the
    player's max-buffer rule here, and the argmax is still returned.  `gamma_p` trades
    rebuffering against quality (larger favours quality); the default is 5.
    """

    def __init__(self, buffer_capacity: float = 30.0, gamma_p: float = 5.0) -> None:
        self.buffer_capacity = _positive("buffer_capacity", buffer_capacity)
        self.gamma_p = _positive("gamma_p", gamma_p)

    def control(self, ladder: Ladder) -> float:
        """The Lyapunov weight V for this ladder."""
        q_max = self.buffer_capacity / ladder.segment_duration
        if q_max <= 1:
            raise ValueError(f"buffer_capacity ({self.buffer_capacity} s) must exceed one "
                             f"segment ({ladder.segment_duration} s) for BOLA")
        v_top = math.log(ladder.max_bitrate / ladder.min_bitrate)
        return (q_max - 1) / (v_top + self.gamma_p)

    def scores_at(self, ladder: Ladder, buffer_level: float) -> list[float]:
        """BOLA's objective for every level at `buffer_level` s (bit/s for sizes)."""
        v_weight = self.control(ladder)
        q = buffer_level / ladder.segment_duration
        base = ladder.min_bitrate
        return [(v_weight * math.log(r / base) + v_weight * self.gamma_p - q) / r
                for r in ladder.bitrates]

    def scores(self, state: AbrState) -> list[float]:
        """BOLA's objective for every level at the state's buffer."""
        return self.scores_at(state.ladder, state.buffer_level)

    def level_at(self, ladder: Ladder, buffer_level: float) -> int:
        """argmax of the scores, ties to the lower level."""
        scores = self.scores_at(ladder, buffer_level)
        best = 0
        for m, s in enumerate(scores):
            if s > scores[best]:
                best = m
        return best

    def min_buffer_for(self, ladder: Ladder, level: int) -> float:
        """The lowest buffer (s) at which `level` scores at least every lower level.

        Level m beats a lower level j once ``Q >= V (gamma_p + (S_m v_j - S_j v_m) /
        (S_m - S_j))``, from equating their scores; the bound for m is the largest
        over j < m.
        """
        v_weight = self.control(ladder)
        rates = ladder.bitrates
        base = ladder.min_bitrate
        v_m = math.log(rates[level] / base)
        q = 0.0
        for j in range(level):
            v_j = math.log(rates[j] / base)
            q = max(q, v_weight * (self.gamma_p + (rates[level] * v_j - rates[j] * v_m)
                                   / (rates[level] - rates[j])))
        return q * ladder.segment_duration

    def max_buffer_for(self, ladder: Ladder, level: int) -> float:
        """The buffer (s) above which `level` scores below zero: BOLA would pause."""
        v_m = math.log(ladder.bitrates[level] / ladder.min_bitrate)
        return self.control(ladder) * (v_m + self.gamma_p) * ladder.segment_duration

    def choose(self, state: AbrState) -> int:
        return self.level_at(state.ladder, state.buffer_level)


def insufficient_buffer_cap(state: AbrState, estimate: float, safety: float) -> int:
    """The highest level whose next segment downloads, at ``safety x estimate``, within
    the buffer now held; the lowest if none does (dash.js InsufficientBufferRule)."""
    ladder = state.ladder
    budget = safety * estimate * state.buffer_level  # bits that arrive before it empties
    best = 0
    for m in range(ladder.levels):
        if 8.0 * ladder.size(state.segment, m) <= budget:
            best = m
    return best


@ABR.register("bola_e")
class BolaE:
    """BOLA-E of Spiteri, Sitaraman & Sparacio (MMSys 2018; ACM TOMM 2019).

    BOLA (the `Bola` scores, same V and gamma_p) applied to the buffer plus a
    *placeholder* buffer, a virtual amount of media that lets BOLA act on what the
    throughput says while the real buffer is still small.  Per request:

    1. No throughput sample yet (the first segment): the lowest level.
    2. Startup, the first request with a sample: the throughput rule's level m_t
       (``safety x estimate``); the placeholder is set to ``max(0, B_min(m_t) - B)``,
       with B_min(m) the lowest buffer at which BOLA picks m, so BOLA goes on from m_t
       instead of climbing from the bottom.
    3. Steady state: the placeholder grows by the time the player waited (`idle`, a
       full buffer), so pausing does not make BOLA drop quality, and is emptied by a
       stall (buffer 0).  BOLA picks m_b at ``B + placeholder``.
       * Up-switch cap (the paper's oscillation fix): if m_b is above the last level
         and above m_t, take ``max(last level, m_t)`` instead.
       * The placeholder is trimmed so ``B + placeholder`` stays at most the buffer
         above which the chosen level's score is negative (where BOLA would pause).
       * Insufficient-buffer rule (`ibr`): no level whose segment, at ``ibr_safety x
         estimate``, would take longer to download than the buffer now held.

    `estimator`, `window`, `fast_half_life`, `slow_half_life` and `safety` configure
    the throughput part (default: the two-EWMA estimator of dash.js).
    """

    def __init__(self, buffer_capacity: float = 30.0, gamma_p: float = 5.0,
                 safety: float = 0.9, estimator: str = "ewma", window: int = 5,
                 fast_half_life: float = 3.0, slow_half_life: float = 8.0,
                 ibr: bool = True, ibr_safety: float = 0.9) -> None:
        self.bola = Bola(buffer_capacity, gamma_p)
        self.throughput = ThroughputRule(window, safety, estimator, fast_half_life,
                                         slow_half_life)
        self.ibr = bool(ibr)
        self.ibr_safety = _safety(ibr_safety)
        self.placeholder = 0.0
        self.started = False

    def choose(self, state: AbrState) -> int:
        ladder = state.ladder
        raw = self.throughput.estimator.estimate(state.throughputs, state.download_times)
        if raw is None:
            return 0
        m_t = ladder.highest_at_most(self.throughput.safety * raw)
        b = state.buffer_level
        if not self.started:
            self.started = True
            self.placeholder = max(0.0, self.bola.min_buffer_for(ladder, m_t) - b)
            return m_t
        if b <= 0.0:
            self.placeholder = 0.0
        self.placeholder += state.idle
        level = self.bola.level_at(ladder, b + self.placeholder)
        last = 0 if state.last_level is None else state.last_level
        if level > last and level > m_t:
            level = max(last, m_t)
        ceiling = self.bola.max_buffer_for(ladder, level)
        self.placeholder = max(0.0, min(self.placeholder, ceiling - b))
        if self.ibr:
            level = min(level, insufficient_buffer_cap(state, raw, self.ibr_safety))
        return level


@ABR.register("dynamic")
class Dynamic:
    """DYNAMIC, the DASH reference player's default (Spiteri, Sitaraman & Sparacio 2018).

    It runs a throughput rule and BOLA-E side by side and follows one of them: the
    throughput rule from the start; BOLA-E once the buffer reaches `switch_buffer`
    (10 s in the paper) and BOLA-E chooses at least the throughput rule's level; the
    throughput rule again once the buffer falls below `switch_buffer` and BOLA-E
    chooses less than it.  BOLA-E is consulted at every request either way, so its
    placeholder stays current.  The throughput part (estimator, safety) is shared.
    """

    def __init__(self, buffer_capacity: float = 30.0, gamma_p: float = 5.0,
                 safety: float = 0.9, estimator: str = "ewma", window: int = 5,
                 fast_half_life: float = 3.0, slow_half_life: float = 8.0,
                 switch_buffer: float = 10.0, ibr: bool = True,
                 ibr_safety: float = 0.9) -> None:
        self.bola = BolaE(buffer_capacity, gamma_p, safety, estimator, window,
                          fast_half_life, slow_half_life, ibr, ibr_safety)
        self.throughput = self.bola.throughput
        if not math.isfinite(switch_buffer) or switch_buffer < 0:
            raise ValueError(f"switch_buffer must be >= 0 and finite, got {switch_buffer!r}")
        self.switch_buffer = float(switch_buffer)
        self.using_bola = False

    def choose(self, state: AbrState) -> int:
        m_bola = self.bola.choose(state)
        m_tput = self.throughput.choose(state)
        b = state.buffer_level
        if not self.using_bola and b >= self.switch_buffer and m_bola >= m_tput:
            self.using_bola = True
        elif self.using_bola and b < self.switch_buffer and m_bola < m_tput:
            self.using_bola = False
        return m_bola if self.using_bola else m_tput


@ABR.register("fixed")
class FixedLevel:
    """Always `level` (clamped to the ladder's top): a baseline, and for buffer tests."""

    def __init__(self, level: int = 0) -> None:
        if isinstance(level, bool) or not isinstance(level, int) or level < 0:
            raise ValueError(f"level must be an integer >= 0, got {level!r}")
        self.level = level

    def choose(self, state: AbrState) -> int:
        return min(self.level, state.ladder.levels - 1)
