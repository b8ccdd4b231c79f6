"""Simulated against live: the same live class, the same receivers, side by side.

The comparison is on the frames of the receivers the live run played (the same
group and member in both), captured inside each run's statistics window, and
judges the p50 as it is: capture to display in both, with nothing added.  The
live path holds every frame in two aiortc jitter buffers (the relay's and the
player's) and repairs losses by NACK; the simulated class contains both when it
has ``jitter_buffer: aiortc`` and ``retransmission: nack`` (streaming/receive.py).
The known hold of the live path (:func:`streaming.webrtc.records.receive_hold`)
is still reported, and flagged when the simulated class leaves it out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.plots.figure import DPI, cdf_points, new_figure
from sim.run.builder import RunOutput
from streaming.webrtc.plan import LivePlan

__all__ = ["TOLERANCE", "Calibration", "calibrate", "frame_latencies"]

TOLERANCE = 0.20
"""Largest relative gap between the simulated and live p50 that passes."""


def frame_latencies(output: RunOutput, plan: LivePlan, start: float,
                    end: float, only: tuple[str, int] | None = None) -> tuple[np.ndarray, float]:
    """Latencies of the displayed frames of the plan's receivers (or of `only`, a
    group and member) captured in [start, end), and their lost ratio."""
    table = output.tables["frames"]
    pairs = {(leg.group, leg.user) for leg in plan.receivers} if only is None else {only}
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
    modelled: bool = True
    """Whether the simulated class models the receive side (its jitter buffers)."""
    per_receiver: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Each receiver's latencies, simulated and live: the pooled p50 of receivers on
    different paths falls between their distributions, where few frames lie, so
    each receiver's own p50 is shown too."""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """simulated p50 / live p50 - 1."""
        if len(self.simulated) == 0 or len(self.live) == 0:
            return None
        live = float(np.percentile(self.live, 50))
        return float(np.percentile(self.simulated, 50)) / live - 1.0

    @property
    def passed(self) -> bool:
        return self.gap is not None and abs(self.gap) <= TOLERANCE

    def rows(self) -> list[tuple[str, str, str]]:
        """(quantity, simulated, live), formatted for a table."""
        sim, live = _stats(self.simulated), _stats(self.live)

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{1e3 * v:.1f} ms"

        out = [(f"latency {k}", ms(sim[k]), ms(live[k])) for k in ("p50", "p95", "mean")]
        for name, (sim_r, live_r) in self.per_receiver.items():
            out.append((f"{name} p50", ms(_stats(sim_r)["p50"]), ms(_stats(live_r)["p50"])))
        out.append(("frames compared", str(len(self.simulated)), str(len(self.live))))
        out.append(("lost ratio", f"{self.lost['simulated']:.4f}", f"{self.lost['live']:.4f}"))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "workload": self.workload,
            "receive_hold_s": self.hold_s, "receive_modelled": self.modelled,
            "tolerance": TOLERANCE, "gap_p50": self.gap,
            "passed": self.passed, "lost_ratio": self.lost,
            "simulated": _stats(self.simulated), "live": _stats(self.live),
            "receivers": {name: {"simulated": _stats(sim_r), "live": _stats(live_r)}
                          for name, (sim_r, live_r) in self.per_receiver.items()},
            "frames": {"simulated": len(self.simulated), "live": len(self.live)},
            "settings": self.settings,
        }

    def figure(self) -> Figure:
        fig, ax = new_figure()
        sim_label = "simulated" if self.modelled else "simulated (no receive-side model)"
        for values, label, style in ((self.simulated, sim_label, "--"),
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
    per_receiver = {
        f"{leg.group}[{leg.user}]": (
            frame_latencies(simulated, plan, scn.warmup, scn.duration, (leg.group, leg.user))[0],
            frame_latencies(live, plan, 0.0, live.scenario.duration, (leg.group, leg.user))[0])
        for leg in plan.receivers}
    return Calibration(scn.name, plan.spec.name, hold, sim_lat, live_lat,
                       {"simulated": sim_lost, "live": live_lost},
                       plan.spec.jitter_buffer != "none", per_receiver,
                       {"receivers": [f"{leg.group}[{leg.user}]" for leg in plan.receivers],
                        "simulated_s": scn.duration - scn.warmup,
                        "live_s": live.scenario.duration})
