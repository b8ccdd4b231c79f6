"""Frame stamps survive the codec, and a damaged stamp is refused, not misread."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest

from streaming.webrtc.stamp import BLOCK, draw_stamp, read_stamp


def test_a_stamp_reads_back_exactly() -> None:
    luma = np.full((240, 320), 128, np.uint8)
    draw_stamp(luma, 123_456, 987_654_321_012)
    assert read_stamp(luma) == (123_456, 987_654_321_012)


def test_a_damaged_stamp_is_refused() -> None:
    luma = np.full((240, 320), 128, np.uint8)
    draw_stamp(luma, 7, 1_000_000)
    luma[:BLOCK, :BLOCK] = 255 - luma[:BLOCK, :BLOCK]  # flip the first bit
    assert read_stamp(luma) is None
    assert read_stamp(np.zeros((64, 64), np.uint8)) is None  # too small to hold one


@pytest.mark.parametrize(("codec", "bitrate"), [("libvpx", 250_000), ("libvpx", 2_500_000),
                                               ("libx264", 500_000)])
def test_stamps_survive_the_codec_at_low_and_high_bitrate(codec: str, bitrate: int) -> None:
    rng = np.random.default_rng(3)
    enc = av.CodecContext.create(codec, "w")
    enc.width, enc.height, enc.pix_fmt, enc.bit_rate = 320, 240, "yuv420p", bitrate
    enc.time_base = fractions.Fraction(1, 30)
    enc.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0"} \
        if codec == "libvpx" else {"preset": "ultrafast", "tune": "zerolatency"}
    dec = av.CodecContext.create("libvpx" if codec == "libvpx" else "h264", "r")
    chroma = np.full((120, 320), 128, np.uint8)
    read = []
    for k in range(60):
        luma = rng.integers(96, 160, (240, 320), dtype=np.uint8)
        draw_stamp(luma, k, 40_000 * k)
        frame = av.VideoFrame.from_ndarray(np.concatenate([luma, chroma]), format="yuv420p")
        frame.pts = k
        for packet in enc.encode(frame):
            for out in dec.decode(packet):
                read.append(read_stamp(out.to_ndarray(format="gray")))
    assert read == [(k, 40_000 * k) for k in range(len(read))]
    assert len(read) >= 58
