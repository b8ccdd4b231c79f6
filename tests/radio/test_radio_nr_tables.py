"""The transcribed 3GPP tables, checked against values written out here from the standards."""

from __future__ import annotations

import itertools

import pytest

from sim.radio.nr_tables import (
    CQI_TABLES,
    FR1_N_RB,
    FR2_N_RB,
    N1_SYMBOLS_CAP1,
    N2_SYMBOLS_CAP1,
    OVERHEAD,
    R_MAX,
    cqi_table,
    overhead,
    prb_count,
    scs_to_mu,
)

# (table, CQI) -> (Q_m, code rate x 1024, efficiency), TS 38.214 Tables 5.2.2.1-2/-3/-4.
CQI_SPOT = {
    ("qam64", 1): (2, 78, 0.1523),
    ("qam64", 6): (2, 602, 1.1758),
    ("qam64", 7): (4, 378, 1.4766),
    ("qam64", 10): (6, 466, 2.7305),
    ("qam64", 15): (6, 948, 5.5547),
    ("qam256", 1): (2, 78, 0.1523),
    ("qam256", 3): (2, 449, 0.8770),
    ("qam256", 4): (4, 378, 1.4766),
    ("qam256", 11): (6, 873, 5.1152),
    ("qam256", 12): (8, 711, 5.5547),
    ("qam256", 15): (8, 948, 7.4063),
    ("qam64_lowse", 1): (2, 30, 0.0586),
    ("qam64_lowse", 15): (6, 772, 4.5234),
}


@pytest.mark.parametrize(("key", "row"), CQI_SPOT.items())
def test_cqi_rows(key: tuple[str, int], row: tuple[int, int, float]) -> None:
    name, cqi = key
    table = cqi_table(name)
    assert (table.modulation_order[cqi], table.code_rate_x1024[cqi], table.efficiency[cqi]) == row


@pytest.mark.parametrize("name", ["qam64", "qam256", "qam64_lowse"])
def test_cqi_table_is_self_consistent(name: str) -> None:
    table = CQI_TABLES[name]
    assert (table.modulation_order[0], table.code_rate_x1024[0], table.efficiency[0]) == (0, 0, 0)
    for k in range(1, 16):
        # The published efficiency is Q_m * R / 1024 rounded to four decimals.
        exact = table.modulation_order[k] * table.code_rate_x1024[k] / 1024
        assert abs(table.efficiency[k] - exact) <= 0.5e-4 + 1e-12, k
        assert table.modulation_order[k] in (2, 4, 6, 8)
    assert all(a < b for a, b in itertools.pairwise(table.efficiency))


def test_cqi_bler_targets_and_unknown_table() -> None:
    assert cqi_table("qam64").bler_target == 0.1
    assert cqi_table("qam256").bler_target == 0.1
    assert cqi_table("qam64_lowse").bler_target == 1e-5
    assert cqi_table(CQI_TABLES["qam64"]) is CQI_TABLES["qam64"]
    with pytest.raises(ValueError, match="qam256"):
        cqi_table("qam1024")


@pytest.mark.parametrize(
    ("bw_mhz", "scs_khz", "fr", "n_rb"),
    [
        (5, 15, "FR1", 25),
        (20, 15, "FR1", 106),
        (50, 15, "FR1", 270),
        (5, 30, "FR1", 11),
        (40, 30, "FR1", 106),
        (100, 30, "FR1", 273),
        (10, 60, "FR1", 11),
        (50, 60, "FR1", 65),
        (100, 60, "FR1", 135),
        (50, 60, "FR2", 66),
        (100, 60, "FR2", 132),
        (200, 60, "FR2", 264),
        (50, 120, "FR2", 32),
        (400, 120, "FR2", 264),
    ],
)
def test_prb_count_spot_values(bw_mhz: int, scs_khz: int, fr: str, n_rb: int) -> None:
    assert prb_count(bw_mhz * 1e6, scs_khz * 1e3, fr) == n_rb  # type: ignore[arg-type]


def test_prb_count_defaults_to_fr1() -> None:
    assert prb_count(100e6, 30e3) == 273
    assert prb_count(100_000_000, 60_000) == 135


@pytest.mark.parametrize(
    ("bw_hz", "scs_hz", "fr"),
    [
        (100e6, 15e3, "FR1"),  # N/A in the table
        (5e6, 60e3, "FR1"),  # N/A in the table
        (400e6, 120e3, "FR1"),  # FR2 only
        (100e6, 30e3, "FR2"),  # FR1 only
        (99e6, 30e3, "FR1"),  # not a channel bandwidth
        (100.5e6, 30e3, "FR1"),
        (100e6, 45e3, "FR1"),  # not an SCS
    ],
)
def test_prb_count_rejects_pairs_not_in_table(bw_hz: float, scs_hz: float, fr: str) -> None:
    with pytest.raises(ValueError, match=r"valid combinations.*kHz: .*MHz"):
        prb_count(bw_hz, scs_hz, fr)  # type: ignore[arg-type]


def test_prb_count_rejects_unknown_frequency_range() -> None:
    with pytest.raises(ValueError, match="FR1"):
        prb_count(100e6, 30e3, "FR3")  # type: ignore[arg-type]


@pytest.mark.parametrize(("fr", "table"), [("FR1", FR1_N_RB), ("FR2", FR2_N_RB)])
def test_every_prb_entry_fits_its_channel(fr: str, table: dict[int, dict[int, int]]) -> None:
    # A transcription slip shows up as an occupancy outside what guard bands allow.
    for scs_khz, column in table.items():
        for bw_mhz, n_rb in column.items():
            occupied = n_rb * 12 * scs_khz * 1e3
            assert 0.75 < occupied / (bw_mhz * 1e6) < 0.99, (fr, scs_khz, bw_mhz)
            assert prb_count(bw_mhz * 1e6, scs_khz * 1e3, fr) == n_rb  # type: ignore[arg-type]


def test_overhead_and_r_max() -> None:
    assert R_MAX == 948 / 1024
    assert overhead("FR1", "DL") == 0.14
    assert overhead("FR1", "UL") == 0.08
    assert overhead("FR2", "DL") == 0.18
    assert overhead("FR2", "UL") == 0.10
    assert len(OVERHEAD) == 4
    with pytest.raises(ValueError, match="FR1/FR2"):
        overhead("FR3", "DL")  # type: ignore[arg-type]


def test_processing_capability_1_tables() -> None:
    assert dict(N1_SYMBOLS_CAP1) == {0: 8, 1: 10, 2: 17, 3: 20}
    assert dict(N2_SYMBOLS_CAP1) == {0: 10, 1: 12, 2: 23, 3: 36}


def test_constants_are_read_only() -> None:
    with pytest.raises(TypeError):
        FR1_N_RB[30][100] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        CQI_TABLES["x"] = CQI_TABLES["qam64"]  # type: ignore[index]


def test_scs_to_mu() -> None:
    assert [scs_to_mu(s * 1e3) for s in (15, 30, 60, 120, 240)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="15 kHz"):
        scs_to_mu(45e3)
