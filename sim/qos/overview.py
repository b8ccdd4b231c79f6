"""The terminal overview of a run: one table per summary section.

The core draws its own sections (sites, cells, links); each workload section
(requests, sessions, frames, ...) is drawn by the table its plug-in declares
(:class:`sim.run.workload.SummarySection`), with the helpers below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from sim.scenario.units import format_quantity

__all__ = ["add_columns", "ms", "new_table", "pct", "summary_table", "value_at"]


def value_at(section: Mapping[str, Any], *path: str) -> float | None:
    """The number at `path` in a summary section, or None."""
    value: Any = section
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return float(value) if isinstance(value, int | float) else None


def ms(value: float | None) -> str:
    """Seconds shown in milliseconds."""
    return "-" if value is None else f"{value * 1e3:.1f}"


def pct(value: float | None) -> str:
    """A fraction shown in percent."""
    return "-" if value is None else f"{value * 100:.1f}%"


def add_columns(table: Table, columns: Sequence[str]) -> Table:
    """Columns of an overview table: the first (the label) left-aligned, the rest right.

    Each column is at least as wide as the longest word of its title, so at 80
    columns a title wraps at its spaces instead of being cut ("workl…"), and a
    cell wraps at its spaces ("12.3 ms" over two lines) rather than mid-word.
    """
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right",
                         min_width=max(len(word) for word in name.split()), overflow="ellipsis")
    return table


def new_table(title: str, columns: Sequence[str]) -> Table:
    """A table whose first column (the label) is left-aligned and the rest right."""
    return add_columns(Table(title=title, title_justify="left"), columns)










def _sites(summary: Mapping[str, Any]) -> Table:
    """Jobs, utilisation and queue per site; memory and storage columns only when some
    site models them (scenarios without them print as before)."""
    table = Table(title="sites", title_justify="left")
    sites: Mapping[str, Any] = summary.get("sites", {})
    extra = [(column, key) for column, key in (("memory peak", "memory_peak_bytes"),
                                               ("storage used", "storage_used_bytes"))
             if any(key in sec for sec in sites.values())]
    add_columns(table, ("site", "jobs", "utilisation", "mean queue", *(c for c, _ in extra)))
    for name, sec in sites.items():
        queue = value_at(sec, "mean_queue")
        sizes = [value_at(sec, key) for _, key in extra]
        table.add_row(name, str(sec.get("jobs", "-")), pct(value_at(sec, "utilisation")),
                      "-" if queue is None else f"{queue:.3f}",
                      *("-" if v is None else format_quantity(v, "size") for v in sizes))
    return table


def _links(summary: Mapping[str, Any], top: int) -> Table:
    rows: list[tuple[str, float, float | None]] = []
    for name, sec in summary.get("links", {}).items():
        rows.append((name, value_at(sec, "utilisation") or 0.0, value_at(sec, "bytes")))
    for name, sec in summary.get("access", {}).items():
        rows.append((f"{name} (mean of users)", value_at(sec, "utilisation_mean") or 0.0,
                     value_at(sec, "bytes")))
    rows.sort(key=lambda row: -row[1])
    title = "links" if len(rows) <= top else f"links ({top} busiest of {len(rows)})"
    table = Table(title=title, title_justify="left")
    add_columns(table, ("link", "utilisation", "carried"))
    for name, util, carried in rows[:top]:
        table.add_row(name, pct(util), "-" if carried is None else format_quantity(carried,
                                                                                     "size"))
    return table








def _cells(radio: Mapping[str, Any], top: int) -> Table:
    cells = sorted(radio.get("per_cell", {}).items(), key=lambda kv: -(kv[1].get("load") or 0))
    shown = f"{top} busiest of {len(cells)} " if len(cells) > top else ""
    sinr = radio.get("sinr_dl_db_mean")
    title = (f"cells ({shown}{radio.get('ues', 0)} UEs, {radio.get('handovers', 0)} HOs"
             + ("" if sinr is None else f", SINR {sinr:.1f} dB") + ")")
    table = Table(title=title, title_justify="left")
    add_columns(table, ("cell", "load", "downlink", "uplink"))
    for name, sec in cells[:top]:
        table.add_row(name, pct(sec.get("load")),
                      format_quantity(sec.get("allocated_dl_bps") or 0.0, "rate"),
                      format_quantity(sec.get("allocated_ul_bps") or 0.0, "rate"))
    return table


def summary_table(summary: Mapping[str, Any], *, top_links: int = 8) -> Table:
    """Overview of a run for the terminal: the workloads' sections, sites, cells, the
    busiest links."""
    title = f"{summary.get('scenario', '?')}  run {summary.get('run_id', '?')}"
    grid = Table.grid(padding=(1, 0))
    grid.title = title
    grid.add_column()
    from sim.run.workload import workload_sections

    for name, section in workload_sections().items():
        if summary.get(name):
            grid.add_row(section.table(summary[name]))
    if "sites" in summary:  # a live run (docs/live.md) has frames only
        grid.add_row(_sites(summary))
    if summary.get("radio"):
        grid.add_row(_cells(summary["radio"], top_links))
    if "links" in summary:
        grid.add_row(_links(summary, top_links))
    return grid
