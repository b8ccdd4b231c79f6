"""The summary sections the edge workloads write, as the terminal overview shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from sim.qos.overview import ms, new_table, pct, value_at
from sim.run.workload import SummarySection
from sim.scenario.units import format_quantity

__all__ = ["LEARNING", "REQUESTS"]


def _requests(section: Mapping[str, Any]) -> Table:
    table = new_table("requests (latency in ms)",
                      ("workload", "sent", "completed", "mean", "p95", "p99"))
    for name, sec in section.items():
        table.add_row(name, str(sec.get("sent", "-")), str(sec.get("completed", "-")),
                      ms(value_at(sec, "latency_s", "mean")),
                      ms(value_at(sec, "latency_s", "p95")),
                      ms(value_at(sec, "latency_s", "p99")))
    return table


def _learning(section: Mapping[str, Any]) -> Table:
    table = new_table("learners: recommendations and MEC caches",
                      ("workload", "asks", "p95", "network", "queue", "inference", "hit ratio",
                       "backhaul"))
    for name, sec in section.items():
        table.add_row(name, str(sec.get("recommendations", "-")),
                      ms(value_at(sec, "latency_s", "p95")) + " ms",
                      ms(value_at(sec, "network_s_mean")) + " ms",
                      ms(value_at(sec, "queue_s_mean")) + " ms",
                      ms(value_at(sec, "inference_s_mean")) + " ms",
                      pct(value_at(sec, "hit_ratio")),
                      format_quantity(sec.get("backhaul_bytes") or 0.0, "size"))
    return table


REQUESTS = SummarySection(
    "requests", _requests, order=10,
    counts=frozenset({"sent", "completed", "incomplete", "forwarded", "rejected"}),
    labels={"wait_s": "queue wait"})
"""Requests answered by a compute site (request_response, and the settlements of
course_learning)."""
LEARNING = SummarySection(
    "learning", _learning, order=40,
    counts=frozenset({"learners", "recommendations", "rejected", "segment_requests",
                      "prefetched", "settlements"}))
