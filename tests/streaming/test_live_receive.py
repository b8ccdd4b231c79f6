"""The live class's receive side (streaming.receive): aiortc's jitter-buffer release
rule at the relay and the student, and NACK retransmission, against worked examples
and the binomial loss of a frame with one retransmission per lost packet."""

from __future__ import annotations

from math import comb
from pathlib import Path

import numpy as np
import pytest

from streaming.receive import ReleaseOrder
from streaming.schema import LiveClassSpec
from tests.streaming.test_live import (
    DECODE,
    EDGE_HOP,
    ENCODE,
    RELAY,
    S_ACCESS,
    STUDENT_DOWN,
    T_ACCESS,
    TEACHER_UP,
    run,
    scenario,
)

PACKET = 1200.0
INTERVAL = 1 / 30


def test_release_rule_waits_for_the_next_frames_first_packet_and_keeps_order() -> None:
    order: ReleaseOrder[str] = ReleaseOrder(0)
    assert order.complete(0, 1.0, "a") == []          # complete, but is it over?
    assert order.first_packet(1, 1.5) == [("a", 1.5)]  # the next frame began: it is
    assert order.complete(2, 2.1, "c") == []           # 1 is not complete: 2 waits behind it
    assert order.first_packet(3, 2.6) == []
    assert order.first_packet(2, 2.05) == []
    assert order.complete(1, 3.0, "b") == [("b", 3.0), ("c", 3.0)]  # late 1 holds 2
    assert order.complete(3, None, "d") == []          # never complete: skipped
    assert order.first_packet(5, 4.6) == []
    assert order.complete(4, 4.2, "e") == [("e", 4.6)]
    assert order.held() == []


def test_receive_keys_are_quiet_by_default() -> None:
    spec = LiveClassSpec(kind="live_class", name="c", teacher="t", students=["s"])
    dumped = spec.model_dump()
    assert "jitter_buffer" not in dumped and "retransmission" not in dumped
    held = spec.model_copy(update={"jitter_buffer": "aiortc"}).model_dump()
    assert held["jitter_buffer"] == "aiortc" and "retransmission" not in held


def test_lossless_frame_latency_with_both_jitter_buffers_worked_by_hand(
        tmp_path: Path) -> None:
    frames, _ = run(tmp_path, scenario(jitter_buffer="aiortc"))
    delta = 2.5e6 / 8 / (4 + 29)
    size = np.where(frames["key"], 4 * delta, delta)
    up_transfer, down_transfer = 8 * size / TEACHER_UP, 8 * size / STUDENT_DOWN
    # The relay has frame k at capture + encode + uplink + its transfer, and releases it
    # when frame k+1's first packet arrives: one interval after k's capture, + encode +
    # uplink + one packet's transfer.  The same at the student, one interval later again.
    relay_hold = INTERVAL + 8 * PACKET / TEACHER_UP - up_transfer
    player_hold = INTERVAL + 8 * PACKET / STUDENT_DOWN - down_transfer
    expected = (ENCODE + (T_ACCESS + EDGE_HOP) + up_transfer + relay_hold + RELAY
                + (EDGE_HOP + S_ACCESS) + down_transfer + player_hold + DECODE)
    shown = ~np.isnan(frames["latency_s"])
    assert shown.sum() >= 5 * (90 - 3)  # all but the last frames, whose next never came
    assert np.allclose(frames["latency_s"][shown], expected[shown], rtol=0, atol=1e-12)
    # 66.667 holds + 4 encode + 1 + 0.5 up + 0.48 packet + 1 relay + 0.5 + 2 down
    # + 0.192 packet + 3 decode, in ms: the frames' own transfer is inside the holds
    assert expected[~frames["key"]][0] == pytest.approx(0.079339, abs=1e-6)


def test_a_lost_frame_comes_one_round_trip_and_its_resent_packets_later(
        tmp_path: Path) -> None:
    loss = 0.01
    data = scenario(count=10, gop=1, key_ratio=1, retransmission="nack")  # 10,417 B, 9 pkts
    data["duration"] = 20.0
    data["nodes"][4]["access"]["loss"] = loss
    frames, _ = run(tmp_path, data)
    size = 2.5e6 / 8 / 30
    q = 1 - loss  # the flow model carries S / q bytes for S delivered
    idle = (ENCODE + T_ACCESS + EDGE_HOP + 8 * size / TEACHER_UP + RELAY
            + EDGE_HOP + S_ACCESS + 8 * size / q / STUDENT_DOWN + DECODE)
    rtt = 2 * (EDGE_HOP + S_ACCESS)  # the NACK goes up the student's access, RTX down
    late = frames["latency_s"] - idle
    shown = ~np.isnan(late)
    resent = late[shown & (late > 1e-9)]
    assert len(resent) > 50
    # What is left after the round trip is a whole number (1..9) of packets' transfer.
    packets = (resent - rtt) / (8 * PACKET / STUDENT_DOWN)
    assert np.allclose(packets, np.round(packets), atol=1e-6)
    assert packets.min() >= 1 - 1e-6 and packets.max() <= 9 + 1e-6
    assert np.allclose(late[shown & (late <= 1e-9)], 0.0, atol=1e-12)


def test_frame_loss_with_one_retransmission_is_binomial(tmp_path: Path) -> None:
    p, n = 0.05, 9
    data = scenario(count=10, gop=1, key_ratio=1, retransmission="nack")
    data["duration"] = 30.0
    data["nodes"][4]["access"]["loss"] = p
    frames, _ = run(tmp_path, data)
    # A packet is lost for good when it and its resend are lost, or it and the NACK
    # (sent up the same lossy access): a frame with m lost packets survives with
    # probability (1 - p) * (1 - p)**m, summed over the binomial number m.
    survive = (1 - p) ** n + sum(comb(n, m) * p ** m * (1 - p) ** (n - m)
                                 * (1 - p) * (1 - p) ** m for m in range(1, n + 1))
    expected = 1 - survive
    known = ~np.isnan(frames["latency_s"]) | frames["lost"]
    lost = frames["lost"][known]
    half_width = 2.576 * np.sqrt(expected * (1 - expected) / len(lost))
    assert len(lost) > 8000
    assert abs(lost.mean() - expected) < half_width, (lost.mean(), expected, half_width)
    # without retransmission nearly a third of the frames would be lost
    assert lost.mean() < 0.2 * (1 - (1 - p) ** n)


def test_frames_held_at_the_end_are_in_flight_not_lost(tmp_path: Path) -> None:
    for session in ("10 ms", "1.01 s"):
        data = scenario(session=session, jitter_buffer="aiortc", retransmission="nack")
        frames, summary = run(tmp_path, data)
        assert summary["effective_frame_rate"] <= 30.0 + 1e-9, session
        # The last frame of a session never sees a next one: it is never released,
        # and it is held, not lost.
        last = frames["frame"] == frames["frame"].max()
        assert np.all(np.isnan(frames["t_display"][last])) and not frames["lost"][last].any()
