"""Playback buffer arithmetic, the exact trace integration, and the sabre trace loader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import sabre_dir

from streaming.abr import FixedLevel, make_abr
from streaming.ladder import Ladder, load_sabre_manifest
from streaming.player import (
    BandwidthTrace,
    Phase,
    Session,
    TraceRun,
    load_sabre_trace,
    simulate_on_trace,
)

ONE_RUNG = Ladder(bitrates=(2e6,), segment_duration=2.0)  # 4e6 bits per segment



# ---- the step-down trace, by hand ----------------------------------------------------------


def test_step_down_rebuffering_matches_hand_arithmetic() -> None:
    """2 s segments of 4 Mbit at a fixed 2 Mbit/s rung; 10 Mbit/s for 30 s, then 1 Mbit/s.

    Startup after one segment, max buffer 10 s (a request needs buffer <= 8 s),
    resume after one segment.
    * At 10 Mbit/s a download takes 0.4 s.  Segment 0 ends at 0.4: playback starts,
      startup delay 0.4.  With N segments in and playback running since 0.4, the buffer
      is B = 2N - (t - 0.4).
    * Segments 1..4 go back to back (B after them: 3.6, 5.2, 6.8, 8.4 at t = 2.0).
      From then on segment N is requested when B falls to 8: t = 2N - 7.6, so segment
      18 at 28.4 (ends 28.8) and segment 19 at 30.4, in the 1 Mbit/s period.
    * At 1 Mbit/s a download takes 4 s and adds 2 s of media.  Segment 19: 30.4 -> 34.4
      (B 8 -> 6); 20 ends 38.4 (B 4); 21 ends 42.4 (B 2); the buffer empties at 44.4
      while 22 arrives at 46.4: a 2 s stall.  Each later segment stalls 2 s the same way:
      stalls [44.4 + 4k, 46.4 + 4k] for segments 22..29, k = 0..7.
    * Total: 8 stalls, 16 s; the last segment arrives at 74.4, playback ends at 76.4.
    """
    run = simulate_on_trace(ONE_RUNG, FixedLevel(0), [(30.0, 10e6), (1.0, 1e6)],
                            repeat=False, n_segments=30, latency=0.0, max_buffer=10.0)
    s = run.stats
    assert s.startup_delay == pytest.approx(0.4)
    assert run.request_times[18] == pytest.approx(28.4)
    assert run.request_times[19] == pytest.approx(30.4)
    assert run.records[21].finish_time == pytest.approx(42.4)
    assert s.rebuffer_events == 8
    assert s.rebuffer_time == pytest.approx(16.0)
    stalls = [(44.4 + 4 * k, 46.4 + 4 * k) for k in range(8)]
    flat = [x for pair in run_stalls(run) for x in pair]
    assert flat == pytest.approx([x for pair in stalls for x in pair])
    assert [x for pair in run.rebuffer_intervals for x in pair] == pytest.approx(flat)
    assert s.end_time == pytest.approx(76.4)
    assert s.played_time == pytest.approx(60.0)
    assert s.rebuffer_ratio == pytest.approx(16.0 / 76.0)
    assert s.switches == 0
    assert s.average_bitrate == 2e6


def run_stalls(run: TraceRun) -> list[tuple[float, float]]:
    """Stalls recomputed from the records: (time the buffer empties, arrival)."""
    records = run.records
    out: list[tuple[float, float]] = []
    play_start = records[0].finish_time
    for k in range(1, len(records)):
        # media due by the arrival of segment k: the first k segments, 2 s each,
        # played from play_start plus earlier stalls
        stalled = sum(b - a for a, b in out)
        empty_at = play_start + 2.0 * k + stalled
        if records[k].finish_time > empty_at + 1e-9:
            out.append((empty_at, records[k].finish_time))
    return out


def test_rebuffer_threshold_two_segments() -> None:
    # 1 Mbit/s only: each 2 s segment takes 4 s.  Startup and resume after 2 segments.
    # Segment 0 ends at 4, 1 at 8: play from 8 (startup delay 8), B = 4.  Segment 2
    # ends at 12 just as B reaches 0 (no stall): B = 2.  B empties at 14; segment 3
    # arrives at 16 during the stall (1 segment), segment 4 at 20 (2 segments): resume,
    # stall [14, 20], B = 4.  Segment 5 at 24: B = 0 + 2.  B empties at 26; segments 6
    # (28) and 7 (32) end the second stall [26, 32], B = 4, playback ends at 36.
    run = simulate_on_trace(ONE_RUNG, FixedLevel(0), [(1.0, 1e6)], n_segments=8,
                            latency=0.0, startup_threshold=4.0, rebuffer_threshold=4.0,
                            max_buffer=10.0)
    s = run.stats
    assert s.startup_delay == 8.0
    assert s.rebuffer_events == 2
    assert s.rebuffer_time == 6.0 + 6.0
    assert s.end_time == 36.0
    assert s.played_time == 16.0


def test_rebuffer_intervals_by_events() -> None:
    s = Session(ONE_RUNG, 8, startup_threshold=4.0, rebuffer_threshold=4.0, max_buffer=10.0)
    for i in range(8):
        s.on_segment_downloaded(4.0 * (i + 1), i, 0, 500_000, 4.0)
    assert s.rebuffer_intervals == [(14.0, 20.0), (26.0, 32.0)]


# ---- session events ------------------------------------------------------------------------


def test_max_buffer_wait_and_metrics_by_events() -> None:
    ladder = Ladder(bitrates=(1e6, 2e6, 4e6), segment_duration=2.0)
    s = Session(ladder, 5, startup_threshold=4.0, max_buffer=6.0)
    assert s.time_until_next_request(0.0) == 0.0
    s.on_segment_downloaded(1.0, 0, 0, 250_000, 1.0)
    assert s.phase is Phase.STARTUP  # 2 s < 4 s
    s.on_segment_downloaded(1.5, 1, 2, 1_000_000, 0.5)
    assert s.phase.value == "playing"  # 4 s buffered: startup delay 1.5
    # A request needs B <= max_buffer - segment = 4: B = 4, go.
    assert s.time_until_next_request(1.5) == 0.0
    s.on_segment_downloaded(2.0, 2, 2, 1_000_000, 0.5)  # B = 4 - 0.5 + 2 = 5.5
    assert s.buffer_level == 5.5
    assert s.time_until_next_request(2.0) == 1.5  # until B = 4
    assert s.time_until_next_request(3.0) == 0.5
    # Requested at 3.5 (B = 4), arrives at 4.0: B = 4 - 0.5 + 2.
    s.on_segment_downloaded(4.0, 3, 1, 500_000, 0.5)
    assert s.buffer_level == 5.5
    assert s.time_until_next_request(4.0) == 1.5
    # Requested at 5.5 (B = 4), a slow 6 s download: B empties at 9.5, it arrives at 11.5.
    s.on_segment_downloaded(11.5, 4, 0, 250_000, 6.0)
    assert s.time_until_next_request(11.5) == math.inf
    st = s.stats()
    assert st.startup_delay == 1.5
    assert st.rebuffer_events == 1
    assert st.rebuffer_time == 2.0
    assert s.rebuffer_intervals == [(9.5, 11.5)]
    assert st.end_time == 13.5
    assert st.played_time == 10.0
    assert st.rebuffer_ratio == 2.0 / 12.0
    assert st.levels == (0, 2, 2, 1, 0)
    assert st.average_bitrate == (1 + 4 + 4 + 2 + 1) * 1e6 / 5
    assert st.switches == 3
    assert st.switch_magnitude == (3 + 0 + 2 + 1) * 1e6
    assert st.finished


def test_ongoing_stall_is_counted_in_stats() -> None:
    s = Session(ONE_RUNG, 3)
    s.on_segment_downloaded(1.0, 0, 0, 500_000, 1.0)
    s.advance(5.0)  # empties at 3.0
    st = s.stats()
    assert s.phase is Phase.STALLED
    assert (st.rebuffer_events, st.rebuffer_time, st.played_time) == (1, 2.0, 2.0)
    assert not st.finished


def test_abr_state_carries_history() -> None:
    s = Session(ONE_RUNG, 3)
    s.on_segment_downloaded(2.0, 0, 0, 500_000, 2.0)
    st = s.abr_state(2.5)
    assert st.segment == 1
    assert st.buffer_level == 1.5
    assert st.last_level == 0
    assert st.throughputs == (2e6,)
    assert st.download_times == (2.0,)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"startup_threshold": 12.0, "max_buffer": 10.0}, "startup_threshold"),
    ({"rebuffer_threshold": 11.0, "max_buffer": 10.0}, "rebuffer_threshold"),
    ({"max_buffer": 1.0}, "max_buffer"),
    ({"startup_threshold": -1.0}, "startup_threshold"),
])
def test_session_validates(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Session(ONE_RUNG, 3, **kwargs)  # type: ignore[arg-type]


def test_session_rejects_bad_events() -> None:
    with pytest.raises(ValueError, match="n_segments"):
        Session(ONE_RUNG)
    s = Session(ONE_RUNG, 2)
    with pytest.raises(ValueError, match="expected 0"):
        s.on_segment_downloaded(1.0, 1, 0, 1.0, 1.0)
    with pytest.raises(ValueError, match="outside the ladder"):
        s.on_segment_downloaded(1.0, 0, 1, 1.0, 1.0)
    s.on_segment_downloaded(1.0, 0, 0, 1.0, 1.0)
    with pytest.raises(ValueError, match="backwards"):
        s.on_segment_downloaded(0.5, 1, 0, 1.0, 0.5)


# ---- trace integration ---------------------------------------------------------------------


def test_transfer_end_integrates_piecewise() -> None:
    trace = BandwidthTrace(periods=((1.0, 8e6), (2.0, 0.0), (1.0, 4e6)), repeat=True)
    assert trace.duration == 4.0
    assert trace.transfer_end(0.0, 4e6) == 0.5
    # 8 Mbit by t = 1, nothing until 3, then 4 Mbit/s: 10 Mbit ends at 3.5.
    assert trace.transfer_end(0.0, 10e6) == 3.5
    # From 0.5: 4 Mbit to 1.0, 4 Mbit over [3, 4], then the trace repeats at 8 Mbit/s.
    assert trace.transfer_end(0.5, 12e6) == 4.5
    # Starting inside the zero period waits for bandwidth.
    assert trace.transfer_end(1.5, 2e6) == 3.5
    # One pass carries 12 Mbit: 100 passes + 4 Mbit end at 400.5.
    assert trace.transfer_end(0.0, 1204e6) == pytest.approx(400.5)
    # Exactly 100 passes end with the 4 Mbit/s period of the last pass, at 400.
    assert trace.transfer_end(0.0, 1200e6) == pytest.approx(400.0)


def test_non_repeating_trace_holds_its_last_period() -> None:
    trace = BandwidthTrace(periods=((1.0, 8e6), (1.0, 2e6)), repeat=False)
    assert trace.transfer_end(0.0, 14e6) == 4.0
    assert trace.transfer_end(10.0, 2e6) == 11.0
    with pytest.raises(ValueError, match="positive bandwidth"):
        BandwidthTrace(periods=((1.0, 8e6), (1.0, 0.0)), repeat=False)


def test_latency_delays_each_download() -> None:
    run = simulate_on_trace(ONE_RUNG, FixedLevel(0), [(1.0, 8e6)], n_segments=3,
                            latency=0.1)
    # each download: 0.1 s latency + 4e6 / 8e6 = 0.6 s, back to back
    assert [r.finish_time for r in run.records] == pytest.approx([0.6, 1.2, 1.8])
    assert run.records[0].throughput == pytest.approx(4e6 / 0.6)


# ---- sabre traces --------------------------------------------------------------------------


def test_sabre_trace_foot() -> None:
    trace = load_sabre_trace(sabre_dir() / "report_foot_0002.json")
    # README: 619 periods, 618.3 s, mean 17.6 Mbit/s, 11 zero-bandwidth periods, 20 ms.
    assert len(trace.periods) == 619
    assert trace.duration == pytest.approx(618.3, abs=0.05)
    mean = sum(d * b for d, b in trace.periods) / trace.duration
    assert mean == pytest.approx(17.6e6, rel=0.01)
    assert sum(1 for _, b in trace.periods if b == 0) == 11
    assert trace.latencies is not None and set(trace.latencies) == {0.02}
    assert trace.periods[0] == (0.287, 4827e3)
    assert trace.repeat


def test_sabre_trace_3g() -> None:
    trace = load_sabre_trace(sabre_dir() / "report.2010-09-14_1038CEST.json")
    assert len(trace.periods) == 759
    assert trace.latency_at(0.0) == 0.1


def test_sabre_session_end_to_end() -> None:
    d = sabre_dir()
    ladder = load_sabre_manifest(d / "bbb.json")
    trace = load_sabre_trace(d / "report_tram_0002.json")
    for name in ("throughput", "bba", "bola", "bola_e", "dynamic"):
        run = simulate_on_trace(ladder, make_abr(name), trace, max_buffer=30.0)
        s = run.stats
        assert s.segments_downloaded == 199 and s.finished
        assert s.end_time is not None and s.startup_delay is not None
        # playback time = media + stalls, after the startup delay
        assert s.end_time == pytest.approx(199 * 3.0 + s.rebuffer_time + s.startup_delay)
        assert max(r.buffer_after for r in run.records) <= 30.0 + 1e-9


@pytest.mark.parametrize(("content", "message"), [
    ("{}", "non-empty JSON list"),
    ('[{"duration_ms": 10, "bandwidth_kbps": 5}]', "latency_ms"),
    ('[{"duration_ms": 0, "bandwidth_kbps": 5, "latency_ms": 1}]', "duration"),
    ('[{"duration_ms": 10, "bandwidth_kbps": 0, "latency_ms": 1}]', "positive bandwidth"),
])
def test_malformed_trace_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad_trace.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_sabre_trace(path)
    assert "bad_trace.json" in str(info.value)


def test_trace_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"duration_ms": 500, "bandwidth_kbps": 8000,
                                 "latency_ms": 40}]), encoding="utf-8")
    trace = load_sabre_trace(path)
    assert trace.periods == ((0.5, 8e6),)
    assert trace.latencies == (0.04,)
