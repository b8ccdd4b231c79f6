"""Frame sizes, frame loss and the frames summary (streaming.frames)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streaming.frames import (
    FRAME_COLUMNS,
    WIDTH,
    FrameLog,
    FrameSizer,
    arrival_probability,
    exposure,
    frame_summary,
)


def test_a_gop_carries_the_bitrate_and_key_frames_are_key_ratio_times_larger() -> None:
    sizer = FrameSizer(bitrate=30e6, frame_rate=60.0, gop=60, key_ratio=5.0)
    gop_bytes = sum(sizer.size(k) for k in range(60))
    # 60 frames last 1 s at 60 fps, so a GOP is one second of 30 Mbit/s: 3.75 MB.
    assert gop_bytes == pytest.approx(30e6 / 8)
    assert sizer.size(0) == pytest.approx(5 * sizer.size(1))
    assert sizer.size(60) == sizer.size(0) and sizer.size(61) == sizer.size(1)
    # (5 + 59) delta frames make 3.75 MB.
    assert sizer.delta_bytes == pytest.approx(3.75e6 / 64)


def test_all_intra_stream_has_equal_frames() -> None:
    sizer = FrameSizer(bitrate=8e6, frame_rate=25.0, gop=1, key_ratio=4.0)
    assert sizer.size(0) == sizer.size(7) == pytest.approx(8e6 / 25 / 8)


def test_a_frame_arrives_when_every_packet_does() -> None:
    # 12,000 bytes are 10 packets of 1200 B; each arrives with 0.99.
    assert arrival_probability(0.99, 12_000, 1200) == pytest.approx(0.99 ** 10)
    assert arrival_probability(0.99, 12_001, 1200) == pytest.approx(0.99 ** 11)
    assert arrival_probability(0.99, 10, 1200) == pytest.approx(0.99)
    assert arrival_probability(1.0, 1e9, 1200) == 1.0


def _row(frame: int, t: float, shown: float, lost: bool = False) -> list[float]:
    return [0, 0, 0, frame, 0, 1000.0, t, shown, float(lost), -1, -1]


def test_summary_counts_misses_losses_and_overdue_frames() -> None:
    log = FrameLog("w", "live", ["g"], ["s"], deadline=0.1)
    for row in (_row(0, 0.0, 0.05), _row(1, 1.0, 1.2), _row(2, 2.0, math.nan, lost=True)):
        log.done.extend(row)
    log.inflight[7] = _row(3, 3.0, math.nan)    # overdue at the end (3.0 + 0.1 <= 4.0)
    log.inflight[8] = _row(4, 3.95, math.nan)   # fate unknown: not counted
    assert len(_row(0, 0, 0)) == WIDTH
    s = frame_summary(log, 0.0, 4.0, now=4.0, exposure=4.0, receivers=1)
    assert s["frames"] == 4
    assert s["displayed"] == 2
    assert s["lost_ratio"] == pytest.approx(1 / 4)
    assert s["deadline_miss_ratio"] == pytest.approx(3 / 4)  # late, lost, overdue
    assert s["effective_frame_rate"] == pytest.approx(1 / 4)  # one on time in 4 s
    assert s["latency_s"]["max"] == pytest.approx(0.2)
    table = log.table(now=4.0)
    assert set(table) == set(FRAME_COLUMNS)
    assert list(table["missed"]) == [False, True, True, True, False]


def test_exposure_counts_frame_slots_inside_the_window() -> None:
    starts = np.array([0.0, 5.0, 20.0])
    ends = np.array([10.0, 30.0, 25.0])
    # One slot per second: ticks 8, 9 | 8..21 | 20, 21.
    assert exposure(starts, starts, ends, 8.0, 22.0, 1.0) == pytest.approx(2.0 + 14.0 + 2.0)
    # A 10 ms session at 30 fps holds one frame slot (1/30 s), not 10 ms.
    assert exposure(np.zeros(1), np.zeros(1), np.array([0.01]), 0.0, 1.0, 1 / 30) == \
        pytest.approx(1 / 30)
    # Frames on the class's grid (0, 0.5, 1.0, ...) from a student who joined at 0.7.
    assert exposure(np.zeros(1), np.array([0.7]), np.array([3.0]), 0.0, 3.0, 0.5) == \
        pytest.approx(2.0)
