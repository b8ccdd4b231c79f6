"""Linear QoE of a streaming session (Yin, Jindal, Sekar & Sinopoli, SIGCOMM 2015).

The MPC paper ("A control-theoretic approach for dynamic adaptive video streaming over
HTTP") scores a session of K segments with bitrates R_1..R_K as

    QoE = sum_k q(R_k) - lambda sum_{k<K} |q(R_{k+1}) - q(R_k)| - mu T_rebuf - mu_s T_s

with T_rebuf the total stall time and T_s the startup delay, both in seconds.

Utility q: ``"linear"`` is q(R) = R in Mbit/s (the paper uses the identity, in kbit/s);
``"log"`` is q(R) = ln(R / R_min), the logarithmic variant of Mao et al.'s Pensieve
(SIGCOMM 2017).

Weights: the paper's "balanced" preset is lambda = 1, mu = mu_s = 3000 with q in
kbit/s, where 3000 kbit/s is the top of its ladder: one second of stall costs as much
as one segment at the top bitrate.  We keep that rule for any ladder and utility:
lambda = 1 and mu = mu_s = q(R_max) by default.  For the log utility this gives
ln(R_max / R_min), which is Pensieve's 2.66 for its 300..4300 kbit/s ladder.  The
paper's other presets ("avoid instability": lambda = 3; "avoid rebuffering":
mu = mu_s = 2 q(R_max)) are a matter of passing `lam`, `mu`, `mu_s`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from streaming.ladder import Ladder
from streaming.player import PlaybackStats

__all__ = ["QoeBreakdown", "Utility", "linear_qoe", "session_qoe", "utility"]

Utility = Literal["linear", "log"]


def utility(rate: float, kind: Utility, min_bitrate: float) -> float:
    """q(R): Mbit/s for ``"linear"``, ln(R / R_min) for ``"log"``."""
    if kind == "linear":
        return rate / 1e6
    if kind == "log":
        return math.log(rate / min_bitrate)
    raise ValueError(f"utility must be 'linear' or 'log', got {kind!r}")


@dataclass(frozen=True)
class QoeBreakdown:
    """The QoE and its terms; penalties are reported as positive numbers."""

    quality: float
    switching: float
    rebuffering: float
    startup: float
    segments: int

    @property
    def total(self) -> float:
        return self.quality - self.switching - self.rebuffering - self.startup

    @property
    def per_segment(self) -> float:
        """QoE / K, to compare videos of different lengths."""
        return self.total / self.segments if self.segments else 0.0


def linear_qoe(bitrates: Sequence[float], rebuffer_time: float, startup_delay: float, *,
               min_bitrate: float, max_bitrate: float, kind: Utility = "linear",
               lam: float = 1.0, mu: float | None = None,
               mu_s: float | None = None) -> QoeBreakdown:
    """Yin et al.'s QoE of segments played at `bitrates` (bit/s) with the given stalls.

    `min_bitrate`/`max_bitrate` are the ladder's ends: R_min for the log utility and
    R_max for the default weights mu = mu_s = q(R_max).
    """
    if not 0 < min_bitrate <= max_bitrate:
        raise ValueError("need 0 < min_bitrate <= max_bitrate")
    if rebuffer_time < 0:
        raise ValueError(f"rebuffer_time must be >= 0, got {rebuffer_time!r}")
    if startup_delay < 0:
        raise ValueError(f"startup_delay must be >= 0, got {startup_delay!r}")
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    top = utility(max_bitrate, kind, min_bitrate)
    mu = top if mu is None else mu
    mu_s = top if mu_s is None else mu_s
    if mu < 0:
        raise ValueError(f"mu must be >= 0, got {mu!r}")
    if mu_s < 0:
        raise ValueError(f"mu_s must be >= 0, got {mu_s!r}")
    q = [utility(r, kind, min_bitrate) for r in bitrates]
    return QoeBreakdown(
        quality=math.fsum(q),
        switching=lam * math.fsum(abs(b - a) for a, b in pairwise(q)),
        rebuffering=mu * rebuffer_time,
        startup=mu_s * startup_delay,
        segments=len(q),
    )


def session_qoe(stats: PlaybackStats, ladder: Ladder, *, kind: Utility = "linear",
                lam: float = 1.0, mu: float | None = None,
                mu_s: float | None = None) -> QoeBreakdown:
    """`linear_qoe` of a finished (or partial) `Session`'s statistics."""
    if stats.startup_delay is None:
        raise ValueError("playback never started: the startup delay is undefined")
    return linear_qoe(stats.bitrates, stats.rebuffer_time, stats.startup_delay,
                      min_bitrate=ladder.min_bitrate, max_bitrate=ladder.max_bitrate,
                      kind=kind, lam=lam, mu=mu, mu_s=mu_s)
