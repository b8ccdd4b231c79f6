"""Simulated against live: the same live class, the same receivers, side by side.

The comparison is on the frames of the receivers the live run played (the same
group and member in both), captured inside each run's statistics window.  The
live path holds every frame in two aiortc jitter buffers (the relay's and the
player's) for about a frame interval each, which the flow model has no reason to
know about; the comparison therefore shows the simulated latency as it is and
with that known hold added (:func:`streaming.webrtc.records.receive_hold`), and
judges the latter: the simulated p50 plus the hold must be within
:data:`TOLERANCE` of the live p50.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.plots import DPI, cdf_points, new_figure
from sim.run import RunOutput
from streaming.webrtc.plan import LivePlan

__all__ = ["TOLERANCE", "Calibration", "calibrate", "frame_latencies"]

TOLERANCE = 0.20
"""Largest relative gap between the simulated (+ hold) and live p50 that passes."""


def frame_latencies(output: RunOutput, plan: LivePlan, start: float,
                    end: float) -> tuple[np.ndarray, float]:
    """Latencies of the displayed frames of the plan's receivers captured in
    [start, end), and their lost ratio."""
    table = output.tables["frames"]
    pairs = {(leg.group, leg.user) for leg in plan.receivers}
    mine = np.array([w == plan.spec.name and (g, int(u)) in pairs
                     for w, g, u in zip(table["workload"], table["group"], table["user"],
                                        strict=True)], dtype=bool)
    t = np.asarray(table["t_capture"], dtype=float)
    rows = mine & (t >= start) & (t < end)
    latency = np.asarray(table["latency_s"], dtype=float)[rows]
    lost = np.asarray(table["lost"], dtype=bool)[rows]
    shown = ~np.isnan(latency)
    return latency[shown], float(lost.mean()) if len(lost) else float("nan")


def _stats(values: np.ndarray) -> dict[str, float | None]:
    if len(values) == 0:
        return {"p50": None, "p95": None, "mean": None}
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)),
            "mean": float(values.mean())}


@dataclass
class Calibration:
    scenario: str
    workload: str
    hold_s: float
    simulated: np.ndarray
    live: np.ndarray
    lost: dict[str, float]
    """Lost ratio of the frames compared, "simulated" and "live"."""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """(simulated p50 + hold) / live p50 - 1."""
        if len(self.simulated) == 0 or len(self.live) == 0:
            return None
        live = float(np.percentile(self.live, 50))
        return (float(np.percentile(self.simulated, 50)) + self.hold_s) / live - 1.0

    @property
    def passed(self) -> bool:
        return self.gap is not None and abs(self.gap) <= TOLERANCE

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(quantity, simulated, simulated + hold, live), formatted for a table."""
        sim, held, live = (_stats(self.simulated), _stats(self.simulated + self.hold_s),
                           _stats(self.live))

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{1e3 * v:.1f} ms"

        out = [(f"latency {k}", ms(sim[k]), ms(held[k]), ms(live[k]))
               for k in ("p50", "p95", "mean")]
        out.append(("frames compared", str(len(self.simulated)), "", str(len(self.live))))
        out.append(("lost ratio", f"{self.lost['simulated']:.4f}", "",
                    f"{self.lost['live']:.4f}"))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "workload": self.workload,
            "receive_hold_s": self.hold_s, "tolerance": TOLERANCE, "gap_p50": self.gap,
            "passed": self.passed, "lost_ratio": self.lost,
            "simulated": _stats(self.simulated), "simulated_plus_hold": _stats(
                self.simulated + self.hold_s),
            "live": _stats(self.live), "frames": {"simulated": len(self.simulated),
                                                  "live": len(self.live)},
            "settings": self.settings,
        }

    def figure(self) -> Figure:
        fig, ax = new_figure()
        for values, label, style in ((self.simulated, "simulated", ":"),
                                     (self.simulated + self.hold_s,
                                      f"simulated + receive hold ({1e3 * self.hold_s:.0f} ms)",
                                      "--"),
                                     (self.live, "live (aiortc relay)", "-")):
            if len(values):
                x, f = cdf_points(values)
                ax.step(1e3 * x, f, where="post", linestyle=style, label=label)
        ax.set_xlabel("frame latency, capture to display (ms)")
        ax.set_ylabel("share of frames")
        ax.set_title(f"{self.scenario} / {self.workload}: simulated vs live")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        return fig

    def write(self, folder: Path) -> None:
        """calibration.json and frame_latency_cdf.png into `folder` (which exists)."""
        (folder / "calibration.json").write_text(
            json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        self.figure().savefig(folder / "frame_latency_cdf.png", dpi=DPI, format="png",
                              metadata={"Software": None})


def calibrate(plan: LivePlan, simulated: RunOutput, live: RunOutput,
              hold: float) -> Calibration:
    scn = simulated.scenario
    sim_lat, sim_lost = frame_latencies(simulated, plan, scn.warmup, scn.duration)
    live_lat, live_lost = frame_latencies(live, plan, 0.0, live.scenario.duration)
    return Calibration(scn.name, plan.spec.name, hold, sim_lat, live_lat,
                       {"simulated": sim_lost, "live": live_lost},
                       {"receivers": [f"{leg.group}[{leg.user}]" for leg in plan.receivers],
                        "simulated_s": scn.duration - scn.warmup,
                        "live_s": live.scenario.duration})
