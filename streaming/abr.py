"""Adaptive-bitrate (ABR) policies: which quality level to fetch next.

A policy is a pure function of an `AbrState` snapshot taken when the player is about to
request a segment, so the same inputs always give the same level and policies can be
tested without a network.  Policies are registered in `ABR` under the name used in
YAML; `make_abr` builds one from that name and its parameters.

Built in:

* ``throughput`` -- rate-based: harmonic mean of recent segment throughputs, discounted.
* ``bba`` -- buffer-based BBA-0 (Huang et al., SIGCOMM 2014).
* ``bola`` -- BOLA-BASIC (Spiteri, Urgaonkar & Sitaraman, INFOCOM 2016 / ToN 2020).
* ``fixed`` -- always the same level (baselines and tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sim.registry import Registry
from streaming.ladder import Ladder

__all__ = [
    "ABR",
    "AbrFactory",
    "AbrPolicy",
    "AbrState",
    "Bba",
    "Bola",
    "FixedLevel",
    "ThroughputRule",
    "harmonic_mean",
    "make_abr",
]


@dataclass(frozen=True)
class AbrState:
    """What the player knows when it is about to request `segment`.

    `throughputs` (bit/s) and `download_times` (s) describe the previous segments,
    oldest first; a throughput is the segment's size over its download time, request
    latency included.  `last_level` is None before the first segment.
    """

    ladder: Ladder
    segment: int
    buffer_level: float
    last_level: int | None = None
    throughputs: tuple[float, ...] = ()
    download_times: tuple[float, ...] = ()


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


def harmonic_mean(values: tuple[float, ...]) -> float:
    """Harmonic mean; 0 if any value is 0 (an idle sample dominates, as it should)."""
    if not values:
        raise ValueError("harmonic mean of no values")
    if any(v <= 0 for v in values):
        return 0.0
    return len(values) / math.fsum(1.0 / v for v in values)


def _positive(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


@ABR.register("throughput")
class ThroughputRule:
    """Rate-based rule: highest level <= safety x harmonic mean of the last `window` samples.

    The harmonic mean of per-segment throughputs is the throughput of downloading those
    segments back to back (for equal sizes), and it is robust to one lucky fast segment;
    it is the estimator of e.g. FESTIVE and of the MPC paper (Yin et al. 2015).  Before
    the first sample the lowest level is chosen, the safe way to start.
    """

    def __init__(self, window: int = 5, safety: float = 0.9) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an integer >= 1, got {window!r}")
        if not math.isfinite(safety) or not 0 < safety <= 1:
            raise ValueError(f"safety must be in (0, 1], got {safety!r}")
        self.window = window
        self.safety = float(safety)

    def estimate(self, state: AbrState) -> float | None:
        """Discounted throughput estimate (bit/s), or None without samples."""
        if not state.throughputs:
            return None
        return self.safety * harmonic_mean(state.throughputs[-self.window:])

    def choose(self, state: AbrState) -> int:
        estimate = self.estimate(state)
        if estimate is None:
            return 0
        return state.ladder.highest_at_most(estimate)


@ABR.register("bba")
class Bba:
    """BBA-0 of Huang, Johari, McKeown, Trunnell & Watson, SIGCOMM 2014.

    The rate map is ``f(B) = R_min + (R_max - R_min) (B - r) / c`` for ``r <= B <= r + c``
    (reservoir `r`, cushion `c`, seconds).  Below the reservoir the lowest level is
    chosen, above ``r + c`` the highest.

    Default (``hysteresis=False``): the memoryless variant, the highest level whose
    bitrate is <= f(B).  With ``hysteresis=True``: the paper's Algorithm 1, which keeps
    the previous rate R_prev until f(B) reaches the next rate up (then takes the highest
    rate strictly below f(B)) or falls to the next rate down (then takes the lowest rate
    strictly above f(B)), so small buffer wiggles cause no switches.

    The paper's BBA-0 used r = 90 s and c = 126 s with a 240 s buffer; the defaults
    here (r = 10 s, c = 15 s) are scaled to the player's default 30 s buffer.
    """

    def __init__(self, reservoir: float = 10.0, cushion: float = 15.0,
                 hysteresis: bool = False) -> None:
        if not math.isfinite(reservoir) or reservoir < 0:
            raise ValueError(f"reservoir must be >= 0 and finite, got {reservoir!r}")
        self.reservoir = float(reservoir)
        self.cushion = _positive("cushion", cushion)
        self.hysteresis = bool(hysteresis)

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

    def scores(self, state: AbrState) -> list[float]:
        """BOLA's objective for every level (bit/s stand for segment sizes)."""
        ladder = state.ladder
        v_weight = self.control(ladder)
        q = state.buffer_level / ladder.segment_duration
        base = ladder.min_bitrate
        return [(v_weight * math.log(r / base) + v_weight * self.gamma_p - q) / r
                for r in ladder.bitrates]

    def choose(self, state: AbrState) -> int:
        scores = self.scores(state)
        best = 0
        for m, s in enumerate(scores):
            if s > scores[best]:
                best = m
        return best


@ABR.register("fixed")
class FixedLevel:
    """Always `level` (clamped to the ladder's top): a baseline, and for buffer tests."""

    def __init__(self, level: int = 0) -> None:
        if isinstance(level, bool) or not isinstance(level, int) or level < 0:
            raise ValueError(f"level must be an integer >= 0, got {level!r}")
        self.level = level

    def choose(self, state: AbrState) -> int:
        return min(self.level, state.ladder.levels - 1)
