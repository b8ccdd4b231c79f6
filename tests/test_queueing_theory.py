"""The closed forms themselves, against values printed in textbooks."""

import pytest

from sim.theory import erlang_c, mmc_response, mmc_wait


def test_erlang_c_two_servers_one_erlang() -> None:
    # c = 2, a = 1: P0 = 1/3, C = a^2/(2!(1-ρ)) P0 = 1/3 (Gross et al., eq. 2.34).
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_mm1_is_mmc_with_one_server() -> None:
    # M/M/1: Wq = ρ / (μ - λ), W = 1 / (μ - λ).
    lam, mu = 0.9, 1.0
    assert mmc_wait(lam, mu, 1) == pytest.approx(0.9 / 0.1)
    assert mmc_response(lam, mu, 1) == pytest.approx(10.0)


def test_erlang_c_table_value() -> None:
    # Call-centre textbook value: 10 agents, 8 Erlangs -> P(wait) = 0.409 (3 d.p.).
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-4)
