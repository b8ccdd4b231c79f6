"""The report of a sweep folder: parameters, a verdict grid per point, metric-vs-parameter
figures with CI bands, and the points table."""

from __future__ import annotations

import json
from pathlib import Path

from sim.qos.targets import format_metric
from sim.report.page import Page, Section, TableBlock, svg_figure, write_page
from sim.report.run_report import REPORT

__all__ = ["sweep_page", "write_sweep_report"]


def sweep_page(folder: Path) -> Page:
    """The report of the sweep in `folder` (a folder `sweep` wrote)."""
    from sim.plots.sweep import metric_vs_parameter, read_sweep, target_limits

    sweep = read_sweep(folder)
    manifest = sweep.manifest
    parameters = [p["name"] for p in manifest.get("parameters", [])]
    points = sweep.points
    rows_of = points.select(["point", "metric", "target", "met"]).to_pylist() \
        if "met" in points.column_names else []
    judged = {(r["point"], r["metric"]): bool(r["met"]) for r in rows_of if r["target"]}
    bounds = {r["metric"]: r["target"] for r in rows_of if r["target"]}
    params_of = {int(r["point"]): [str(r[p]) for p in parameters]
                 for r in points.select(["point", *parameters]).to_pylist()}
    sections = [Section("Parameters", [TableBlock(
        f"{len(params_of)} points x {manifest.get('replications', 1)} replications, "
        f"base {manifest.get('base')}", ("parameter", "values"),
        [[p["name"], ", ".join(map(str, p["values"]))] for p in manifest.get("parameters", [])])])]
    if bounds:  # points.parquet's verdicts (sim.qos.point_verdict); no data: missed
        rows = [[*params_of[point], *("met" if judged.get((point, metric)) else "MISSED"
                                       for metric in bounds)] for point in sorted(params_of)]
        sections.append(Section("QoS verdicts per point", [TableBlock(
            "each target judged on the point's replications",
            (*parameters, *(f"{metric} {bound}" for metric, bound in bounds.items())), rows)],
            note="A max is judged on the 95% CI's upper end of the mean over replications, "
                 "a min on its lower end (the mean with one replication), as `check` does."))
    metrics = list(bounds) or sorted(
        m for m in set(points.column("metric").to_pylist()) if m.endswith(".latency_s.mean"))
    figures = [svg_figure(metric_vs_parameter(points, metric, parameters[0],
                                              limits=target_limits(points, metric)),
                          f"{metric} against {parameters[0]}, 95% CI bands"
                          + (", dashed: its target" if target_limits(points, metric) else ""))
               for metric in dict.fromkeys(metrics) if parameters]
    sections.append(Section("Figures", figures=figures))
    shown = [r for r in points.to_pylist() if r["metric"] in set(metrics)]
    sections.append(Section("Points", [TableBlock(
        "mean and 95% CI per point", (*parameters, "metric", "n", "mean", "95% CI"),
        [[*params_of[int(r["point"])], r["metric"], str(r["n"]),
          format_metric(r["mean"], r["metric"]),
          f"[{format_metric(r['ci95_low'], r['metric'])}, "
          f"{format_metric(r['ci95_high'], r['metric'])}]"] for r in shown])]))
    sections.append(Section("Sweep as planned", text=json.dumps(
        {k: v for k, v in manifest.items() if k != "runs"}, indent=2, default=str)))
    return Page(f"{manifest.get('name', folder.name)}: sweep report",
                f"{len(manifest.get('runs', []))} runs", sections)


def write_sweep_report(folder: Path) -> Path:
    """Write `folder`/report.html."""
    return write_page(sweep_page(folder), folder / REPORT)
