"""The bitrate ladder of one video: the quality levels an ABR policy chooses among.

A ladder is the list of encoded bitrates (ascending, index 0 the lowest) and the segment
duration.  Real encodings are variable-bitrate, so a ladder may also carry the actual
size of every segment at every level; without them a segment's size is its nominal
``bitrate * duration / 8`` bytes.  Units are SI throughout: bit/s, seconds, bytes.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LADDER",
    "Ladder",
    "default_ladder",
    "ladder_from_kbps",
    "load_csv_manifest",
    "load_manifest",
    "load_sabre_manifest",
]


@dataclass(frozen=True)
class Ladder:
    """Bitrates (bit/s, strictly ascending), segment duration (s), optional sizes (bytes).

    `segment_sizes[i][m]` is the size of segment i at level m; when given, the number of
    rows is the number of segments of the video.  `labels` names the levels (``"720p"``)
    for tables and plots only.
    """

    bitrates: tuple[float, ...]
    segment_duration: float
    segment_sizes: tuple[tuple[float, ...], ...] | None = None
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.bitrates:
            raise ValueError("ladder bitrates must not be empty")
        if any(not math.isfinite(r) or r <= 0 for r in self.bitrates):
            raise ValueError("ladder bitrates must be positive and finite")
        if any(b <= a for a, b in pairwise(self.bitrates)):
            raise ValueError("ladder bitrates must be strictly ascending")
        if not math.isfinite(self.segment_duration) or self.segment_duration <= 0:
            raise ValueError("ladder segment_duration must be positive and finite")
        if self.segment_sizes is not None:
            if not self.segment_sizes:
                raise ValueError("ladder segment_sizes must have at least one segment")
            for i, row in enumerate(self.segment_sizes):
                if len(row) != len(self.bitrates):
                    raise ValueError(f"ladder segment_sizes row {i} has {len(row)} sizes, "
                                     f"expected one per level ({len(self.bitrates)})")
                if any(not math.isfinite(s) or s <= 0 for s in row):
                    raise ValueError(f"ladder segment_sizes row {i} has a size that is "
                                     "not positive and finite")
        if self.labels is not None and len(self.labels) != len(self.bitrates):
            raise ValueError("ladder labels must name every level")

    @property
    def levels(self) -> int:
        """Number of quality levels."""
        return len(self.bitrates)

    @property
    def segments(self) -> int | None:
        """Number of segments when the sizes are listed, else None (length set elsewhere)."""
        return None if self.segment_sizes is None else len(self.segment_sizes)

    @property
    def max_bitrate(self) -> float:
        return self.bitrates[-1]

    @property
    def min_bitrate(self) -> float:
        return self.bitrates[0]

    def size(self, segment: int, level: int) -> float:
        """Size in bytes of `segment` at `level`: the listed size, else nominal."""
        self.check_level(level)
        if segment < 0:
            raise ValueError(f"segment index {segment} is negative")
        if self.segment_sizes is not None:
            if segment >= len(self.segment_sizes):
                raise ValueError(f"segment {segment} is beyond the {len(self.segment_sizes)} "
                                 "segments of the ladder")
            return self.segment_sizes[segment][level]
        return self.bitrates[level] * self.segment_duration / 8.0

    def highest_at_most(self, rate: float) -> int:
        """Index of the highest level whose bitrate is <= `rate`; the lowest if none is."""
        best = 0
        for m, r in enumerate(self.bitrates):
            if r <= rate:
                best = m
        return best

    def check_level(self, level: int) -> None:
        """Raise ValueError unless `level` indexes the ladder."""
        if not 0 <= level < len(self.bitrates):
            raise ValueError(f"level {level} is outside the ladder (0..{len(self.bitrates) - 1})")


# Apple, "HLS Authoring Specification for Apple Devices", recommended 16:9 video
# variants (average bit rates): H.264 416x234 at 145 kbit/s, 640x360 at 365,
# 768x432 at 1100, 960x540 at 2000, 1280x720 at 4500, 1920x1080 at 7800 (the top
# variant of each resolution), and the top HEVC variant for 3840x2160 at 16800 kbit/s
# (the H.264 table stops at 1080p).
_DEFAULT_RUNGS: tuple[tuple[str, float], ...] = (
    ("240p", 145e3),
    ("360p", 365e3),
    ("432p", 1100e3),
    ("540p", 2000e3),
    ("720p", 4500e3),
    ("1080p", 7800e3),
    ("2160p", 16800e3),
)


def default_ladder(segment_duration: float = 4.0) -> Ladder:
    """A 240p..4K ladder with the bitrates of Apple's HLS authoring recommendation.

    One rung per resolution (the highest the specification lists for it), so steps are
    roughly x2, a common ladder shape.  ``240p`` is the spec's 416x234 variant.  The
    default 4 s segments are a common HLS/DASH choice; nothing in the ladder depends on it.
    """
    return Ladder(bitrates=tuple(r for _, r in _DEFAULT_RUNGS),
                  segment_duration=segment_duration,
                  labels=tuple(name for name, _ in _DEFAULT_RUNGS))


DEFAULT_LADDER = default_ladder()
"""`default_ladder()` with 4 s segments (immutable)."""


def _number(value: Any, what: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}: {what} must be a number, got {value!r}")
    return float(value)


def load_sabre_manifest(path: str | Path) -> Ladder:
    """Read a sabre video manifest (JSON) into a `Ladder`.

    The format (``segment_duration_ms``, ``bitrates_kbps``, ``segment_sizes_bits``) is
    the one of the sabre ABR simulator's example manifests; see
    shared/traces/sabre/README.md.  Units are converted to s, bit/s and bytes.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: cannot read sabre manifest: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{p}: a sabre manifest must be a JSON object")
    for key in ("segment_duration_ms", "bitrates_kbps", "segment_sizes_bits"):
        if key not in data:
            raise ValueError(f"{p}: sabre manifest lacks {key!r}")
    duration = _number(data["segment_duration_ms"], "segment_duration_ms", p) / 1000.0
    rates = data["bitrates_kbps"]
    sizes = data["segment_sizes_bits"]
    if not isinstance(rates, list):
        raise ValueError(f"{p}: bitrates_kbps must be a list")
    if not isinstance(sizes, list) or not all(isinstance(row, list) for row in sizes):
        raise ValueError(f"{p}: segment_sizes_bits must be a list of lists")
    bitrates = tuple(_number(r, "bitrates_kbps entry", p) * 1000.0 for r in rates)
    table = tuple(tuple(_number(s, f"segment_sizes_bits[{i}] entry", p) / 8.0 for s in row)
                  for i, row in enumerate(sizes))
    try:
        return Ladder(bitrates=bitrates, segment_duration=duration, segment_sizes=table)
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from exc


def load_csv_manifest(path: str | Path, segment_duration: float) -> Ladder:
    """Read a CSV manifest: a header of the levels' nominal bitrates (bit/s, ascending),
    then one row per segment with its size in bytes at every level.

    CSV carries no segment duration: it is the workload's `segment_duration`.  Errors
    name the file and line.
    """
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            rows = [(n, row) for n, row in enumerate(csv.reader(fh), start=1)
                    if row and any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{p}: cannot read CSV manifest: {exc}") from exc
    if not rows:
        raise ValueError(f"{p}: the manifest is empty")

    def numbers(line: int, row: list[str], what: str) -> tuple[float, ...]:
        try:
            values = tuple(float(c) for c in row)
        except ValueError:
            raise ValueError(f"{p}, line {line}: {what} must be numbers") from None
        if any(not math.isfinite(v) or v <= 0 for v in values):
            raise ValueError(f"{p}, line {line}: {what} must be positive and finite")
        return values

    head_line, head = rows[0]
    bitrates = numbers(head_line, head, "the header's bitrates (bit/s)")
    table: list[tuple[float, ...]] = []
    for line, row in rows[1:]:
        if len(row) != len(bitrates):
            raise ValueError(f"{p}, line {line}: {len(row)} sizes, expected one per level "
                             f"({len(bitrates)})")
        table.append(numbers(line, row, "segment sizes (bytes)"))
    if not table:
        raise ValueError(f"{p}: the manifest lists no segment")
    try:
        return Ladder(bitrates=bitrates, segment_duration=segment_duration,
                      segment_sizes=tuple(table))
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from exc


def load_manifest(path: str | Path, segment_duration: float) -> Ladder:
    """A manifest file: ``.json`` in sabre's layout (with its own segment duration),
    anything else the CSV layout of `load_csv_manifest` (with `segment_duration`)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return load_sabre_manifest(p)
    return load_csv_manifest(p, segment_duration)


def ladder_from_kbps(bitrates_kbps: Sequence[float], segment_duration: float) -> Ladder:
    """Convenience for tests and YAML: a ladder from kbit/s bitrates."""
    return Ladder(bitrates=tuple(float(r) * 1000.0 for r in bitrates_kbps),
                  segment_duration=segment_duration)
