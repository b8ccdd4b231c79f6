"""Mean one-way air-interface latency of NR user-plane data, with HARQ retransmissions.

A flow-level simulator does not schedule slots, so each message crossing the radio hop
is charged an air-interface delay drawn from this model on top of its transfer time.
The structure is the user-plane latency breakdown used for IMT-2020 evaluation
(ITU-R M.2410 latency requirement, evaluated as in 3GPP TR 38.912 / TR 37.910):
processing at the sender, alignment to the next transmission opportunity, the
transmission time interval (TTI), processing at the receiver, plus HARQ
retransmissions. Timing comes from TS 38.211 (slot = 1 ms / 2^μ, 14 symbols) and
TS 38.214 (PDSCH processing N1, Table 5.3-1; PUSCH preparation N2 and slot offset
k2, Table 6.4-1 and section 6.1.2.1), for UE processing capability 1.

Downlink: gNB processing + frame alignment (mean half a TTI) + TTI + UE decoding.
Uplink, dynamic grant: wait for the SR occasion (mean half the SR period) + SR to
grant + k2 slots grant to PUSCH + TTI + gNB decoding. Uplink, configured grant: UE
preparation (N2) + wait for the grant occasion (mean half its period) + TTI + gNB
decoding. The model is FDD-like: a slot of the needed direction is always available;
TDD waits and propagation delay (3.3 µs per km) are not included.

Each transmission fails independently with probability `bler`; a failure costs one
HARQ round trip and is retried, at most `max_retx` times. Latencies are those of
delivered messages (retransmission count conditioned on success); the fraction lost
after all attempts is reported separately as the residual loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from sim.radio.nr_tables import (
    N1_SYMBOLS_CAP1,
    N2_SYMBOLS_CAP1,
    SYMBOLS_PER_SLOT,
    Direction,
)

__all__ = [
    "AirLatency",
    "LatencyBreakdown",
    "harq_extra_delay_s",
    "mean_retransmissions",
    "mean_retransmissions_delivered",
    "residual_loss",
    "sample_retransmissions",
    "slot_duration_s",
    "symbol_duration_s",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

DEFAULT_BLER: Final = 0.1
DEFAULT_MAX_RETX: Final = 3


def slot_duration_s(mu: int) -> float:
    """Slot length 1 ms / 2^μ (TS 38.211 section 4.3.2)."""
    if mu < 0:
        raise ValueError(f"numerology mu must be >= 0, not {mu}")
    return 1e-3 / (1 << mu)


def symbol_duration_s(mu: int) -> float:
    """Mean OFDM symbol length including cyclic prefix: a fourteenth of a slot."""
    return slot_duration_s(mu) / SYMBOLS_PER_SLOT


def _check_harq(bler: float, max_retx: int | None) -> None:
    if not 0.0 <= bler < 1.0:
        raise ValueError(f"bler must be in [0, 1), not {bler}")
    if max_retx is not None and max_retx < 0:
        raise ValueError(f"max_retx must be >= 0 or None (unbounded), not {max_retx}")


def residual_loss(bler: float, max_retx: int | None) -> float:
    """Probability that all 1 + max_retx transmissions fail: bler^(max_retx + 1)."""
    _check_harq(bler, max_retx)
    return 0.0 if max_retx is None else bler ** (max_retx + 1)


def mean_retransmissions(bler: float, max_retx: int | None) -> float:
    """Mean retransmissions per message, lost ones included: E[min(G, m)], G geometric.

    Σ_{n=1..m} p^n = p (1 − p^m) / (1 − p); p / (1 − p) when unbounded. This is the
    HARQ load per message, not the delay of delivered messages.
    """
    _check_harq(bler, max_retx)
    p = bler
    if max_retx is None:
        return p / (1.0 - p)
    return p * (1.0 - p**max_retx) / (1.0 - p)


def mean_retransmissions_delivered(bler: float, max_retx: int | None) -> float:
    """Mean retransmissions of the messages that get through: E[G | G <= m].

    With P(G = n) = p^n (1 − p), the truncated geometric mean is
    p (1 − (m + 1) p^m + m p^(m+1)) / ((1 − p)(1 − p^(m+1))), tending to p / (1 − p).
    """
    _check_harq(bler, max_retx)
    p = bler
    if max_retx is None:
        return p / (1.0 - p)
    m = max_retx
    numerator = p * (1.0 - (m + 1) * p**m + m * p ** (m + 1))
    return numerator / ((1.0 - p) * (1.0 - p ** (m + 1)))


def harq_extra_delay_s(rtt_s: float, bler: float, max_retx: int | None) -> float:
    """Mean delay HARQ adds to a delivered message: RTT times its mean retransmissions."""
    return rtt_s * mean_retransmissions_delivered(bler, max_retx)


def sample_retransmissions(
    rng: np.random.Generator, bler: float, max_retx: int | None, size: int
) -> tuple[IntArray, BoolArray]:
    """Per-message retransmission counts and whether each message was delivered.

    Failures before the first success are geometric; a message needing more than
    `max_retx` retransmissions is lost and reported with count `max_retx`.
    """
    _check_harq(bler, max_retx)
    failures = rng.geometric(1.0 - bler, size=size).astype(np.int64) - 1
    if max_retx is None:
        return failures, np.ones(size, dtype=np.bool_)
    return np.minimum(failures, max_retx), failures <= max_retx


@dataclass(frozen=True, slots=True)
class LatencyBreakdown:
    """Mean one-way latency of one direction, by component, in seconds."""

    direction: Direction
    components: tuple[tuple[str, float], ...]
    harq_rtt_s: float
    mean_retransmissions: float
    residual_loss: float

    @property
    def first_attempt_s(self) -> float:
        """Mean latency when the first transmission succeeds."""
        return math.fsum(value for _, value in self.components)

    @property
    def harq_s(self) -> float:
        return self.harq_rtt_s * self.mean_retransmissions

    @property
    def mean_s(self) -> float:
        """Mean latency of delivered messages, retransmissions included."""
        return self.first_attempt_s + self.harq_s

    def as_dict(self) -> dict[str, float]:
        return {**dict(self.components), "harq": self.harq_s}


@dataclass(frozen=True, slots=True)
class AirLatency:
    """Air-interface timing of a carrier; `None` processing times take the defaults below.

    Defaults (assumptions, not standard values, except where a table is named):

    * `ue_rx_symbols`: N1/2 of TS 38.214 Table 5.3-1 (capability 1, front-loaded
      DM-RS). N1 runs from the end of PDSCH to the HARQ-ACK and so also covers ACK
      preparation; half of it is taken as the decoding part.
    * `ue_harq_symbols`: N1, end of PDSCH to HARQ-ACK, part of the downlink HARQ RTT.
    * `ue_tx_symbols`: N2 of TS 38.214 Table 6.4-1, PUSCH preparation.
    * `gnb_symbols`: the same as `ue_rx_symbols`, for gNB encoding before a downlink
      TTI and decoding after an uplink one (no standard figure exists).
    * `k2_slots`: the smallest k2 with 14 · k2 >= N2 (grant decoded at the start of
      its slot), TS 38.214 section 6.1.2.1.
    * `sr_period_slots` = 1 and `sr_to_grant_slots` = 1: an SR occasion every slot and
      the grant in the next slot after the SR.
    * `bler` = 0.1, the CQI target of TS 38.214 Tables 5.2.2.1-2/-3; `max_retx` = 3
      (4 transmissions), `None` for unbounded.

    HARQ round trips are fixed: downlink, UE N1 + gNB processing + alignment + TTI;
    uplink (adaptive retransmission by a new grant), gNB processing + alignment +
    k2 slots + TTI. Mini-slot scheduling is `tti_symbols` < 14 (alignment then waits
    half a mini-slot on average).
    """

    mu: int = 1
    tti_symbols: int = SYMBOLS_PER_SLOT
    ue_rx_symbols: float | None = None
    ue_harq_symbols: float | None = None
    ue_tx_symbols: float | None = None
    gnb_symbols: float | None = None
    k2_slots: int | None = None
    sr_period_slots: float = 1.0
    sr_to_grant_slots: float = 1.0
    configured_grant: bool = False
    cg_period_slots: float = 1.0
    bler: float = DEFAULT_BLER
    max_retx: int | None = DEFAULT_MAX_RETX

    def __post_init__(self) -> None:
        defaults_needed = None in (
            self.ue_rx_symbols, self.ue_harq_symbols, self.ue_tx_symbols, self.gnb_symbols,
            self.k2_slots,
        )
        if self.mu < 0 or (defaults_needed and self.mu not in N1_SYMBOLS_CAP1):
            raise ValueError(
                f"mu={self.mu}: default processing times exist for mu in "
                f"{sorted(N1_SYMBOLS_CAP1)} (TS 38.214 Tables 5.3-1, 6.4-1); give them explicitly"
            )
        if not 1 <= self.tti_symbols <= SYMBOLS_PER_SLOT:
            raise ValueError(f"tti_symbols must be in 1..{SYMBOLS_PER_SLOT}")
        explicit = (self.ue_rx_symbols, self.ue_harq_symbols, self.ue_tx_symbols,
                    self.gnb_symbols, self.k2_slots)
        if any(v is not None and v < 0 for v in explicit):
            raise ValueError("processing times and k2 must be non-negative")
        if min(self.sr_period_slots, self.cg_period_slots) <= 0 or self.sr_to_grant_slots < 0:
            raise ValueError("SR and configured-grant periods must be positive")
        _check_harq(self.bler, self.max_retx)

    # -- resolved timing, seconds ------------------------------------------------------

    @property
    def slot_s(self) -> float:
        return slot_duration_s(self.mu)

    @property
    def symbol_s(self) -> float:
        return symbol_duration_s(self.mu)

    @property
    def tti_s(self) -> float:
        return self.tti_symbols * self.symbol_s

    def _ue_rx_s(self) -> float:
        symbols = self.ue_rx_symbols
        return (N1_SYMBOLS_CAP1[self.mu] / 2 if symbols is None else symbols) * self.symbol_s

    def _ue_harq_s(self) -> float:
        symbols = self.ue_harq_symbols
        return (N1_SYMBOLS_CAP1[self.mu] if symbols is None else symbols) * self.symbol_s

    def _ue_tx_s(self) -> float:
        symbols = self.ue_tx_symbols
        return (N2_SYMBOLS_CAP1[self.mu] if symbols is None else symbols) * self.symbol_s

    def _gnb_s(self) -> float:
        return self._ue_rx_s() if self.gnb_symbols is None else self.gnb_symbols * self.symbol_s

    def _k2(self) -> int:
        if self.k2_slots is not None:
            return self.k2_slots
        return math.ceil(N2_SYMBOLS_CAP1[self.mu] / SYMBOLS_PER_SLOT)

    # -- model ------------------------------------------------------------------------

    def harq_rtt_s(self, direction: Direction) -> float:
        """Time one retransmission adds: end of a failed TTI to end of the next one."""
        if direction == "DL":
            return self._ue_harq_s() + self._gnb_s() + self.tti_s / 2 + self.tti_s
        if direction == "UL":
            return self._gnb_s() + self.tti_s / 2 + self._k2() * self.slot_s + self.tti_s
        raise ValueError(f"direction must be 'DL' or 'UL', not {direction!r}")

    def _components(self, direction: Direction) -> tuple[tuple[str, float, bool], ...]:
        """(name, mean seconds, is a wait uniform over twice its mean) in path order."""
        slot, tti, gnb = self.slot_s, self.tti_s, self._gnb_s()
        if direction == "DL":
            return (("gnb_processing", gnb, False), ("frame_alignment", tti / 2, True),
                    ("tti", tti, False), ("ue_processing", self._ue_rx_s(), False))
        if direction != "UL":
            raise ValueError(f"direction must be 'DL' or 'UL', not {direction!r}")
        if self.configured_grant:
            return (("ue_processing", self._ue_tx_s(), False),
                    ("cg_wait", self.cg_period_slots * slot / 2, True),
                    ("tti", tti, False), ("gnb_processing", gnb, False))
        return (("sr_wait", self.sr_period_slots * slot / 2, True),
                ("sr_to_grant", self.sr_to_grant_slots * slot, False),
                ("grant_to_pusch", self._k2() * slot, False), ("tti", tti, False),
                ("gnb_processing", gnb, False))

    def breakdown(self, direction: Direction) -> LatencyBreakdown:
        """Mean latency by component for 'DL' or 'UL'."""
        return LatencyBreakdown(
            direction=direction,
            components=tuple((name, mean) for name, mean, _ in self._components(direction)),
            harq_rtt_s=self.harq_rtt_s(direction),
            mean_retransmissions=mean_retransmissions_delivered(self.bler, self.max_retx),
            residual_loss=residual_loss(self.bler, self.max_retx),
        )

    def mean_latency_s(self, direction: Direction) -> float:
        """Mean one-way latency of delivered messages, HARQ included."""
        return self.breakdown(direction).mean_s

    def sample_latency_s(
        self, rng: np.random.Generator, direction: Direction, size: int
    ) -> FloatArray:
        """Per-message latencies: random arrival phase and HARQ draws; NaN where lost.

        The waiting components are uniform over their period, the others fixed, so the
        mean of the delivered draws is `mean_latency_s`.
        """
        rtt = self.harq_rtt_s(direction)
        components = self._components(direction)
        fixed = math.fsum(mean for _, mean, is_wait in components if not is_wait)
        waits = np.zeros(size)
        for _, mean, is_wait in components:
            if is_wait:
                waits += rng.uniform(0.0, 2.0 * mean, size=size)
        retx, delivered = sample_retransmissions(rng, self.bler, self.max_retx, size)
        latency = fixed + waits + retx * rtt
        return np.where(delivered, latency, np.nan)
