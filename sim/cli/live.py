"""`live`: play a scenario's live class through a real aiortc relay (docs/live.md).

The run writes a results folder like a simulated run's (``results/<scenario>/
live-<run id>``, the same ``frames`` table and ``frames.<workload>`` summary keys)
and prints the frame summary.  Exit codes as for the other commands, plus
:data:`EXIT_LIVE` when a peer process failed or timed out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sim.cli.common import EXIT_INPUT, EXIT_OK, seed_arg
from sim.extras import require_extra
from sim.scenario.overrides import FlagValue
from sim.scenario.problems import ScenarioError

__all__ = ["EXIT_LIVE", "add_live_options", "add_parser", "load_plan", "play", "receivers_table",
           "run"]

EXIT_LIVE = 4
"""A live run failed: a peer process crashed, or a step timed out."""


def _duration(text: str) -> float:
    from sim.scenario.units import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not 1.0 <= value <= 3600.0:
        raise argparse.ArgumentTypeError("give between 1 s and 1 h of live streaming")
    return value


def _receivers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 32:
        raise argparse.ArgumentTypeError("give 1 to 32 receivers")
    return value


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT") from None
    if width % 16 or height % 16 or not (192 <= width <= 1920 and 144 <= height <= 1088):
        raise argparse.ArgumentTypeError(
            "give multiples of 16, from 192x144 to 1920x1088 (the stamp needs 192x128)")
    return width, height


def add_live_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="YAML file with a live-class workload")
    p.add_argument("--duration", type=_duration, default=20.0,
                   help='seconds of measured live streaming (default "20 s")')
    p.add_argument("--receivers", type=_receivers, default=2, metavar="N",
                   help="receiver processes, taken in turn from the student groups (default 2)")
    p.add_argument("--workload", help="the live-class workload to play (default: the first)")
    p.add_argument("--size", type=_size, default=(320, 240), metavar="WxH",
                   help="frame size of the synthetic camera (default 320x240)")
    p.add_argument("--seed", type=seed_arg, help="master random seed (overrides the scenario)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario key, e.g. --set nodes[5].access.delay='40 ms'")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="results root directory (default: ./results)")
    p.add_argument("--no-plots", action="store_true", help="do not draw plots")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or table")


def add_parser(sub: Any) -> None:
    live = sub.add_parser(
        "live", help="play the live class through a real aiortc WebRTC relay",
        description="Run the scenario's live class with real processes on loopback: a sender, "
                    "a relay at the relay site and N receivers, each leg impaired like the "
                    "scenario's links. See docs/live.md.")
    add_live_options(live)


def load_plan(ns: argparse.Namespace) -> Any:
    """The scenario (with overrides) and its live plan; ScenarioError names the key."""
    from sim.scenario.loader import load_scenario
    from streaming.webrtc.plan import live_plan

    extra: list[str | FlagValue] = list(ns.overrides)
    extra += [FlagValue("--seed", "seed", str(ns.seed))] if ns.seed is not None else []
    loaded = load_scenario(ns.scenario, extra)
    try:
        return loaded, live_plan(loaded.scenario, ns.receivers, ns.workload)
    except ScenarioError as exc:
        raise ScenarioError(loaded.document.locate_all(exc.problems)) from None


def play(plan: Any, ns: argparse.Namespace, console: Console,
         command: str) -> tuple[Any, Path] | None:
    """Play the plan with a status line and write its run folder: (output, folder),
    or None after saying why the live run failed."""
    from sim.run.results import write_run
    from streaming.webrtc.records import live_output
    from streaming.webrtc.supervisor import LiveError, LiveOptions, run_live

    def options(report: Any) -> LiveOptions:
        return LiveOptions(duration=ns.duration, width=ns.size[0], height=ns.size[1],
                           report=report)

    try:
        ns.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        sys.stderr.write(f"edgestream {command}: error: --out {ns.out}: {exc.strerror}\n")
        raise SystemExit(EXIT_INPUT) from None
    try:
        if ns.quiet or not console.is_terminal:
            report = None if ns.quiet else (lambda phase: console.print(f"live: {phase}"))
            result = run_live(plan, options(report))
        else:
            with console.status("live: starting") as status:
                def update(phase: str) -> None:
                    more = f" for {ns.duration:g} s" if phase == "streaming" else ""
                    status.update(f"live: {phase}{more}")
                result = run_live(plan, options(update))
    except LiveError as exc:
        sys.stderr.write(f"edgestream {command}: {exc}\n")
        return None
    output = live_output(result)
    return output, write_run(output, ns.out, plots=not ns.no_plots)


def receivers_table(live: dict[str, Any]) -> Table:
    """What each receiver measured that only a real run has: RTP loss and RTT."""
    table = Table(title="live measurements per receiver (RTP loss before retransmission)")
    for column in ("receiver", "student", "RTP loss", "RTT p50", "RTT p95", "frames shown",
                   "unreadable"):
        table.add_column(column, justify="left" if column in ("receiver", "student")
                         else "right")

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{1e3 * value:.1f} ms"

    def share(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.2f}%"

    for r in live["receivers"]:
        table.add_row(r["name"], f"{r['group']}[{r['user']}]", share(r["packet_loss_ratio"]),
                      ms(r["rtt_s"]["p50"]), ms(r["rtt_s"]["p95"]), str(r["frames_shown"]),
                      str(r["unreadable_frames"]))
    table.caption = (f"teacher to relay: {share(live['relay_packet_loss_ratio'])} RTP loss; "
                     f"known receive-side hold {1e3 * live['receive_hold_s']:.0f} ms "
                     "(docs/live.md)")
    return table


def run(ns: argparse.Namespace, console: Console) -> int:
    from sim.qos.overview import summary_table

    require_extra("live", "the live command")
    _, plan = load_plan(ns)
    played = play(plan, ns, console, "live")
    if played is None:
        return EXIT_LIVE
    output, folder = played
    if not ns.quiet:
        console.print(summary_table(output.summary))
        console.print(receivers_table(output.summary["live"]))
    console.print(f"results: {folder}", soft_wrap=True, markup=False)
    return EXIT_OK
