"""Overload reported: a site or link offered more work than it can carry.

An overloaded queue has no steady state: its latency grows with the run's length,
so the run's statistics describe the chosen duration, not the design.  Such a run
still exits 0 (it may be the point of the experiment), but says so in the terminal
and in ``summary.json`` (a ``warnings`` list, present only when there is one, so
that other summaries stay byte-identical).

A resource busy at least :data:`SATURATED` of the measured time is taken as
offered at least its capacity: below capacity, an M/M/c queue is busy a fraction
rho < 1 of the time, and rho >= 0.98 already means waits of ~50 service times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["SATURATED", "overload_warnings"]

SATURATED: Final = 0.98


def _busy(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def overload_warnings(summary: Mapping[str, Any]) -> list[str]:
    """One sentence per saturated site or link of a finished run's summary."""
    warnings: list[str] = []
    for name, site in sorted((summary.get("sites") or {}).items()):
        busy = _busy(site.get("utilisation"))
        if busy is not None and busy >= SATURATED:
            warnings.append(
                f"site {name} was busy {100 * busy:.1f}% of the time: it is offered at least "
                "its capacity, so its queue and latency grow with the run's duration")
    for name, link in sorted((summary.get("links") or {}).items()):
        busy = _busy(link.get("utilisation"))
        if busy is not None and busy >= SATURATED:
            warnings.append(
                f"link {name} carried {100 * busy:.1f}% of its capacity: it is offered at "
                "least its capacity, so transfers across it slow down without bound")
    return warnings
