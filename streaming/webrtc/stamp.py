"""Frame stamps: a frame's sequence number and capture time, drawn into its pixels.

Anything carried beside the frame (RTP timestamps, PTS) is rewritten by the relay,
which decodes and re-encodes the stream for every receiver, so the stamp must be
part of the picture.  It is a grid of 16 x 16 luma blocks, black for 0 and white
for 1, in the top-left corner: 32 bits of sequence number, 40 bits of capture
time in microseconds since the run's epoch (12 days of range) and a 24-bit
checksum, so a block smeared by the codec is detected instead of read as a wrong
time.  Flat blocks of full contrast survive VP8 and H.264 at any sensible
bitrate; the rest of the picture is moving noise, so the encoder has real work
and the stream has a realistic size.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["BITS", "BLOCK", "COLUMNS", "Stamp", "draw_stamp", "read_stamp"]

BLOCK = 16
"""Side of one bit's block, pixels (a VP8/H.264 macroblock)."""
COLUMNS = 12
"""Blocks per row of the stamp; it has BITS / COLUMNS rows."""
SEQ_BITS, TIME_BITS, CHECK_BITS = 32, 40, 24
BITS = SEQ_BITS + TIME_BITS + CHECK_BITS
_BLACK, _WHITE = 16, 235  # video-range luma
_ROWS = BITS // COLUMNS


class Stamp(tuple[int, int]):
    """(sequence number, capture time in microseconds since the epoch)."""

    __slots__ = ()

    def __new__(cls, seq: int, t_us: int) -> Stamp:
        return super().__new__(cls, (seq, t_us))

    @property
    def seq(self) -> int:
        return self[0]

    @property
    def t_us(self) -> int:
        return self[1]


def _check(seq: int, t_us: int) -> int:
    return zlib.crc32(seq.to_bytes(4, "big") + t_us.to_bytes(5, "big")) & ((1 << CHECK_BITS) - 1)


def _bits(value: int, width: int) -> list[int]:
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def draw_stamp(luma: np.ndarray, seq: int, t_us: int) -> None:
    """Draw the stamp into the top-left corner of a luma plane (uint8, in place)."""
    seq &= (1 << SEQ_BITS) - 1
    t_us &= (1 << TIME_BITS) - 1
    bits = _bits(seq, SEQ_BITS) + _bits(t_us, TIME_BITS) + _bits(_check(seq, t_us), CHECK_BITS)
    grid = np.array(bits, dtype=np.uint8).reshape(_ROWS, COLUMNS)
    blocks = np.where(grid == 1, _WHITE, _BLACK).astype(np.uint8)
    luma[:_ROWS * BLOCK, :COLUMNS * BLOCK] = np.kron(blocks, np.ones((BLOCK, BLOCK), np.uint8))


def read_stamp(luma: np.ndarray) -> Stamp | None:
    """The stamp of a decoded luma plane, or None if it does not check out."""
    h, w = _ROWS * BLOCK, COLUMNS * BLOCK
    if luma.shape[0] < h or luma.shape[1] < w:
        return None
    corner = luma[:h, :w].astype(np.float32).reshape(_ROWS, BLOCK, COLUMNS, BLOCK)
    # The centre of each block: its edges are where the codec smears neighbours.
    means = corner[:, 4:12, :, 4:12].mean(axis=(1, 3))
    bits = (means.reshape(-1) > (_BLACK + _WHITE) / 2).astype(np.int64)
    weights = 1 << np.arange(63, -1, -1, dtype=np.uint64)

    def value(lo: int, hi: int) -> int:
        chunk = bits[lo:hi].astype(np.uint64)
        return int((chunk * weights[64 - (hi - lo):]).sum())

    seq = value(0, SEQ_BITS)
    t_us = value(SEQ_BITS, SEQ_BITS + TIME_BITS)
    if value(SEQ_BITS + TIME_BITS, BITS) != _check(seq, t_us):
        return None
    return Stamp(seq, t_us)
