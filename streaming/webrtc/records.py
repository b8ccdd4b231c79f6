"""What a live run measured, in the shapes a simulated run writes: the ``frames``
table (:data:`streaming.frames.FRAME_COLUMNS`), the same ``frames.<workload>``
summary keys, and a ``live`` section for what only a real run has (packet loss
per leg, round-trip times, each process's CPU).

Time 0 of a live run is the start of its measured window, when every receiver
has shown a first frame; the window lasts the run's duration with no warm-up
(setting up the calls was the warm-up).  A frame counts for every receiver if it
was captured inside the window.  Encoded frame sizes are not visible to the
peers (the relay re-encodes per receiver), so ``bytes`` is NaN and the received
bitrate comes from each receiver's transport byte count.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.run.builder import SUMMARY_SCHEMA, RunOutput, run_id_of
from sim.stats import latency_summary
from streaming.frames import WIDTH, FrameLog, exposure, frame_summary
from streaming.webrtc.supervisor import LiveResult

__all__ = ["RELAY_HOLDS", "live_output", "receive_hold"]

RELAY_HOLDS = 2
"""aiortc jitter buffers a frame crosses on its way: the relay's and the player's."""


def receive_hold(fps: float) -> float:
    """The known receive-side delay of the live path, s: each aiortc receiver (the
    relay, then the player) releases a frame when the next frame's first packet
    arrives, about one frame interval later."""
    return RELAY_HOLDS / fps


def _frame_log(result: LiveResult) -> FrameLog:
    plan = result.plan
    spec = plan.spec
    deadline = spec.max_latency if spec.deadline is None else spec.deadline
    log = FrameLog(spec.name, "live", list(spec.students), [plan.relay], deadline)
    start, end = result.start_us, result.end_us
    sent = [(seq, t) for seq, t in result.sender["sent"] if start <= t < end]
    for leg, measured in zip(plan.receivers, result.receivers, strict=True):
        client = spec.students.index(leg.group)
        shown = {seq: (t_display, key) for seq, t_capture, t_display, key in measured["frames"]}
        for seq, t_us in sent:
            t_capture = (t_us - start) / 1e6
            t_display, key = shown.get(seq, (None, 0))
            display = math.nan if t_display is None else (t_display - start) / 1e6
            lost = t_display is None or display - t_capture > spec.max_latency
            log.done.extend([client, leg.user, 0, seq, key, math.nan, t_capture,
                             math.nan if lost else display, float(lost), -1, -1])
    assert len(log.done) % WIDTH == 0
    return log


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _receiver_bitrate(measured: dict[str, Any]) -> float:
    """Transport bits per second from the receiver's first frame to its stop."""
    span = (measured["stopped_us"] - (measured["first_us"] or 0)) / 1e6
    return 8.0 * measured["bytes_received"] / span if span > 0 else math.nan


def _live_section(result: LiveResult, seconds: float) -> dict[str, Any]:
    receivers = []
    for leg, m in zip(result.plan.receivers, result.receivers, strict=True):
        rtts = np.asarray(m["rtts"], dtype=float)
        expected, received = m["packets_expected"], m["packets_received"]
        receivers.append({
            "name": leg.name, "group": leg.group, "user": leg.user,
            "packets_expected": expected, "packets_received": received,
            "packet_loss_ratio": _ratio(max(expected - received, 0), expected),
            "rtt_s": latency_summary(rtts, np.arange(len(rtts), dtype=float)),
            "frames_shown": len(m["frames"]), "unreadable_frames": m["unreadable"],
        })
    relay = result.relay
    legs = {}
    for leg in (result.plan.sender, *result.plan.receivers):
        towards_relay, towards_peer = result.legs[leg.name]
        media, feedback = (towards_relay, towards_peer) if leg.name == "sender" \
            else (towards_peer, towards_relay)
        legs[leg.name] = {
            "media": {"delay_s": leg.media.delay, "jitter_s": list(leg.media.jitter),
                      "loss": leg.media.loss, "rate_bps": 8.0 * leg.media.rate,
                      "packets": media.packets, "dropped": media.lost,
                      "overflowed": media.overflow},
            "feedback": {"packets": feedback.packets, "dropped": feedback.lost},
        }
    return {
        "receive_hold_s": receive_hold(result.plan.spec.frame_rate),
        "frame_size": [result.options.width, result.options.height],
        "relay_packet_loss_ratio": _ratio(
            max(relay["packets_expected"] - relay["packets_received"], 0),
            relay["packets_expected"]),
        "receivers": receivers,
        "legs": legs,
        "measured_s": seconds,
    }


def live_output(result: LiveResult) -> RunOutput:
    """The live run as a run output, ready for :func:`sim.run.results.write_run`."""
    plan = result.plan
    spec = plan.spec
    seconds = (result.end_us - result.start_us) / 1e6
    scenario = plan.scenario.model_copy(update={"duration": seconds, "warmup": 0.0})
    n = len(plan.receivers)
    opts = result.options
    run_id = f"live-{run_id_of(scenario)}-{n}rx-{opts.width}x{opts.height}"
    log = _frame_log(result)
    interval = 1.0 / spec.frame_rate
    zeros = np.zeros(n)
    section = frame_summary(log, 0.0, seconds, seconds + spec.max_latency,
                            exposure(zeros, zeros, np.full(n, seconds), 0.0, seconds, interval),
                            n)
    section["received_bitrate_bps"] = float(np.mean([_receiver_bitrate(m)
                                                      for m in result.receivers]))
    sent = result.sender["sent"]
    span = (sent[-1][1] - sent[0][1]) / 1e6 if len(sent) > 1 else 0.0
    section.update({
        "relay": plan.relay,
        "frames_sent": len(sent),  # as in a simulated run: every frame the teacher sent
        "sent_bitrate_bps": 8.0 * result.sender["bytes_sent"] / span if span > 0 else None,
        "uplink_flows": None,
        "downlink_flows": None,
        "deadline_s": log.deadline,
    })
    summary = {
        "schema": SUMMARY_SCHEMA, "scenario": scenario.name, "run_id": run_id,
        "seed": scenario.seed, "duration_s": seconds, "warmup_s": 0.0, "mode": "live",
        "frames": {spec.name: section},
        "live": _live_section(result, seconds),
    }
    cpu = {f"cpu_s.{leg.name}": float(m["cpu_s"])
           for leg, m in zip(plan.receivers, result.receivers, strict=True)}
    cpu.update({"cpu_s.relay": float(result.relay["cpu_s"]),
                "cpu_s.sender": float(result.sender["cpu_s"])})
    return RunOutput(scenario, run_id, {"frames": log.table(seconds + spec.max_latency)},
                     summary, {"wall_s": result.wall_s, **cpu})
