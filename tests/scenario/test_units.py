"""Parsing quantities with units, and the pydantic types built on them."""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel, ValidationError

from sim.scenario.quantities import Fraction, PositiveRate, Probability, Size
from sim.scenario.units import (
    UnitError,
    format_quantity,
    parse_duration,
    parse_fraction,
    parse_frequency,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100 Mbps", 100e6), ("100Mbps", 100e6), ("1 Gbps", 1e9), ("10 kbps", 1e4),
        ("10 Kbps", 1e4), ("2.5 Mbit/s", 2.5e6), ("3 Mb/s", 3e6), ("1 Tbps", 1e12),
        ("7 bps", 7.0), ("7 bit/s", 7.0), ("1 B/s", 8.0), ("1 MB/s", 8e6), ("1e3 bps", 1e3),
        (5, 5.0), (2.5, 2.5), ("5", 5.0),
    ],
)
def test_rates(text: object, expected: float) -> None:
    assert parse_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 kB", 1e4), ("10 KB", 1e4), ("1.5 GB", 1.5e9), ("1 MB", 1e6), ("3 B", 3.0),
        ("1 byte", 1.0), ("1 KiB", 1024.0), ("2 MiB", 2 * 1024.0**2), ("1 GiB", 1024.0**3),
        ("8 bit", 1.0), ("1 Mb", 125e3), ("1 Mbit", 125e3), (1460, 1460.0),
    ],
)
def test_sizes(text: object, expected: float) -> None:
    assert parse_size(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 ms", 5e-3), ("5ms", 5e-3), ("30 s", 30.0), ("3 us", 3e-6), ("3 µs", 3e-6),
        ("2 min", 120.0), ("1 h", 3600.0), ("10 ns", 1e-8), (0.25, 0.25), ("1.5 seconds", 1.5),
    ],
)
def test_durations(text: object, expected: float) -> None:
    assert parse_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.5 GHz", 3.5e9), ("15 kHz", 15e3), ("100 MHz", 1e8), ("2 /s", 2.0), ("2/s", 2.0),
        ("30 /min", 0.5), ("60 /h", 1 / 60), ("1 Hz", 1.0), (4, 4.0),
    ],
)
def test_frequencies(text: object, expected: float) -> None:
    assert parse_frequency(text) == pytest.approx(expected)


@pytest.mark.parametrize(("text", "expected"), [("5%", 0.05), ("50 %", 0.5), (0.3, 0.3), (1, 1.0)])
def test_fractions(text: object, expected: float) -> None:
    assert parse_fraction(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        (parse_rate, "10 Mbs", '"10 Mbs" is not a rate (e.g. "10 Mbps")'),
        (parse_rate, "10 MB", '"10 MB" is not a rate'),  # a size, not a rate
        (parse_size, "1 mB", '"1 mB" is not a size (e.g. "10 kB")'),
        (parse_size, "kB", '"kB" is not a size'),
        (parse_duration, "5 Mbps", '"5 Mbps" is not a duration (e.g. "5 ms")'),
        (parse_duration, "", '"" is not a duration'),
        (parse_frequency, "2 per hour", '"2 per hour" is not a frequency'),
        (parse_fraction, "5 %%", '"5 %%" is not a fraction'),
        (parse_rate, True, "True is not a rate"),
        (parse_duration, False, "False is not a duration"),
        (parse_rate, None, "None is not a rate"),
        (parse_rate, [1], "[1] is not a rate"),
        (parse_rate, "inf", '"inf" is not a rate'),
        (parse_rate, "nan Mbps", '"nan Mbps" is not a rate'),
        (parse_rate, math.inf, "inf is not a finite rate"),
        (parse_duration, math.nan, "nan is not a finite duration"),
        (parse_size, "1e400 B", '"1e400 B" is not a finite size'),
        (parse_size, 10**400, "is not a finite size"),
    ],
)
def test_rejects(parse: object, value: object, message: str) -> None:
    assert callable(parse)
    with pytest.raises(UnitError) as info:
        parse(value)
    assert message in str(info.value)


def test_format_quantity() -> None:
    assert format_quantity(100e6, "rate") == "100 Mbps"
    assert format_quantity(0.005, "duration") == "5 ms"
    assert format_quantity(1500, "size") == "1.5 kB"
    assert format_quantity(3.5e9, "frequency") == "3.5 GHz"
    assert format_quantity(0.25, "fraction") == "0.25"


class _Model(BaseModel):
    rate: PositiveRate = 1.0
    size: Size = 0.0
    share: Fraction = 0.0
    loss: Probability = 0.0


@pytest.mark.parametrize(
    ("data", "error_type", "message"),
    [
        ({"rate": 0}, "range", "0 must be positive"),
        ({"rate": "-1 Mbps"}, "range", '"-1 Mbps" must be positive'),
        ({"size": "-1 kB"}, "range", '"-1 kB" must be non-negative'),
        ({"share": "150%"}, "range", '"150%" must be at most 1'),
        ({"loss": 1}, "range", "1 must be less than 1"),
        ({"rate": "fast"}, "quantity", '"fast" is not a rate'),
    ],
)
def test_quantity_types(data: dict[str, object], error_type: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        _Model.model_validate(data)
    (error,) = info.value.errors()
    assert error["type"] == error_type
    assert message in error["msg"]


def test_quantity_types_accept() -> None:
    model = _Model.model_validate({"rate": "1 Gbps", "size": "2 KiB", "share": "5%", "loss": 0.5})
    assert (model.rate, model.size, model.share, model.loss) == (1e9, 2048.0, 0.05, 0.5)
