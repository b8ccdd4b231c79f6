"""Closed-form results of queueing theory that the simulator is checked against.

Nothing in the simulator uses this module; tests and benchmarks compare with it.

Formulas from Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing
Theory*, 4th ed., sections 2.2 (M/M/1) and 2.3 (M/M/c), and Kleinrock,
*Queueing Systems* vol. 1, section 3.5 (Erlang's C formula).
"""

from __future__ import annotations


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c, offered load a = λ/μ (Erlang C)."""
    if offered >= servers:
        return 1.0
    # Erlang B by its stable recursion, then C = B / (1 - ρ (1 - B)).
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    return b / (1.0 - rho * (1.0 - b))


def mmc_wait(arrival: float, service: float, servers: int) -> float:
    """Mean waiting time in queue Wq of M/M/c; `service` is the rate μ of one server."""
    c_prob = erlang_c(servers, arrival / service)
    return c_prob / (servers * service - arrival)


def mmc_response(arrival: float, service: float, servers: int) -> float:
    """Mean time in system W = Wq + 1/μ."""
    return mmc_wait(arrival, service, servers) + 1.0 / service


def mmc_in_system(arrival: float, service: float, servers: int) -> float:
    """Mean number in system L = λ W (Little)."""
    return arrival * mmc_response(arrival, service, servers)
