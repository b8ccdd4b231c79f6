"""The report of a sweep folder: parameters, a verdict grid per point, metric-vs-parameter
figures with CI bands, and the points table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from sim.qos.point_verdict import judge_point
from sim.qos.targets import format_metric
from sim.report.page import Page, Section, TableBlock, svg_figure
from sim.report.run_report import REPORT

__all__ = ["point_verdicts", "sweep_page", "write_sweep_report"]


def _targets(folder: Path, manifest: dict[str, Any]) -> list[Any]:
    """The qos targets of the sweep's scenario (every point shares them)."""
    from sim.scenario.schema import Scenario

    for run in manifest.get("runs", []):
        path = folder / run.get("folder", "") / "scenario.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return list(Scenario.model_validate(data).qos)
    return []


def point_verdicts(points: pa.Table, targets: list[Any]) -> dict[int, list[tuple[str, bool]]]:
    """Per point, (metric and bound, met) per target bound (:func:`judge_point`)."""
    rows: dict[tuple[int, str], dict[str, Any]] = {
        (int(r["point"]), r["metric"]): r for r in points.to_pylist()}
    out: dict[int, list[tuple[str, bool]]] = {}
    for point in sorted({p for p, _ in rows}):
        verdicts = []
        for target in targets:
            row = rows.get((point, target.metric), {})
            for bound, met in judge_point([target], target.metric, row.get("mean"),
                                          row.get("ci95_low"), row.get("ci95_high")):
                verdicts.append((f"{target.metric} {bound}", met))
        out[point] = verdicts
    return out


def sweep_page(folder: Path) -> Page:
    """The report of the sweep in `folder` (a folder `sweep` wrote)."""
    from sim.plots.sweep import metric_vs_parameter, read_sweep, target_limits

    sweep = read_sweep(folder)
    manifest = sweep.manifest
    parameters = [p["name"] for p in manifest.get("parameters", [])]
    points = sweep.points
    targets = _targets(folder, manifest)
    params_of = {int(r["point"]): [str(r[p]) for p in parameters]
                 for r in points.select(["point", *parameters]).to_pylist()}
    sections = [Section("Parameters", [TableBlock(
        f"{len(params_of)} points x {manifest.get('replications', 1)} replications, "
        f"base {manifest.get('base')}", ("parameter", "values"),
        [[p["name"], ", ".join(map(str, p["values"]))] for p in manifest.get("parameters", [])])])]
    if targets:
        verdicts = point_verdicts(points, targets)
        bounds = [name for name, _ in next(iter(verdicts.values()), [])]
        rows = [[*params_of[point], *("met" if ok else "MISSED" for _, ok in verdict)]
                for point, verdict in verdicts.items()]
        sections.append(Section("QoS verdicts per point", [TableBlock(
            "each target judged on the point's replications", (*parameters, *bounds), rows)],
            note="A max is judged on the 95% CI's upper end of the mean over replications, "
                 "a min on its lower end (the mean with one replication), as `check` does."))
    metrics = [t.metric for t in targets] or sorted(
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
    """Write `folder`/report.html atomically."""
    from sim.report.page import render_page

    target = folder / REPORT
    staging = target.with_suffix(".html.part")
    staging.write_text(render_page(sweep_page(folder)), encoding="utf-8")
    staging.replace(target)
    return target
