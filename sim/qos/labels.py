"""Human labels for summary metrics: what a figure's axis or title says instead of a key path.

``requests.request.latency_s.p95`` reads "request: 95th percentile latency";
``sites.mec1.utilisation`` reads "mec1: utilisation".  Key names are turned into
words by rule (units suffixes dropped: the axis carries the unit); a workload's
summary section may name a key differently where the rule reads badly
(:attr:`sim.run.workload.SummarySection.labels`).
"""

from __future__ import annotations

__all__ = ["metric_label"]

_STATISTICS = {"mean": "mean", "p50": "median", "p90": "90th percentile",
               "p95": "95th percentile", "p99": "99th percentile", "max": "max",
               "ci95_low": "CI low", "ci95_high": "CI high", "count": "count"}
_UNIT_SUFFIXES = ("_per_s", "_bps", "_bytes", "_s")
_CORE_LABELS = {"mean_queue": "mean queue length", "utilisation_mean": "mean utilisation"}


def _words(key: str, labels: dict[str, str]) -> str:
    if key in labels:
        return labels[key]
    for suffix in _UNIT_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
            break
    stat = next((s for s in ("mean", "max") if key.endswith(f"_{s}")), None)
    if stat is not None:
        return f"{stat} {_words(key[: -len(stat) - 1], labels)}"
    return key.replace("_", " ")


def _section_labels(section: str) -> dict[str, str]:
    from sim.run.workload import workload_sections

    declared = workload_sections().get(section)
    return {**_CORE_LABELS, **(dict(declared.labels) if declared is not None else {})}


def metric_label(metric: str) -> str:
    """A metric's human label (its key path when it has fewer than three parts)."""
    parts = metric.split(".")
    if len(parts) < 3:
        return metric
    section, name, rest = parts[0], parts[1], parts[2:]
    labels = _section_labels(section)
    if len(rest) >= 2 and rest[-1] in _STATISTICS:
        return f"{name}: {_STATISTICS[rest[-1]]} {_words('.'.join(rest[:-1]), labels)}"
    return f"{name}: {_words('.'.join(rest), labels)}"
