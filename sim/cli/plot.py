"""`plot RESULTS...`: figures of finished runs and sweeps, written as PNG and/or SVG.

RESULTS are run folders (with ``summary.json``), sweep folders (with
``points.parquet``), or folders holding run folders (``results/default/``).
What is drawn follows from what was given:

* each sweep: the metric against the swept parameter with 95% CI bands
  (``<sweep>-<metric>-vs-<parameter>``), and, when its run folders are at hand,
  the latency CDF overlay and utilisation heat map of its runs;
* the runs together: ``latency_cdf_overlay`` and ``utilisation_heatmap``;
* each run: ``<scenario>-<run id>-time_series`` and ``-topology``.

The paths of the files written are printed, one per line, for scripts to pick up.
Reading the results only, never the scenario files, a plot can be made on a
machine other than the one that ran the simulation.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rich.console import Console

from sim.cli.common import EXIT_INPUT, EXIT_OK, check_out_dir
from sim.qos.labels import metric_label

if TYPE_CHECKING:
    from sim.plots.sweep import FigureStyle
from sim.scenario.problems import ScenarioError

__all__ = ["add_parser", "resolve", "run"]

DEFAULT_METRIC_SUFFIX = ".latency_s.mean"
"""Without --metric, a sweep plots every workload's mean latency."""


def add_parser(sub: Any) -> None:
    plot = sub.add_parser(
        "plot", help="draw figures of run and sweep folders",
        description="Draw figures of finished runs and sweeps: metric vs parameter with CI "
                    "bands, latency CDFs across runs, time series, utilisation heat map, "
                    "topology.")
    plot.add_argument("results", nargs="+", metavar="RESULTS",
                      help="run folders, sweep folders, or folders of run folders")
    plot.add_argument("--metric", action="append", default=[], metavar="METRIC",
                      help="summary metric of a sweep to plot, e.g. "
                           "requests.request.latency_s.mean (repeatable; default: every "
                           "*.latency_s.mean)")
    plot.add_argument("--parameter", metavar="PATH",
                      help="swept parameter for the x axis (default: the first swept)")
    plot.add_argument("--out", type=Path, default=Path("plots"),
                      help="directory for the figures (default: ./plots)")
    plot.add_argument("--format", choices=("png", "svg", "both"), default="png",
                      help="file format (default: png)")
    paper = plot.add_argument_group("figure options (for papers; applied to every figure)")
    paper.add_argument("--title", help="title instead of the generated one")
    paper.add_argument("--xlabel", help="x axis label")
    paper.add_argument("--ylabel", help="y axis label")
    paper.add_argument("--logx", action="store_true", help="logarithmic x axis")
    paper.add_argument("--logy", action="store_true", help="logarithmic y axis")
    paper.add_argument("--size", type=_size, metavar="WxH",
                       help="figure size in inches, e.g. 3.5x2.5 (a journal column)")
    paper.add_argument("--dpi", type=_dpi, default=120,
                       help="resolution of PNG files in dots per inch (default: 120)")


def _size(text: str) -> tuple[float, float]:
    """``WxH`` in inches."""
    try:
        width, height = (float(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give WxH in inches, e.g. 3.5x2.5") from None
    if not (0 < width <= 50 and 0 < height <= 50):
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be in (0, 50] in")
    return width, height


def _dpi(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 10 <= value <= 1200:
        raise argparse.ArgumentTypeError(f"{value}: give 10 to 1200 dots per inch")
    return value


def _style(ns: argparse.Namespace) -> FigureStyle:
    from sim.plots.sweep import FigureStyle

    return FigureStyle(ns.title, ns.xlabel, ns.ylabel, ns.logx, ns.logy, ns.size, ns.dpi)


class PlotInputError(ValueError):
    """A RESULTS path or option that cannot be plotted (exit code 2)."""


def resolve(paths: list[str]) -> tuple[list[Path], list[Path]]:
    """(sweep folders, run folders) named by `paths`, in the order given."""
    sweeps: list[Path] = []
    runs: list[Path] = []
    for text in paths:
        path = Path(text)
        if (path / "points.parquet").is_file():
            sweeps.append(path)
        elif (path / "summary.json").is_file():
            runs.append(path)
        elif path.is_file() and path.name == "summary.json":
            runs.append(path.parent)
        elif path.is_dir():
            found = sorted(p.parent for pattern in ("*/summary.json", "*/*/summary.json")
                           for p in path.glob(pattern) if not p.parent.name.startswith("."))
            if not found:
                raise PlotInputError(f"{text}: no run or sweep folders in this directory")
            runs.extend(found)
        else:
            raise PlotInputError(f"{text}: no such run or sweep folder")
    return sweeps, runs


@contextmanager
def _reading(what: Path) -> Iterator[None]:
    """Unreadable or incomplete result files are bad input, reported with the folder.

    Run folders are written atomically, so this means a folder from another
    version or a hand-edited one, not a crash; it is not an internal error.
    """
    try:
        yield
    except PlotInputError:
        raise
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:  # ValueError: JSON, Arrow
        raise PlotInputError(f"{what}: cannot read the results: {type(exc).__name__}: "
                             f"{exc}") from None


def _slug(text: str) -> str:
    """A file-name-safe form of a metric or key path: ``nodes[u].count`` -> ``nodes_u_.count``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def _sweep_figures(folder: Path, ns: argparse.Namespace,
                   formats: tuple[str, ...]) -> list[Path]:
    from sim.plots.runs import cdf_overlay, utilisation_heatmap
    from sim.plots.sweep import metric_vs_parameter, read_sweep, save_figure, target_limits
    from sim.scenario.problems import did_you_mean

    sweep = read_sweep(folder)
    if not sweep.parameters:
        raise PlotInputError(f"{folder}: points.parquet has no parameter columns")
    parameter = ns.parameter or sweep.parameters[0]
    if parameter not in sweep.parameters:
        raise PlotInputError(f'{folder}: "{parameter}" is not a swept parameter'
                             f'{did_you_mean(parameter, sweep.parameters)}; swept: '
                             f'{", ".join(sweep.parameters)}')
    metrics = list(ns.metric) or [m for m in sweep.metrics
                                  if m.endswith(DEFAULT_METRIC_SUFFIX)] or sweep.metrics[:1]
    for metric in metrics:
        if metric not in sweep.metrics:
            raise PlotInputError(f'{folder}: no metric "{metric}" in this sweep'
                                 f'{did_you_mean(metric, sweep.metrics)}')
    written: list[Path] = []
    for metric in metrics:
        fig = metric_vs_parameter(sweep.points, metric, parameter,
                                  title=f"{sweep.name}: {metric_label(metric)} vs {parameter}",
                                  limits=target_limits(sweep.points, metric))
        written += save_figure(fig, ns.out, f"{sweep.name}-{_slug(metric)}-vs-{_slug(parameter)}",
                               formats, _style(ns))
    runs = sweep.point_runs()
    if runs:
        folders, labels = [r[0] for r in runs], [r[1] for r in runs]
        written += save_figure(cdf_overlay(folders, labels), ns.out,
                               f"{sweep.name}-latency_cdf_overlay", formats, _style(ns))
        written += save_figure(utilisation_heatmap(folders, labels), ns.out,
                               f"{sweep.name}-utilisation_heatmap", formats, _style(ns))
    return written


def _run_figures(runs: list[Path], ns: argparse.Namespace,
                 formats: tuple[str, ...]) -> list[Path]:
    from sim.plots.runs import (
        cdf_overlay,
        run_label,
        time_series,
        topology_figure,
        utilisation_heatmap,
    )
    from sim.plots.sweep import save_figure

    style = _style(ns)
    written = save_figure(cdf_overlay(runs), ns.out, "latency_cdf_overlay", formats, style)
    written += save_figure(utilisation_heatmap(runs), ns.out, "utilisation_heatmap", formats,
                           style)
    for folder in runs:
        stem = _slug(run_label(folder).replace("/", "-"))
        written += save_figure(time_series(folder), ns.out, f"{stem}-time_series", formats,
                               style)
        written += save_figure(topology_figure(folder), ns.out, f"{stem}-topology", formats,
                               style)
    return written


def run(ns: argparse.Namespace, console: Console) -> int:
    formats = ("png", "svg") if ns.format == "both" else (ns.format,)
    try:
        check_out_dir(ns.out)
    except ScenarioError as exc:
        sys.stderr.write(f"edgestream plot: error: cannot write the figures: "
                         f"{exc.problems[0].format()}\n")
        return EXIT_INPUT
    try:
        sweeps, runs = resolve(ns.results)
        written: list[Path] = []
        for folder in sweeps:
            with _reading(folder):
                written += _sweep_figures(folder, ns, formats)
        if runs:
            with _reading(runs[0] if len(runs) == 1 else Path(", ".join(map(str, runs)))):
                written += _run_figures(list(dict.fromkeys(runs)), ns, formats)
    except PlotInputError as exc:
        sys.stderr.write(f"edgestream plot: error: {exc}\n")
        return EXIT_INPUT
    for path in written:
        console.print(str(path), soft_wrap=True, markup=False, highlight=False)
    return EXIT_OK
