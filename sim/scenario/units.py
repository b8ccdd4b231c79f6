"""Physical quantities written with units in scenario files.

A planner writes ``"100 Mbps"``, ``"5 ms"``, ``"10 kB"`` or ``"3.5 GHz"``; a bare
number means the SI base unit (bit/s, s, byte, Hz).  Each parser returns a float in
the base unit or raises :class:`UnitError` whose message names what was expected,
because that message is shown to the user next to the file position.

Decimal prefixes follow SI (1 kB = 1000 bytes, 1 Mbps = 10^6 bit/s); binary
prefixes (KiB, MiB, GiB) are accepted for sizes.  Units are case-sensitive where
case carries meaning: ``MB`` is megabytes, ``Mb`` megabits, ``mB`` is rejected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final

from sim.scenario.limits import MAX_SHOWN

__all__ = [
    "UnitError",
    "format_quantity",
    "parse_angle",
    "parse_decibel",
    "parse_duration",
    "parse_fraction",
    "parse_frequency",
    "parse_length",
    "parse_power_level",
    "parse_rate",
    "parse_size",
    "parse_speed",
    "show",
]


class UnitError(ValueError):
    """A value that is not the kind of quantity expected."""


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([^\s\d].*?)?\s*$")

_RATE_UNITS: Final[Mapping[str, float]] = {
    "bps": 1.0, "bit/s": 1.0, "b/s": 1.0,
    "kbps": 1e3, "kbit/s": 1e3, "kb/s": 1e3, "Kbps": 1e3,
    "Mbps": 1e6, "Mbit/s": 1e6, "Mb/s": 1e6,
    "Gbps": 1e9, "Gbit/s": 1e9, "Gb/s": 1e9,
    "Tbps": 1e12, "Tbit/s": 1e12, "Tb/s": 1e12,
    "B/s": 8.0, "kB/s": 8e3, "MB/s": 8e6, "GB/s": 8e9,
}
_SIZE_UNITS: Final[Mapping[str, float]] = {
    "B": 1.0, "byte": 1.0, "bytes": 1.0,
    "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3, "TiB": 1024.0**4,
    "bit": 0.125, "bits": 0.125, "kbit": 125.0, "Mbit": 125e3, "Gbit": 125e6,
    "kb": 125.0, "Mb": 125e3, "Gb": 125e6,
}
_DURATION_UNITS: Final[Mapping[str, float]] = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9,
    "min": 60.0, "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
}
_FREQUENCY_UNITS: Final[Mapping[str, float]] = {
    "Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9,
    "/s": 1.0, "1/s": 1.0, "per s": 1.0, "fps": 1.0, "/min": 1 / 60, "/h": 1 / 3600,
}
_FRACTION_UNITS: Final[Mapping[str, float]] = {"%": 0.01}
_LENGTH_UNITS: Final[Mapping[str, float]] = {"m": 1.0, "km": 1e3, "cm": 1e-2}
_SPEED_UNITS: Final[Mapping[str, float]] = {"m/s": 1.0, "km/h": 1 / 3.6, "kmh": 1 / 3.6}
_ANGLE_UNITS: Final[Mapping[str, float]] = {"deg": 1.0, "°": 1.0}
_DECIBEL_UNITS: Final[Mapping[str, float]] = {"dB": 1.0}


def show(value: object, limit: int = MAX_SHOWN) -> str:
    """Quote a user's value the way it looks in YAML (strings in double quotes), cut to
    ``limit`` characters.

    The value is cut *before* it is formatted: a list reached through nested YAML
    aliases can expand to gigabytes of text, and ``repr`` of it would build all of it.
    """
    text = _bounded(value, limit + 1, depth=0)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded(value: object, budget: int, depth: int) -> str:
    """At most about ``budget`` characters of ``value``; containers stop when it is spent."""
    if isinstance(value, str):
        return '"' + value[:budget] + '"'
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 3 * budget + 10:  # more digits than could be shown
            return f"<a number of {int(value.bit_length() * math.log10(2)) + 1} digits>"
        return repr(value)
    if isinstance(value, list | tuple | dict):
        if depth > 8:
            return "[...]" if not isinstance(value, dict) else "{...}"
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        items = value.items() if isinstance(value, dict) else value
        out = opening
        for i, item in enumerate(items):
            if len(out) >= budget:
                return out + "...]" if closing == "]" else out + "...}"
            out += ", " if i else ""
            if isinstance(item, tuple) and isinstance(value, dict):
                key = _bounded(item[0], budget - len(out), depth + 1)
                out += key + ": " + _bounded(item[1], budget - len(out) - len(key), depth + 1)
            else:
                out += _bounded(item, budget - len(out), depth + 1)
        return out + closing
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text[:budget]


def _parse(
    value: object, units: Mapping[str, float], kind: str, example: str
) -> float:
    if isinstance(value, bool):
        raise UnitError(f"{show(value)} is not {kind} (e.g. \"{example}\")")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond the float range
            number = math.inf if value > 0 else -math.inf
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None:
            raise UnitError(f"{show(value)} is not {kind} (e.g. \"{example}\")")
        number_text, unit = match.groups()
        number = float(number_text)
        if unit is not None:
            factor = units.get(unit)
            if factor is None:
                raise UnitError(f"{show(value)} is not {kind} (e.g. \"{example}\")")
            number *= factor
    else:
        raise UnitError(f"{show(value)} is not {kind} (e.g. \"{example}\")")
    if not math.isfinite(number):
        raise UnitError(f"{show(value)} is not a finite {kind.removeprefix('a ')}")
    return number


def parse_rate(value: object) -> float:
    """Bit rate in bit/s."""
    return _parse(value, _RATE_UNITS, "a rate", "10 Mbps")


def parse_size(value: object) -> float:
    """Data size in bytes."""
    return _parse(value, _SIZE_UNITS, "a size", "10 kB")


def parse_duration(value: object) -> float:
    """Time span in seconds."""
    return _parse(value, _DURATION_UNITS, "a duration", "5 ms")


def parse_frequency(value: object) -> float:
    """Frequency or event rate in 1/s (Hz)."""
    return _parse(value, _FREQUENCY_UNITS, "a frequency", "2 /s")


def parse_fraction(value: object) -> float:
    """Dimensionless fraction; ``"5%"`` is 0.05."""
    return _parse(value, _FRACTION_UNITS, "a fraction", "0.05 or 5%")


def parse_length(value: object) -> float:
    """Distance or height in metres."""
    return _parse(value, _LENGTH_UNITS, "a length", "25 m")


def parse_speed(value: object) -> float:
    """Speed in m/s."""
    return _parse(value, _SPEED_UNITS, "a speed", "1.4 m/s")


def parse_angle(value: object) -> float:
    """Angle in degrees (degrees are the SI-accepted unit planners use for azimuths)."""
    return _parse(value, _ANGLE_UNITS, "an angle", "120 deg")


def parse_decibel(value: object) -> float:
    """A ratio in dB (gains, noise figures, hysteresis)."""
    return _parse(value, _DECIBEL_UNITS, "a level in dB", "3 dB")


def parse_power_level(value: object) -> float:
    """A power in dBm; "W" and "mW" are converted (a bare number is dBm)."""
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is not None and match.group(2) in ("W", "mW"):
            watts = float(match.group(1)) * (1.0 if match.group(2) == "W" else 1e-3)
            if watts <= 0 or not math.isfinite(watts):
                raise UnitError(f"{show(value)} must be a positive power")
            return 10.0 * math.log10(watts * 1e3)
    return _parse(value, {"dBm": 1.0}, "a power", "46 dBm")


def format_quantity(value: float, kind: str) -> str:
    """Human-readable rendering used in tables and error messages."""
    scales: dict[str, list[tuple[float, str]]] = {
        "rate": [(1e9, "Gbps"), (1e6, "Mbps"), (1e3, "kbps"), (1.0, "bps")],
        "size": [(1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "B")],
        "duration": [(1.0, "s"), (1e-3, "ms"), (1e-6, "us")],
        "frequency": [(1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz")],
    }
    if kind == "fraction":
        return f"{value:.4g}"
    for factor, unit in scales[kind]:
        if abs(value) >= factor:
            return f"{value / factor:.4g} {unit}"
    factor, unit = scales[kind][-1]
    return f"{value / factor:.4g} {unit}"
