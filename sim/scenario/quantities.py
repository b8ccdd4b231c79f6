"""Pydantic field types for quantities with units.

Each type parses the unit string with :mod:`sim.scenario.units` and checks its
range in the same step, so one bad value gives exactly one message in the user's
terms ("must be positive") rather than pydantic's generic wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from sim.scenario.units import (
    UnitError,
    parse_angle,
    parse_decibel,
    parse_duration,
    parse_fraction,
    parse_frequency,
    parse_length,
    parse_power_level,
    parse_rate,
    parse_size,
    parse_speed,
    show,
)

__all__ = [
    "Angle",
    "Coordinate",
    "Decibel",
    "Duration",
    "Fraction",
    "Frequency",
    "Length",
    "NonNegativeDecibel",
    "PositiveDuration",
    "PositiveLength",
    "PositiveRate",
    "PositiveSize",
    "PowerLevel",
    "Probability",
    "QuantityInfo",
    "Size",
    "Speed",
]


@dataclass(frozen=True)
class QuantityInfo:
    """Marker in a quantity type's metadata: what it measures and its allowed range.

    Pydantic ignores it; the scenario reference (``docs/scenario.md``) reads it to
    describe the key in the user's terms (``rate > 0``).
    """

    kind: str
    bounds: str


def _quantity(
    parse: Callable[[object], float], *, minimum: float | None = None,
    strict_minimum: bool = False, maximum: float | None = None, strict_maximum: bool = False,
) -> BeforeValidator:
    def validate(value: Any) -> float:
        try:
            number = parse(value)
        except UnitError as exc:
            raise PydanticCustomError("quantity", str(exc)) from None
        if minimum is not None:
            if strict_minimum and number <= minimum:
                what = "positive" if minimum == 0 else f"greater than {minimum:g}"
                raise PydanticCustomError("range", f"{show(value)} must be {what}")
            if not strict_minimum and number < minimum:
                what = "non-negative" if minimum == 0 else f"at least {minimum:g}"
                raise PydanticCustomError("range", f"{show(value)} must be {what}")
        if maximum is not None:
            if strict_maximum and number >= maximum:
                raise PydanticCustomError("range", f"{show(value)} must be less than {maximum:g}")
            if not strict_maximum and number > maximum:
                raise PydanticCustomError("range", f"{show(value)} must be at most {maximum:g}")
        return number

    return BeforeValidator(validate)


PositiveRate = Annotated[
    float, _quantity(parse_rate, minimum=0, strict_minimum=True), QuantityInfo("rate", "> 0")
]
"""Bit rate in bit/s, > 0."""
Size = Annotated[float, _quantity(parse_size, minimum=0), QuantityInfo("size", ">= 0")]
"""Data size in bytes, >= 0."""
PositiveSize = Annotated[
    float, _quantity(parse_size, minimum=0, strict_minimum=True), QuantityInfo("size", "> 0")
]
"""Data size in bytes, > 0."""
Duration = Annotated[
    float, _quantity(parse_duration, minimum=0), QuantityInfo("duration", ">= 0")
]
"""Time span in seconds, >= 0."""
PositiveDuration = Annotated[
    float,
    _quantity(parse_duration, minimum=0, strict_minimum=True),
    QuantityInfo("duration", "> 0"),
]
"""Time span in seconds, > 0."""
Frequency = Annotated[
    float,
    _quantity(parse_frequency, minimum=0, strict_minimum=True),
    QuantityInfo("frequency", "> 0"),
]
"""Rate of events in 1/s, > 0."""
Fraction = Annotated[
    float, _quantity(parse_fraction, minimum=0, maximum=1), QuantityInfo("fraction", "0 to 1")
]
"""Fraction in [0, 1]."""
Probability = Annotated[
    float,
    _quantity(parse_fraction, minimum=0, maximum=1, strict_maximum=True),
    QuantityInfo("fraction", "0 to below 1"),
]
"""Probability in [0, 1) — used for loss, where 1 would mean nothing ever arrives."""
Length = Annotated[float, _quantity(parse_length, minimum=0), QuantityInfo("length", ">= 0")]
"""Distance or height in metres, >= 0."""
PositiveLength = Annotated[
    float, _quantity(parse_length, minimum=0, strict_minimum=True), QuantityInfo("length", "> 0")
]
"""Distance in metres, > 0."""
Coordinate = Annotated[float, _quantity(parse_length), QuantityInfo("length", "any")]
"""A coordinate in metres (may be negative)."""
Speed = Annotated[float, _quantity(parse_speed, minimum=0), QuantityInfo("speed", ">= 0")]
"""Speed in m/s, >= 0."""
Angle = Annotated[float, _quantity(parse_angle), QuantityInfo("angle", "any")]
"""Angle in degrees."""
Decibel = Annotated[float, _quantity(parse_decibel), QuantityInfo("decibel", "any")]
"""A ratio in dB."""
NonNegativeDecibel = Annotated[
    float, _quantity(parse_decibel, minimum=0), QuantityInfo("decibel", ">= 0")
]
"""A ratio in dB, >= 0."""
PowerLevel = Annotated[float, _quantity(parse_power_level), QuantityInfo("power", "any")]
"""A power in dBm."""
