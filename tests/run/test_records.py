"""The record log (sim.run.records) and the VR frames spilled through it: the columns
come back as written, and a run that spills gives the table and summary of one
that keeps every frame in memory, bit for bit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.run.builder import prepared_run
from sim.run.records import ChainedTable, ColumnSpill, LazyTable, SpillFolder, table_batches
from sim.run.results import write_run
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]

SCHEMA = {"t": float, "n": np.int64, "flag": bool}

VR = """\
name: spill
seed: 3
duration: {duration}
sample_interval: 1 s
nodes:
  - {{name: cloud, kind: cloud}}
  - name: mec0
    kind: mec
    compute:
      servers: 4
      service: {{vr_render: {{dist: lognormal, mean: 5 ms, sd: 2 ms}}}}
  - name: headsets
    kind: users
    count: 10
    attach: mec0
    access: {{bandwidth: {{uplink: 20 Mbps, downlink: 200 Mbps}}, delay: 1 ms, jitter: 2 ms}}
links:
  - {{a: mec0, b: cloud, bandwidth: 10 Gbps, delay: 10 ms}}
workloads:
  - {{name: vr, kind: vr_lesson, clients: [headsets], mode: rendered, serve: nearest_mec,
     frame_rate: 60 fps, bitrate: 30 Mbps, start_spread: 1 s, deadline: 12 ms}}
"""


def _rows(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.random(n)
    t[::7] = np.nan  # NaN stays NaN, not null
    return {"t": t, "n": rng.integers(-2**62, 2**62, n), "flag": rng.random(n) < 0.5}


def test_spill_round_trip_over_chunk_boundaries() -> None:
    folder = SpillFolder()
    spill = ColumnSpill(folder, "x", SCHEMA)
    parts = [_rows(n, i) for i, n in enumerate((5, 0, 1, 1000, 3))]
    for part in parts:
        spill.write(part)
    assert spill.rows == 1009
    for name, dtype in SCHEMA.items():
        got = spill.column(name)
        want = np.concatenate([p[name] for p in parts])
        assert got.dtype == np.dtype(dtype)
        assert got.tobytes() == want.tobytes()  # bit for bit, NaN included
    batches = list(spill.batches())
    assert [len(b["t"]) for b in batches] == [5, 1, 1000, 3]  # an empty chunk adds no group
    assert batches[2]["n"].tobytes() == parts[3]["n"].tobytes()
    path = folder.path
    assert path is not None and path.exists()
    folder.remove()
    assert not path.exists()


def test_empty_spill_and_lazy_folder() -> None:
    folder = SpillFolder()
    assert folder.path is None  # nothing spilled: no folder made
    spill = ColumnSpill(folder, "e", SCHEMA)
    assert spill.column("n").dtype == np.int64
    assert len(spill.column("t")) == 0
    assert list(spill.batches()) == []
    folder.remove()


def test_lazy_and_chained_tables() -> None:
    a = {"x": np.arange(3.0), "y": np.arange(3)}
    lazy = LazyTable(["x", "y"], lambda name: a[name] * 2, lambda: iter([a, a]))
    assert list(lazy) == ["x", "y"] and len(lazy) == 2
    assert np.array_equal(lazy["x"], 2 * a["x"])
    with pytest.raises(KeyError):
        lazy["z"]
    chained = ChainedTable([a, lazy])
    assert np.array_equal(chained["y"], [0, 1, 2, 0, 2, 4])
    assert [len(b["x"]) for b in table_batches(chained)] == [3, 3, 3]
    assert [len(b["x"]) for b in table_batches(a)] == [3]


def _vr_run(tmp_path: Path, spill_rows: int, duration: str) -> tuple[str, dict[str, np.ndarray]]:
    import streaming.vr as vr

    path = tmp_path / "spill.yaml"
    path.write_text(VR.format(duration=duration))
    old = vr.SPILL_ROWS
    vr.SPILL_ROWS = spill_rows
    try:
        run = prepared_run(load_scenario(path))  # takes a summary before the run, too
        output = run.execute()
        folder = write_run(output, tmp_path / f"out{spill_rows}", plots=False)
    finally:
        vr.SPILL_ROWS = old
    table = pq.read_table(folder / "tables" / "frames.parquet")
    cols = {name: table.column(name).to_numpy(zero_copy_only=False)
            for name in table.column_names}
    return (folder / "summary.json").read_text(), cols


def test_spilled_frames_equal_frames_in_memory(tmp_path: Path) -> None:
    # 12 finished frames per spill (hundreds of spills), against one spill never reached.
    summary_mem, mem = _vr_run(tmp_path, 1 << 30, "4 s")
    summary_spill, spilled = _vr_run(tmp_path, 12, "4 s")
    assert json.loads(summary_mem)["frames"]["vr"]["frames"] > 2000
    assert summary_spill == summary_mem
    assert list(spilled) == list(mem)
    for name, values in mem.items():
        other = spilled[name]
        assert other.dtype == values.dtype, name
        if values.dtype.kind == "f":
            assert other.tobytes() == values.tobytes(), name
        else:
            assert (other == values).all(), name


_PEAK = """
import sys, tracemalloc
sys.path.insert(0, {root!r})
import sim.run.builder, streaming.vr
from sim.run.builder import Run
from sim.scenario.loader import load_scenario
sim.run.builder.FOLD_SEGMENTS = 1024
streaming.vr.SPILL_ROWS = 1024
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
    path.write_text(VR.format(duration=duration))
    code = _PEAK.format(root=str(ROOT), path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return int(out.stdout.split()[-1])


def test_simulation_memory_does_not_grow_with_duration(tmp_path: Path) -> None:
    # 10 headsets at 60 fps: 6,000 more frames per 10 s, 48 B each in memory (2.9 MB
    # more at 6T) if nothing left memory; spilled, only the last chunk stays.
    short = _simulation_peak(tmp_path, "10 s")
    long = _simulation_peak(tmp_path, "60 s")
    assert long - short < 500_000, (short, long)  # kept in memory: 1.45 MB more
