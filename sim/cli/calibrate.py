"""`calibrate`: the scenario's live class simulated and played live, side by side.

Runs the simulation of the scenario, then the live run of its live class (see
`live`), and compares the frame latency of the same receivers: a table, and a
CDF plot written with ``calibration.json`` to ``results/<scenario>/calibrate-<live
run id>/``; the live run's own folder is written too.  Exit 0 when the simulated
p50 is within 20% of the live p50 (capture to display in both, nothing added), 1
when not (see :mod:`streaming.webrtc.calibration`), 4 when the live run failed.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from sim.cli.common import EXIT_OK, EXIT_QOS, check_out_dir, progress
from sim.cli.live import EXIT_LIVE, add_live_options, load_plan, play
from sim.extras import require_extra

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    cal = sub.add_parser(
        "calibrate", help="simulate the live class and play it live, and compare them",
        description="Simulate the scenario, play its live class through the real relay, and "
                    "compare the frame latency of the same receivers (table + CDF plot). "
                    "Exit 1 when the simulated p50 is more than 20% off the live p50.")
    add_live_options(cal)


def run(ns: argparse.Namespace, console: Console) -> int:
    from sim.run.builder import prepared_run
    from sim.run.results import run_folder, write_folder
    from streaming.webrtc.calibration import TOLERANCE, calibrate
    from streaming.webrtc.records import receive_hold

    require_extra("live", "the calibrate command")  # before the simulated run, not after
    loaded, plan = load_plan(ns)
    check_out_dir(ns.out)
    scn = loaded.scenario
    sim_run = prepared_run(loaded)
    with progress(console, f"{scn.name} (simulated)", scn.duration, ns.quiet) as tick:
        simulated = sim_run.execute(tick)
    played = play(plan, ns, console, "calibrate")
    if played is None:
        return EXIT_LIVE
    live, live_folder = played
    result = calibrate(plan, simulated, live, receive_hold(plan.spec.frame_rate))
    result.settings["overrides"] = list(ns.overrides)
    folder = write_folder(run_folder(ns.out, scn.name, "calibrate-" + live.run_id), result.write)

    table = Table(title=f"{scn.name} / {plan.spec.name}: frame latency, simulated vs live")
    for column in ("", "simulated", "live"):
        table.add_column(column, justify="right" if column else "left")
    for row in result.rows():
        table.add_row(*row)
    console.print(table)
    gap = result.gap
    verdict = "no frames to compare" if gap is None else (
        f"p50 gap (simulated vs live): {100 * gap:+.1f}% "
        f"({'within' if result.passed else 'outside'} ±{100 * TOLERANCE:.0f}%)")
    console.print(verdict, markup=False)
    if not result.modelled:
        console.print(f"note: the simulated class has no jitter buffer; the live path holds "
                      f"each frame about {1e3 * result.hold_s:.0f} ms in two (set "
                      f"jitter_buffer: aiortc and retransmission: nack)", markup=False)
    console.print(f"live results: {live_folder}", soft_wrap=True, markup=False)
    console.print(f"calibration: {folder}", soft_wrap=True, markup=False)
    return EXIT_OK if result.passed else EXIT_QOS
