"""A3 handover: the crossing point from geometry, time-to-trigger, ping-pong, interruption."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.radio.handover import A3Handover, HandoverRecords

P_DBM, EXPONENT = 46.0, 3.5
CELLS = np.array([[0.0, 0.0], [1000.0, 0.0]])


def rsrp_at(pos: np.ndarray) -> np.ndarray:
    """P − 10·n·log10(d) to each cell, (n_ue, n_cell)."""
    d = np.hypot(pos[:, None, 0] - CELLS[None, :, 0], pos[:, None, 1] - CELLS[None, :, 1])
    out: np.ndarray = P_DBM - 10 * EXPONENT * np.log10(d)
    return out


def crossing_x(hys_db: float, y: np.ndarray) -> np.ndarray:
    """x where RSRP_B − RSRP_A = hys on the line at height y.

    d_A / d_B = k with k = 10^(hys / 10n): (1 − k²)x² + 2000k²x + (1 − k²)y² − 10⁶k² = 0.
    """
    k2 = 10 ** (2 * hys_db / (10 * EXPONENT))
    a, b, c = 1 - k2, 2000 * k2, (1 - k2) * y**2 - 1e6 * k2
    if abs(a) < 1e-15:
        return -c / b
    return (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)


def drive(ho: A3Handover, x0: np.ndarray, y: np.ndarray, v: np.ndarray, dt: float,
          steps: int) -> HandoverRecords:
    parts = []
    for k in range(steps + 1):
        t = k * dt
        pos = np.column_stack((x0 + v * t, y))
        parts.append(ho.update(rsrp_at(pos), t))
    return HandoverRecords.concat(parts)


@pytest.mark.parametrize(("hys", "ttt", "dt"), [(3.0, 0.32, 0.1), (0.0, 0.0, 0.1),
                                                 (6.0, 2.5, 1.0)])
def test_straight_line_hands_over_once_where_the_margin_is_crossed(
    hys: float, ttt: float, dt: float
) -> None:
    y = np.array([0.0, 50.0, 200.0, 0.0])
    v = np.array([10.0, 10.0, 13.0, 30.0])
    x0 = np.array([100.0, 150.0, 100.0, 50.0])
    steps = round(80.0 / dt)
    ho = A3Handover(hys, ttt, interruption_s=0.05)
    rec = drive(ho, x0, y, v, dt, steps)
    assert sorted(rec.ue.tolist()) == [0, 1, 2, 3]  # each UE exactly once
    order = np.argsort(rec.ue)
    t_ho = rec.time_s[order]
    assert rec.source.tolist() == [0] * 4 and rec.target.tolist() == [1] * 4
    t_cross = (crossing_x(hys, y) - x0) / v
    # Conditions are only seen at updates: the condition is first seen at the next
    # update after the crossing, and the handover fires at the first update at least
    # TTT later, i.e. TTT rounded up to whole update intervals.
    ttt_up = math.ceil(ttt / dt - 1e-9) * dt
    first_seen = (np.floor(t_cross / dt) + 1) * dt
    np.testing.assert_allclose(t_ho, first_seen + ttt_up, atol=1e-9)
    assert np.all(t_ho >= t_cross + ttt - 1e-9)
    assert np.all(t_ho <= t_cross + ttt_up + dt + 1e-9)
    x_ho = x0 + v * t_ho
    x_cross = crossing_x(hys, y)
    assert np.all(x_ho >= x_cross + v * ttt - 1e-6)
    assert np.all(x_ho <= x_cross + v * (ttt_up + dt) + 1e-6)
    want = rsrp_at(np.column_stack((x_ho, y)))
    np.testing.assert_allclose(rec.rsrp_source_dbm[order], want[:, 0])
    np.testing.assert_allclose(rec.rsrp_target_dbm[order], want[:, 1])
    assert ho.serving.tolist() == [1, 1, 1, 1]
    assert len(ho.history()) == 4


def test_no_handover_when_hysteresis_exceeds_the_largest_margin() -> None:
    x0, y, v = np.array([100.0]), np.array([0.0]), np.array([10.0])
    # At the end of the path (x = 900) the margin is 10n·log10(900/100) ≈ 33.4 dB.
    biggest = 10 * EXPONENT * math.log10(900 / 100)
    assert len(drive(A3Handover(biggest + 0.5, 0.0, 0.0), x0, y, v, 0.5, 160)) == 0
    assert len(drive(A3Handover(biggest - 0.5, 0.0, 0.0), x0, y, v, 0.5, 160)) == 1


def test_initial_attachment_is_best_server() -> None:
    rsrp = np.random.default_rng(1).normal(-90, 10, (200, 7))
    ho = A3Handover(3.0, 0.1, 0.05)
    assert len(ho.update(rsrp, 0.0)) == 0
    assert np.array_equal(ho.serving, rsrp.argmax(axis=1))
    # The same matrix again triggers nothing: every UE is on its best cell.
    assert len(ho.update(rsrp, 1.0)) == 0


def _border(swing_db: float, pattern: list[int], n_updates: int) -> list[np.ndarray]:
    """One UE between two cells; B − A alternates ±swing following ``pattern``."""
    out = []
    for k in range(n_updates):
        s = swing_db if pattern[k % len(pattern)] else -swing_db
        out.append(np.array([[-80.0, -80.0 + s]]))
    return out


def _count(ho: A3Handover, mats: list[np.ndarray], dt: float) -> int:
    return sum(len(ho.update(m, k * dt)) for k, m in enumerate(mats))


def test_hysteresis_suppresses_ping_pong() -> None:
    mats = _border(2.5, [0, 1], 200)
    assert _count(A3Handover(3.0, 0.0, 0.0), mats, 0.1) == 0
    # Without hysteresis and TTT the same fluctuation ping-pongs every update.
    assert _count(A3Handover(0.0, 0.0, 0.0), mats, 0.1) == 199


def test_time_to_trigger_suppresses_short_excursions() -> None:
    # The neighbour is ahead for 3 updates at a time (0.2 s elapsed since entry).
    mats = _border(2.5, [0, 0, 0, 1, 1, 1], 300)
    assert _count(A3Handover(1.0, 0.32, 0.0), mats, 0.1) == 0
    assert _count(A3Handover(1.0, 0.2, 0.0), mats, 0.1) > 0


def test_time_to_trigger_restarts_when_the_best_neighbour_changes() -> None:
    # Serving A; B and C take turns being best, each 5 dB above A.
    ab = np.array([[-90.0, -85.0, -87.0]])
    ac = np.array([[-90.0, -87.0, -85.0]])
    ho = A3Handover(3.0, 0.25, 0.0)
    ho.update(np.array([[-80.0, -90.0, -90.0]]), 0.0)
    for k in range(1, 41):  # ends on C at t = 4.0
        rec = ho.update(ab if k % 2 else ac, k * 0.1)
        assert len(rec) == 0
        assert ho.trigger_start[0] == pytest.approx(k * 0.1)
    # A steady best neighbour fires once 0.25 s have passed: at the 4th update.
    t0 = 4.1
    for k in range(4):
        rec = ho.update(ab, t0 + k * 0.1)
        assert len(rec) == (1 if k == 3 else 0)
    assert rec.target.tolist() == [1]
    assert ho.serving.tolist() == [1]


def test_interrupted_exactly_during_the_interruption() -> None:
    interruption = 0.05
    ho = A3Handover(3.0, 0.0, interruption)
    to_a = np.array([[-80.0, -90.0], [-80.0, -90.0]])
    to_b = np.array([[-90.0, -80.0], [-80.0, -90.0]])  # UE 0 wants B, UE 1 stays on A
    ho.update(to_a, 0.0)
    assert not ho.interrupted(0.0).any()
    t_ho = 1.3
    rec = ho.update(to_b, t_ho)
    assert rec.ue.tolist() == [0] and rec.time_s.tolist() == [t_ho]
    end = t_ho + interruption
    assert ho.interruption_end[0] == end
    assert ho.interrupted(t_ho).tolist() == [True, False]
    assert ho.interrupted(end - 1e-9).tolist() == [True, False]
    assert ho.interrupted(end).tolist() == [False, False]
    assert ho.interrupted(t_ho - 1e-9).tolist() == [False, False]
    # While interrupted the UE cannot hand back, however strong the old cell.
    back = np.array([[-70.0, -90.0], [-80.0, -90.0]])
    assert len(ho.update(back, t_ho + 0.01)) == 0
    assert len(ho.update(back, end - 1e-6)) == 0
    rec = ho.update(back, end)
    assert rec.ue.tolist() == [0] and rec.source.tolist() == [1] and rec.target.tolist() == [0]


def test_negative_offset_uses_the_best_neighbour() -> None:
    # offset −2 dB: a neighbour 1 dB weaker than the serving cell already triggers.
    ho = A3Handover(0.5, 0.0, 0.0, offset_db=-2.0)
    ho.update(np.array([[-80.0, -95.0, -81.0]]), 0.0)
    rec = ho.update(np.array([[-80.0, -95.0, -81.0]]), 0.1)
    assert rec.target.tolist() == [2]


def test_records_columns_are_a_tidy_table() -> None:
    ho = A3Handover(0.0, 0.0, 0.0)
    ho.update(np.array([[-80.0, -90.0]] * 3), 0.0)
    rec = ho.update(np.array([[-80.0, -90.0], [-90.0, -80.0], [-90.0, -80.0]]), 2.0)
    cols = rec.columns()
    assert list(cols) == ["time_s", "ue", "source", "target", "rsrp_source_dbm",
                          "rsrp_target_dbm"]
    assert {len(c) for c in cols.values()} == {2}
    assert cols["ue"].tolist() == [1, 2]
    assert cols["rsrp_target_dbm"].tolist() == [-80.0, -80.0]
    assert len(HandoverRecords.concat([])) == 0


def test_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="hysteresis"):
        A3Handover(-1.0, 0.0, 0.0)
    ho = A3Handover(1.0, 0.0, 0.0)
    ho.update(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="shape"):
        ho.update(np.zeros((2, 4)), 2.0)
    with pytest.raises(ValueError, match="not before"):
        ho.update(np.zeros((2, 3)), 0.5)
