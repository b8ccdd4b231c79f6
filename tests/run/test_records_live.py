"""Live-class frames and video segments spilled through sim.run.records: a run that spills
every few rows gives the tables and summary of one that keeps every record in memory,
bit for bit, and the simulation's memory does not grow with the run's length."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim.run.results
import streaming.frames
import streaming.vod
from sim.run.builder import prepared_run
from sim.run.results import write_run
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]

# Two live classes: one with the receive side (jitter buffers, NACKs) and encode and
# relay delays; one without, over a lossy teacher uplink (frames lost before the
# relay are recorded at once).  And a course video, whose segment rows spill too.
SCENARIO = """\
name: spill-live
seed: 11
duration: {duration}
sample_interval: 1 s
nodes:
  - {{name: agg, kind: router}}
  - {{name: mec0, kind: mec}}
  - {{name: core, kind: core}}
  - name: studio
    kind: users
    count: 2
    attach: agg
    access: {{bandwidth: {{uplink: 20 Mbps, downlink: 100 Mbps}}, delay: 1 ms,
             jitter: 0.5 ms, loss: 2%}}
  - name: hall
    kind: users
    count: 12
    attach: agg
    access: {{bandwidth: {{uplink: 20 Mbps, downlink: 80 Mbps}}, delay: 3 ms, jitter: 1 ms}}
  - name: dorms
    kind: users
    count: 8
    attach: core
    access: {{bandwidth: {{uplink: 5 Mbps, downlink: 25 Mbps}}, delay: 8 ms, jitter: 2 ms,
             loss: 0.5%}}
links:
  - {{a: agg, b: mec0, bandwidth: 10 Gbps, delay: 0.2 ms}}
  - {{a: agg, b: core, bandwidth: 10 Gbps, delay: 1 ms}}
workloads:
  - {{name: buffered, kind: live_class, teacher: studio, students: [hall, dorms],
     relay: mec0, frame_rate: 30 fps, bitrate: 2.5 Mbps, encode: 5 ms, decode: 4 ms,
     relay_delay: 1 ms, start_spread: 2 s, congestion: aimd, max_latency: 400 ms,
     jitter_buffer: aiortc, retransmission: nack}}
  - {{name: plain, kind: live_class, teacher: studio, students: [hall], relay: mec0,
     frame_rate: 30 fps, bitrate: 2.5 Mbps, start_spread: 2 s, deadline: 50 ms}}
  - {{name: video, kind: course_video, clients: [dorms], serve: mec0, start_spread: 2 s,
     segments: 200, segment_duration: 1 s, max_buffer: 4 s,
     abr: {{name: throughput, params: {{safety: 0.9, window: 5}}}}}}
"""


def _values(table: pa.Table) -> dict[str, bytes | list[object]]:
    """Each column's values: floats bit for bit (NaN equals NaN, which Table.equals
    does not grant), the rest as Python values, whatever the chunks and dictionaries
    (a spilled table is written in the spill's row groups)."""
    out: dict[str, bytes | list[object]] = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_floating(column.type):
            out[name] = column.to_numpy().tobytes()
        else:
            out[name] = column.to_pylist()
    return out


def _run(tmp_path: Path, spill_rows: int, name: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "spill.yaml"
    path.write_text(SCENARIO.format(duration="6 s"))
    with monkeypatch.context() as patch:
        patch.setattr(streaming.frames, "SPILL_ROWS", spill_rows)
        patch.setattr(streaming.vod, "SPILL_ROWS", spill_rows)
        patch.setattr(sim.run.results, "_ROW_GROUP", 1000)  # row groups cut across spills
        run = prepared_run(load_scenario(path))  # takes a summary before the run, too
        return write_run(run.execute(), tmp_path / name, plots=False)


def test_spilled_live_frames_and_segments_equal_records_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = _run(tmp_path, 1 << 30, "kept", monkeypatch)
    spilled = _run(tmp_path, 5, "spilled", monkeypatch)  # hundreds of spills per log
    assert (spilled / "summary.json").read_bytes() == (kept / "summary.json").read_bytes()
    names = sorted(p.name for p in (kept / "tables").iterdir())
    assert names == sorted(p.name for p in (spilled / "tables").iterdir())
    for name in names:
        a = pq.read_table(kept / "tables" / name)
        b = pq.read_table(spilled / "tables" / name)
        assert a.schema == b.schema, name
        assert _values(a) == _values(b), name
        # the streamed file is the whole table's, byte for byte (same row groups and
        # dictionaries)
        assert (kept / "tables" / name).read_bytes() == \
            (spilled / "tables" / name).read_bytes(), name
    assert pq.ParquetFile(kept / "tables" / "frames.parquet").num_row_groups > 3
    frames = pq.read_table(kept / "tables" / "frames.parquet").to_pydict()
    plain_lost = [lost for w, lost, up in zip(frames["workload"], frames["lost"],
                                               frames["downlink_flow"], strict=True)
                  if w == "plain" and up == -1]
    assert plain_lost and all(plain_lost)  # the lost-on-the-uplink path was exercised
    assert {"buffered", "plain"} <= set(frames["workload"])
    assert pq.read_table(kept / "tables" / "segments.parquet").num_rows > 50


def test_spill_mark_keeps_frames_in_flight(tmp_path: Path) -> None:
    """A spill never takes a frame some receiver still waits for: every spilled frame
    was captured before the earliest one in flight."""
    from sim.run.builder import Run
    from streaming.live import LiveClass

    path = tmp_path / "spill.yaml"
    path.write_text(SCENARIO.format(duration="3 s"))
    run = Run(load_scenario(path).scenario)
    live = [w for w in run.workloads if isinstance(w, LiveClass)]
    checked = []
    for workload in live:
        log = workload.log
        original = log.spill_before

        def spy(mark: float, log: streaming.frames.FrameLog = log,
                original: object = original, workload: LiveClass = workload) -> None:
            earliest = min((rec[6] for rec in log.inflight.values()), default=float("inf"))
            assert mark <= earliest
            checked.append(mark)
            original(mark)  # type: ignore[operator]

        log.spill_before = spy  # type: ignore[method-assign]
        log.spill_at = 5 * streaming.frames.WIDTH
    old = streaming.frames.SPILL_ROWS
    streaming.frames.SPILL_ROWS = 5
    try:
        run.execute()
    finally:
        streaming.frames.SPILL_ROWS = old
    assert len(checked) > 50


_PEAK = """
import sys, tracemalloc
sys.path.insert(0, {root!r})
import sim.run.builder, streaming.frames, streaming.vod
from sim.run.builder import Run
from sim.scenario.loader import load_scenario
sim.run.builder.FOLD_SEGMENTS = 1024
streaming.frames.SPILL_ROWS = streaming.vod.SPILL_ROWS = 1024
run = Run(load_scenario({path!r}).scenario)
peak = []
def tables():
    peak.append(tracemalloc.get_traced_memory()[1])
    raise SystemExit(0)
run.tables = tables
tracemalloc.start()
try:
    run.execute()
finally:
    print(peak[0])
"""


def _simulation_peak(tmp_path: Path, duration: str) -> int:
    path = tmp_path / f"peak-{duration.replace(' ', '')}.yaml"
    path.write_text(SCENARIO.format(duration=duration))
    code = _PEAK.format(root=str(ROOT), path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return int(out.stdout.split()[-1])


def test_live_memory_does_not_grow_with_duration(tmp_path: Path) -> None:
    # 12 + 20 receivers at 30 fps: 23,040 more frame rows in 24 s more, 88 B each as
    # floats (2.0 MB) if nothing left memory, plus 8 segment rows per second; spilled,
    # only the last chunks stay.
    short = _simulation_peak(tmp_path, "4 s")
    long = _simulation_peak(tmp_path, "28 s")
    assert long - short < 700_000, (short, long)
