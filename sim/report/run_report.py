"""The report of one run folder: verdicts, the summary per section, topology, plots, scenario."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.qos.overview import pct
from sim.qos.targets import Verdict, evaluate, flatten, format_metric
from sim.report.page import Graphic, Page, Section, TableBlock, png_figure, svg_figure, write_page

__all__ = ["REPORT", "run_page", "verdict_rows", "write_run_report"]

REPORT = "report.html"

_CORE_SECTIONS = ("sites", "links", "access", "radio", "network")
_PLOT_CAPTIONS = {
    "latency_cdf": "Latency CDF per workload",
    "link_utilisation": "Utilisation of the busiest links over time",
    "site_queues": "Jobs queued at the sites over time",
    "sinr_map": "Best-server SINR over the area",
    "cell_load": "Cell load over time",
    "playback": "Playback buffer of sampled video sessions",
    "qoe": "QoE of the video sessions",
    "frame_latency_cdf": "Frame latency CDF (motion-to-photon or glass-to-glass)",
    "deadline_misses": "Frames that missed their deadline over time",
    "cache_hit_ratio": "MEC cache hit ratio over time",
    "recommendation_latency": "Recommendation latency by component",
}


def verdict_rows(verdicts: Sequence[Verdict]) -> list[list[str]]:
    """The verdict table's rows: metric, bound, value, verdict (what `check` judges)."""
    return [[v.metric, f"{v.op} {v.bound}", v.value_text(), "met" if v.passed else "MISSED"]
            for v in verdicts]


def _metric_rows(section: str, name: str, values: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for key, value in flatten(values).items():
        metric = f"{section}.{name}.{key}"
        shown = "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) \
            else format_metric(float(value), metric)
        rows.append([key, shown])
    return rows


def _summary_section(summary: Mapping[str, Any]) -> Section:
    section = Section("Summary per workload")
    for key, value in summary.items():
        if key in _CORE_SECTIONS or not isinstance(value, Mapping):
            continue
        for name, values in value.items():
            if isinstance(values, Mapping):
                section.tables.append(TableBlock(f"{key}: {name}", ("metric", "value"),
                                                 _metric_rows(key, name, values)))
    return section


def _core_section(summary: Mapping[str, Any]) -> Section:
    section = Section("Sites and links")
    sites = summary.get("sites", {})
    if sites:
        rows = [[site, str(sec.get("jobs", "-")),
                 pct(sec.get("utilisation")),
                 format_metric(sec.get("mean_queue"), f"sites.{site}.mean_queue")]
                for site, sec in sites.items()]
        section.tables.append(TableBlock("compute sites", ("site", "jobs", "utilisation",
                                                           "mean queue"), rows))
    links = sorted(summary.get("links", {}).items(),
                   key=lambda item: -(item[1].get("utilisation") or 0.0))
    if links:
        rows = [[link, pct(sec.get("utilisation")),
                 format_metric(sec.get("bytes"), f"links.{link}.bytes")]
                for link, sec in links]
        section.tables.append(TableBlock("links, busiest first",
                                         ("link", "utilisation", "carried"), rows))
    return section


def _figures(folder: Path) -> list[Graphic]:
    from sim.plots.runs import topology_figure

    shown = [svg_figure(topology_figure(folder), "Topology, links coloured by utilisation")]
    for path in sorted((folder / "plots").glob("*.png")):
        shown.append(png_figure(path, _PLOT_CAPTIONS.get(path.stem, path.stem)))
    return shown


def run_page(folder: Path) -> Page:
    """The report of the run in `folder` (a folder `run` wrote)."""
    from sim.scenario.schema import Scenario

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    scenario_text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    scenario = Scenario.model_validate(yaml.safe_load(scenario_text))
    sections = []
    if scenario.qos:
        verdicts = evaluate(scenario.qos, summary)
        failed = sum(not v.passed for v in verdicts)
        sections.append(Section(
            "QoS verdicts", [TableBlock(
                f"{len(verdicts) - failed} of {len(verdicts)} targets met", ("metric", "bound",
                                                                               "value", "verdict"),
                verdict_rows(verdicts), ["pass" if v.passed else "fail" for v in verdicts])],
            note="Judged on this run's summary; `check --replications N` judges the mean "
                 "over replications by its 95% CI."))
    sections.append(_summary_section(summary))
    sections.append(_core_section(summary))
    sections.append(Section("Figures", figures=_figures(folder)))
    sections.append(Section("Scenario as run", text=scenario_text))
    subtitle = (f"run {summary.get('run_id')}, seed {summary.get('seed')}, "
                f"{summary.get('duration_s'):g} s simulated "
                f"({summary.get('warmup_s'):g} s warm-up)")
    return Page(f"{summary.get('scenario')}: run report", subtitle, sections)


def write_run_report(folder: Path) -> Path:
    """Write `folder`/report.html."""
    return write_page(run_page(folder), folder / REPORT)
