"""Ladder sizes and validation, the default ladder, and the sabre manifest loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import sabre_dir

from streaming.ladder import DEFAULT_LADDER, Ladder, default_ladder, load_sabre_manifest


def test_nominal_size_is_bitrate_times_duration_over_8() -> None:
    ladder = Ladder(bitrates=(1e6, 3e6), segment_duration=4.0)
    assert ladder.size(0, 0) == 1e6 * 4 / 8 == 500_000
    assert ladder.size(123, 1) == 1_500_000
    assert ladder.segments is None
    assert ladder.levels == 2


def test_listed_sizes_win_over_nominal() -> None:
    ladder = Ladder(bitrates=(1e6, 2e6), segment_duration=2.0,
                    segment_sizes=((100.0, 200.0), (300.0, 400.0)))
    assert ladder.size(1, 0) == 300.0
    assert ladder.size(0, 1) == 200.0
    assert ladder.segments == 2
    with pytest.raises(ValueError, match="beyond"):
        ladder.size(2, 0)
    with pytest.raises(ValueError, match="outside the ladder"):
        ladder.size(0, 2)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bitrates": (), "segment_duration": 2.0}, "empty"),
    ({"bitrates": (2e6, 1e6), "segment_duration": 2.0}, "ascending"),
    ({"bitrates": (1e6, 1e6), "segment_duration": 2.0}, "ascending"),
    ({"bitrates": (0.0, 1e6), "segment_duration": 2.0}, "positive"),
    ({"bitrates": (1e6,), "segment_duration": 0.0}, "segment_duration"),
    ({"bitrates": (1e6, 2e6), "segment_duration": 2.0, "segment_sizes": ((1.0,),)}, "row 0"),
    ({"bitrates": (1e6,), "segment_duration": 2.0, "labels": ("a", "b")}, "labels"),
])
def test_invalid_ladders_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Ladder(**kwargs)  # type: ignore[arg-type]


def test_highest_at_most() -> None:
    ladder = Ladder(bitrates=(1e6, 2e6, 4e6), segment_duration=1.0)
    assert ladder.highest_at_most(0.5e6) == 0  # none fits: the lowest
    assert ladder.highest_at_most(2e6) == 1  # <= is inclusive
    assert ladder.highest_at_most(3.9e6) == 1
    assert ladder.highest_at_most(1e9) == 2


def test_default_ladder_follows_apple_hls_recommendation() -> None:
    # Apple HLS authoring spec: 416x234 145 kbit/s ... 1920x1080 7800 (H.264),
    # 3840x2160 16800 (HEVC).
    assert DEFAULT_LADDER.labels is not None
    assert DEFAULT_LADDER.labels[0] == "240p"
    assert DEFAULT_LADDER.labels[-1] == "2160p"
    assert DEFAULT_LADDER.bitrates[0] == 145e3
    assert dict(zip(DEFAULT_LADDER.labels, DEFAULT_LADDER.bitrates, strict=True))["720p"] == 4.5e6
    assert DEFAULT_LADDER.bitrates[-1] == 16.8e6
    assert default_ladder(2.0).segment_duration == 2.0


def test_sabre_manifest_bbb() -> None:
    ladder = load_sabre_manifest(sabre_dir() / "bbb.json")
    # README: 199 segments of 3 s, 10 levels, 230..6000 kbit/s.
    assert ladder.segments == 199
    assert ladder.segment_duration == 3.0
    assert ladder.levels == 10
    assert ladder.bitrates[0] == 230e3
    assert ladder.bitrates[-1] == 6000e3
    # First row of the README's example, bits -> bytes.
    assert ladder.size(0, 0) == 886360 / 8
    assert ladder.size(0, 1) == 1180512 / 8


def test_sabre_manifest_bbb4k() -> None:
    ladder = load_sabre_manifest(sabre_dir() / "bbb4k.json")
    assert ladder.segments == 199
    assert ladder.levels == 6
    assert (ladder.bitrates[0], ladder.bitrates[-1]) == (1000e3, 35000e3)


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "cannot read"),
    ("[1, 2]", "JSON object"),
    ('{"segment_duration_ms": 3000, "bitrates_kbps": [100]}', "segment_sizes_bits"),
    ('{"segment_duration_ms": 3000, "bitrates_kbps": [100, 200],'
     ' "segment_sizes_bits": [[1, 2], [3]]}', "row 1"),
    ('{"segment_duration_ms": "3s", "bitrates_kbps": [100],'
     ' "segment_sizes_bits": [[1]]}', "segment_duration_ms"),
    ('{"segment_duration_ms": 3000, "bitrates_kbps": [200, 100],'
     ' "segment_sizes_bits": [[1, 2]]}', "ascending"),
])
def test_malformed_manifest_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken_manifest.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_sabre_manifest(path)
    assert "broken_manifest.json" in str(info.value)


def test_missing_manifest_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nope\.json"):
        load_sabre_manifest(tmp_path / "nope.json")


def test_manifest_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"segment_duration_ms": 2000, "bitrates_kbps": [500, 1500],
                                "segment_sizes_bits": [[8000, 24000]]}), encoding="utf-8")
    ladder = load_sabre_manifest(path)
    assert ladder.bitrates == (500e3, 1500e3)
    assert ladder.segment_duration == 2.0
    assert ladder.size(0, 1) == 3000.0
