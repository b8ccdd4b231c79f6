"""Numbers transcribed from the 3GPP NR specifications, with nothing derived from them.

Kept apart from the models that use them so each value can be checked against its
table by eye; the table number sits next to every constant.

* TS 38.214 Tables 5.2.2.1-2, -3 and -4: the 4-bit CQI tables.
* TS 38.214 Table 5.3-1 (N1) and Table 6.4-1 (N2): UE processing capability 1.
* TS 38.101-1 Table 5.3.2-1 (FR1) and TS 38.101-2 Table 5.3.2-1 (FR2): maximum
  transmission bandwidth configuration N_RB.
* TS 38.306 section 4.1.2: overhead OH and R_max of the approximate peak data rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CQI_TABLES",
    "FR1_N_RB",
    "FR2_N_RB",
    "N1_SYMBOLS_CAP1",
    "N1_SYMBOLS_CAP1_EXTRA_DMRS",
    "N2_SYMBOLS_CAP1",
    "OVERHEAD",
    "R_MAX",
    "SUBCARRIERS_PER_PRB",
    "SYMBOLS_PER_SLOT",
    "CqiTable",
    "Direction",
    "FrequencyRange",
    "cqi_table",
    "overhead",
    "prb_count",
    "scs_to_mu",
]

FrequencyRange = Literal["FR1", "FR2"]
Direction = Literal["DL", "UL"]

SUBCARRIERS_PER_PRB: Final = 12
"""TS 38.211 section 4.4.4.1."""

SYMBOLS_PER_SLOT: Final = 14
"""Normal cyclic prefix, TS 38.211 Table 4.3.2-1."""

R_MAX: Final = 948 / 1024
"""TS 38.306 section 4.1.2: highest LDPC code rate in the approximate peak-rate formula."""

OVERHEAD: Final[Mapping[tuple[FrequencyRange, Direction], float]] = MappingProxyType({
    ("FR1", "DL"): 0.14,
    ("FR1", "UL"): 0.08,
    ("FR2", "DL"): 0.18,
    ("FR2", "UL"): 0.10,
})
"""TS 38.306 section 4.1.2: overhead OH by frequency range and direction."""


@dataclass(frozen=True, slots=True)
class CqiTable:
    """One 4-bit CQI table; entry k is CQI index k, and index 0 ("out of range") is zeros.

    `bler_target` is the transport-block error rate the CQI report promises
    (TS 38.214 section 5.2.2.1): 0.1 for tables 1 and 2, 1e-5 for table 3.
    """

    name: str
    source: str
    bler_target: float
    modulation_order: tuple[int, ...]
    code_rate_x1024: tuple[int, ...]
    efficiency: tuple[float, ...]

    def __post_init__(self) -> None:
        lengths = {len(self.modulation_order), len(self.code_rate_x1024), len(self.efficiency)}
        if lengths != {16}:
            raise ValueError(f"CQI table {self.name!r} must have 16 rows (CQI 0..15)")

    @property
    def max_cqi(self) -> int:
        return len(self.efficiency) - 1

    def efficiency_array(self) -> NDArray[np.float64]:
        """Spectral efficiency per CQI as a fresh array (callers may modify it)."""
        return np.array(self.efficiency, dtype=np.float64)


# Rows are (Q_m, code rate x 1024, efficiency) for CQI 1..15; CQI 0 is out of range.
_QPSK, _QAM16, _QAM64, _QAM256 = 2, 4, 6, 8

_TABLE_1_ROWS: Final = (
    (_QPSK, 78, 0.1523), (_QPSK, 120, 0.2344), (_QPSK, 193, 0.3770),
    (_QPSK, 308, 0.6016), (_QPSK, 449, 0.8770), (_QPSK, 602, 1.1758),
    (_QAM16, 378, 1.4766), (_QAM16, 490, 1.9141), (_QAM16, 616, 2.4063),
    (_QAM64, 466, 2.7305), (_QAM64, 567, 3.3223), (_QAM64, 666, 3.9023),
    (_QAM64, 772, 4.5234), (_QAM64, 873, 5.1152), (_QAM64, 948, 5.5547),
)
_TABLE_2_ROWS: Final = (
    (_QPSK, 78, 0.1523), (_QPSK, 193, 0.3770), (_QPSK, 449, 0.8770),
    (_QAM16, 378, 1.4766), (_QAM16, 490, 1.9141), (_QAM16, 616, 2.4063),
    (_QAM64, 466, 2.7305), (_QAM64, 567, 3.3223), (_QAM64, 666, 3.9023),
    (_QAM64, 772, 4.5234), (_QAM64, 873, 5.1152), (_QAM256, 711, 5.5547),
    (_QAM256, 797, 6.2266), (_QAM256, 885, 6.9141), (_QAM256, 948, 7.4063),
)
_TABLE_3_ROWS: Final = (
    (_QPSK, 30, 0.0586), (_QPSK, 50, 0.0977), (_QPSK, 78, 0.1523),
    (_QPSK, 120, 0.2344), (_QPSK, 193, 0.3770), (_QPSK, 308, 0.6016),
    (_QPSK, 449, 0.8770), (_QPSK, 602, 1.1758), (_QAM16, 378, 1.4766),
    (_QAM16, 490, 1.9141), (_QAM16, 616, 2.4063), (_QAM64, 466, 2.7305),
    (_QAM64, 567, 3.3223), (_QAM64, 666, 3.9023), (_QAM64, 772, 4.5234),
)


def _make_table(
    name: str, source: str, bler: float, rows: tuple[tuple[int, int, float], ...]
) -> CqiTable:
    return CqiTable(
        name=name,
        source=source,
        bler_target=bler,
        modulation_order=(0, *(r[0] for r in rows)),
        code_rate_x1024=(0, *(r[1] for r in rows)),
        efficiency=(0.0, *(r[2] for r in rows)),
    )


CQI_TABLES: Final[Mapping[str, CqiTable]] = MappingProxyType({
    "qam64": _make_table("qam64", "TS 38.214 Table 5.2.2.1-2", 0.1, _TABLE_1_ROWS),
    "qam256": _make_table("qam256", "TS 38.214 Table 5.2.2.1-3", 0.1, _TABLE_2_ROWS),
    "qam64_lowse": _make_table("qam64_lowse", "TS 38.214 Table 5.2.2.1-4", 1e-5, _TABLE_3_ROWS),
})


def cqi_table(name: str | CqiTable) -> CqiTable:
    """The CQI table called `name` (a `CqiTable` passes through)."""
    if isinstance(name, CqiTable):
        return name
    try:
        return CQI_TABLES[name]
    except KeyError:
        raise ValueError(
            f"unknown CQI table {name!r}; known: {', '.join(sorted(CQI_TABLES))}"
        ) from None


# Maximum transmission bandwidth configuration N_RB: SCS (kHz) -> {channel bandwidth (MHz): N_RB}.
# FR1 includes the 35 and 45 MHz columns added in Release 16; combinations the table
# marks N/A (e.g. 15 kHz above 50 MHz, 60 kHz at 5 MHz) are absent.
FR1_N_RB: Final[Mapping[int, Mapping[int, int]]] = MappingProxyType({
    15: MappingProxyType({
        5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 35: 188, 40: 216, 45: 242,
        50: 270,
    }),
    30: MappingProxyType({
        5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 35: 92, 40: 106, 45: 119, 50: 133,
        60: 162, 70: 189, 80: 217, 90: 245, 100: 273,
    }),
    60: MappingProxyType({
        10: 11, 15: 18, 20: 24, 25: 31, 30: 38, 35: 44, 40: 51, 45: 58, 50: 65, 60: 79,
        70: 93, 80: 107, 90: 121, 100: 135,
    }),
})
"""TS 38.101-1 Table 5.3.2-1."""

FR2_N_RB: Final[Mapping[int, Mapping[int, int]]] = MappingProxyType({
    60: MappingProxyType({50: 66, 100: 132, 200: 264}),
    120: MappingProxyType({50: 32, 100: 66, 200: 132, 400: 264}),
})
"""TS 38.101-2 Table 5.3.2-1."""

_N_RB_TABLES: Final[Mapping[FrequencyRange, tuple[str, Mapping[int, Mapping[int, int]]]]] = (
    MappingProxyType({
        "FR1": ("TS 38.101-1 Table 5.3.2-1", FR1_N_RB),
        "FR2": ("TS 38.101-2 Table 5.3.2-1", FR2_N_RB),
    })
)


def _whole_units(value: float, unit: float) -> int | None:
    """`value / unit` if that is a whole number, else None (so 99.9 MHz is not 100 MHz)."""
    ratio = value / unit
    nearest = round(ratio)
    return int(nearest) if abs(ratio - nearest) < 1e-9 * max(1.0, abs(ratio)) else None


def prb_count(bandwidth_hz: float, scs_hz: float, fr: FrequencyRange = "FR1") -> int:
    """Maximum number of PRBs N_RB of a channel bandwidth at a subcarrier spacing.

    `fr` selects the table because FR1 and FR2 both define 60 kHz at 50 and 100 MHz,
    with different N_RB (different guard bands).
    """
    if fr not in _N_RB_TABLES:
        raise ValueError(f"frequency range must be 'FR1' or 'FR2', not {fr!r}")
    source, table = _N_RB_TABLES[fr]
    bw_mhz = _whole_units(bandwidth_hz, 1e6)
    scs_khz = _whole_units(scs_hz, 1e3)
    column = table.get(scs_khz) if scs_khz is not None else None
    if column is not None and bw_mhz is not None and bw_mhz in column:
        return column[bw_mhz]
    valid = "; ".join(
        f"{scs} kHz: {', '.join(str(bw) for bw in bws)} MHz" for scs, bws in table.items()
    )
    raise ValueError(
        f"{bandwidth_hz / 1e6:g} MHz at {scs_hz / 1e3:g} kHz SCS is not in {source} ({fr}); "
        f"valid combinations are {valid}"
    )


def scs_to_mu(scs_hz: float) -> int:
    """Numerology μ of a subcarrier spacing 15 kHz · 2^μ (TS 38.211 Table 4.2-1)."""
    khz = _whole_units(scs_hz, 1e3)
    for mu in range(5):
        if khz == 15 * 2**mu:
            return mu
    raise ValueError(f"subcarrier spacing {scs_hz:g} Hz is not 15 kHz * 2^mu for mu in 0..4")


def overhead(fr: FrequencyRange, direction: Direction) -> float:
    """TS 38.306 section 4.1.2 overhead OH for a frequency range and direction."""
    try:
        return OVERHEAD[(fr, direction)]
    except KeyError:
        raise ValueError(
            f"no overhead for ({fr!r}, {direction!r}); use FR1/FR2 and DL/UL"
        ) from None


# UE processing capability 1, in OFDM symbols, by numerology μ.
N1_SYMBOLS_CAP1: Final[Mapping[int, int]] = MappingProxyType({0: 8, 1: 10, 2: 17, 3: 20})
"""TS 38.214 Table 5.3-1, PDSCH processing time N1, front-loaded DM-RS only (pos0)."""

N1_SYMBOLS_CAP1_EXTRA_DMRS: Final[Mapping[int, int]] = MappingProxyType(
    {0: 13, 1: 13, 2: 20, 3: 24}
)
"""TS 38.214 Table 5.3-1, N1 when additional DM-RS positions are configured."""

N2_SYMBOLS_CAP1: Final[Mapping[int, int]] = MappingProxyType({0: 10, 1: 12, 2: 23, 3: 36})
"""TS 38.214 Table 6.4-1, PUSCH preparation time N2."""
