"""Mean air latency of a scenario's radio hop, as the delay of the UEs' channels."""

from __future__ import annotations

from sim.radio.air_latency import AirLatency
from sim.radio.schema import RadioSpec

__all__ = ["mean_air_delays"]


def mean_air_delays(radio: RadioSpec) -> tuple[float, float]:
    """(uplink, downlink) mean one-way air latency, HARQ included, in seconds.

    The cells share one numerology (a validation rule), so one figure serves
    every UE; uplink data waits for a scheduling request and its grant.
    """
    first = radio.cells[0] if radio.cells else radio.layout
    assert first is not None
    air = AirLatency(mu=first.numerology, bler=radio.bler)
    return air.mean_latency_s("UL"), air.mean_latency_s("DL")
