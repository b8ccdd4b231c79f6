"""The summary sections the streaming workloads write, as the terminal overview shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from sim.qos.overview import ms, new_table, pct, value_at
from sim.run.workload import SummarySection
from sim.scenario.units import format_quantity

__all__ = ["FRAMES", "SESSIONS"]


def _sessions(section: Mapping[str, Any]) -> Table:
    table = new_table("video sessions", ("workload", "sessions", "completed", "startup p95",
                                         "rebuffer", "bitrate", "QoE"))
    for name, sec in section.items():
        rate = value_at(sec, "average_bitrate_bps")
        qoe = value_at(sec, "qoe_mean")
        table.add_row(name, str(sec.get("sessions", "-")), str(sec.get("completed", "-")),
                      ms(value_at(sec, "startup_delay_s", "p95")) + " ms",
                      pct(value_at(sec, "rebuffer_ratio_mean")),
                      "-" if rate is None else format_quantity(rate, "rate"),
                      "-" if qoe is None else f"{qoe:.1f}")
    return table


def _frames(section: Mapping[str, Any]) -> Table:
    table = new_table("real-time streams (latency: motion-to-photon or glass-to-glass)",
                      ("workload", "receivers", "frames", "p50", "p95", "deadline", "missed",
                       "lost", "fps"))
    for name, sec in section.items():
        fps = value_at(sec, "effective_frame_rate")
        table.add_row(name, str(sec.get("receivers", "-")), str(sec.get("frames", "-")),
                      ms(value_at(sec, "latency_s", "p50")) + " ms",
                      ms(value_at(sec, "latency_s", "p95")) + " ms",
                      ms(value_at(sec, "deadline_s")) + " ms",
                      pct(value_at(sec, "deadline_miss_ratio")),
                      pct(value_at(sec, "lost_ratio")),
                      "-" if fps is None else f"{fps:.1f}")
    return table


SESSIONS = SummarySection(
    "sessions", _sessions, order=20,
    counts=frozenset({"sessions", "completed", "switches", "rebuffer_events",
                      "segment_requests"}))
FRAMES = SummarySection(
    "frames", _frames, order=30,
    counts=frozenset({"frames", "displayed", "receivers", "frames_sent", "uplink_flows",
                      "downlink_flows"}))
"""Real-time frames: VR lessons and live classes."""
