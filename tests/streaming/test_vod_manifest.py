"""course_video with a manifest of actual segment sizes, and the DASH rules in the engine.

Download times are checked by hand: the request (500 B) goes up and the segment
down a 10 Mbit/s access link with 1 ms each way, as in test_vod.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import sabre_dir

from sim.cli.main import main
from sim.run.builder import Run
from sim.scenario.loader import load_scenario

RATE = 10e6
DELAY = 0.001
REQUEST = 500.0

SCENARIO = """\
name: vod-manifest
duration: 120 s
nodes:
  - {{name: mec1, kind: mec}}
  - name: learners
    kind: users
    count: 1
    attach: mec1
    access: {{bandwidth: 10 Mbps, delay: 1 ms}}
workloads:
  - kind: course_video
    name: lecture
    clients: [learners]
{fields}
"""

# Three 2 s segments at two levels (1 and 4 Mbit/s nominal), sizes around nominal.
SIZES_BITS = [[1.5e6, 7.0e6], [2.5e6, 9.0e6], [1.8e6, 8.2e6]]


def fetch_time(size_bytes: float) -> float:
    return (DELAY + 8 * REQUEST / RATE) + (DELAY + 8 * size_bytes / RATE)


def write(tmp_path: Path, fields: str) -> Path:
    path = tmp_path / "vod.yaml"
    path.write_text(SCENARIO.format(fields=fields), encoding="utf-8")
    return path


def execute(path: Path) -> dict[str, Any]:
    loaded = load_scenario(path)
    out = Run(loaded.scenario, str(path.parent)).execute()
    return {"segments": out.tables["segments"], "summary": out.summary["sessions"]["lecture"]}


def json_manifest(tmp_path: Path) -> None:
    (tmp_path / "video.json").write_text(json.dumps({
        "segment_duration_ms": 2000, "bitrates_kbps": [1000, 4000],
        "segment_sizes_bits": SIZES_BITS}), encoding="utf-8")


def test_json_manifest_sizes_drive_the_downloads(tmp_path: Path) -> None:
    json_manifest(tmp_path)
    out = execute(write(tmp_path, "    manifest: video.json\n"
                        "    abr: {name: fixed, params: {level: 1}}"))
    seg = out["segments"]
    sizes = [row[1] / 8 for row in SIZES_BITS]  # bytes at level 1
    assert list(seg["segment"]) == [0, 1, 2]  # segments default to the manifest's count
    assert list(seg["bytes"]) == sizes
    assert np.allclose(seg["download_time"], [fetch_time(s) for s in sizes], rtol=1e-9)
    # The first segment's real size sets the startup delay, not 4 Mbit/s x 2 s.
    assert out["summary"]["startup_delay_s"]["mean"] == pytest.approx(fetch_time(sizes[0]))
    assert fetch_time(sizes[0]) != pytest.approx(fetch_time(4e6 * 2 / 8))


def test_csv_manifest_and_fewer_segments(tmp_path: Path) -> None:
    rows = "\n".join(",".join(str(b / 8) for b in row) for row in SIZES_BITS)
    (tmp_path / "video.csv").write_text("1000000,4000000\n" + rows + "\n", encoding="utf-8")
    out = execute(write(tmp_path, "    manifest: video.csv\n    segments: 2\n"
                        "    segment_duration: 2 s\n"
                        "    abr: {name: fixed, params: {level: 0}}"))
    seg = out["segments"]
    assert list(seg["bytes"]) == [SIZES_BITS[0][0] / 8, SIZES_BITS[1][0] / 8]
    assert list(seg["bitrate_bps"]) == [1e6, 1e6]


@pytest.mark.parametrize(("setup", "fields", "where", "message"), [
    (None, "    manifest: nowhere.json", "workloads[0].manifest", "not found"),
    ("csv", "    manifest: video.csv", "workloads[0].manifest", "line 3"),
    ("json", "    manifest: video.json\n    segments: 4", "workloads[0].manifest",
     "exceeds the manifest's 3"),
    ("json", "    manifest: video.json\n    segment_duration: 4 s", "workloads[0].manifest",
     "last 2 s"),
    ("json", "    manifest: video.json\n    ladder: [1 Mbps]", "workloads[0]", "not both"),
    (None, "    segment_duration: 2 s", "workloads[0]", "give `segments`"),
    ("json", "    manifest: video.json\n    max_buffer: 10 s\n"
     "    abr: {name: bba, params: {reservoir: 0.4, cushion: 0.5}}",
     "workloads[0].abr.params", "top rungs"),
])
def test_manifest_problems_are_located(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       setup: str | None, fields: str, where: str,
                                       message: str) -> None:
    if setup == "json":
        json_manifest(tmp_path)
    elif setup == "csv":
        (tmp_path / "video.csv").write_text("1000000,4000000\n10,20\n30,fast\n")
    path = write(tmp_path, fields)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "vod.yaml:" in err and where in err and message in err, err
    assert "Traceback" not in err


def test_bba_unreachable_top_is_a_located_error_without_manifest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 25 s buffer, 3 s segments: requests only up to 22 s; 0.4 + 0.6 of 25 s is 25 s.
    path = write(tmp_path, "    segments: 5\n    segment_duration: 3 s\n    max_buffer: 25 s\n"
                 "    abr: {name: bba, params: {reservoir: 0.4, cushion: 0.6}}")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "workloads[0].abr.params" in err and "up to 22 s" in err


@pytest.mark.parametrize("abr", ["{name: dynamic}",
                                 "{name: bola_e, params: {estimator: mean, window: 3}}"])
def test_dash_rules_start_on_the_throughput_level(tmp_path: Path, abr: str) -> None:
    ladder = (1e6, 2.5e6, 5e6, 8e6, 12e6)
    out = execute(write(tmp_path, "    segments: 4\n    segment_duration: 2 s\n"
                        "    ladder: [1 Mbps, 2.5 Mbps, 5 Mbps, 8 Mbps, 12 Mbps]\n"
                        f"    abr: {abr}"))
    levels = list(out["segments"]["level"])
    assert levels[0] == 0
    # The first sample: 250 kB in fetch_time(250 kB); 0.9 of it picks the second level.
    first = 8 * 250e3 / fetch_time(250e3)
    expected = max(m for m, r in enumerate(ladder) if r <= 0.9 * first)
    assert levels[1] == expected == 3
    assert out["summary"]["completed"] == 1



def test_the_bbb_manifest_in_a_scenario(tmp_path: Path) -> None:
    bbb = sabre_dir() / "bbb.json"
    first_row = json.loads(bbb.read_text())["segment_sizes_bits"][0]
    out = execute(write(tmp_path, f"    manifest: {bbb}\n    segments: 3\n"
                        "    abr: {name: fixed, params: {level: 0}}"))
    seg = out["segments"]
    assert seg["bytes"][0] == first_row[0] / 8
    assert seg["download_time"][0] == pytest.approx(fetch_time(first_row[0] / 8), rel=1e-9)
