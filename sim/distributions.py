"""Samplers for the scenario's service-time (and other duration) distributions.

Drawing one variate at a time from numpy costs about a microsecond of call
overhead; a sampler draws a block of variates at once and hands them out as plain
Python floats.  The sequence is a pure function of the stream, so runs stay
reproducible.  The registry is keyed by the ``dist`` name used in YAML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, Protocol

import numpy as np

from sim.registry import Registry
from sim.scenario.schema import (
    DeterministicDist,
    EmpiricalDist,
    ExponentialDist,
    JobCost,
    LognormalDist,
    UniformDist,
)

__all__ = ["BLOCK", "SAMPLERS", "Distribution", "Sampler", "block_sampler", "make_sampler"]

BLOCK = 4096
"""Variates drawn per refill."""


class Sampler(Protocol):
    """Hands out one variate per call."""

    def __call__(self) -> float: ...


def block_sampler(draw: Callable[[int], np.ndarray[Any, Any]]) -> Sampler:
    """A sampler serving variates from blocks produced by `draw(n)`.

    It is the ``__next__`` of a chain over the blocks, which a generator draws one
    at a time when the previous one runs out (as an index into a list would, so the
    draws are the same): calling a builtin method costs a fraction of a Python
    ``__call__``, and samplers run once per job.
    """

    def blocks() -> Iterator[list[float]]:
        while True:
            yield draw(BLOCK).tolist()

    return chain.from_iterable(blocks()).__next__


class ConstantSampler:
    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self) -> float:
        return self.value


SamplerFactory = Callable[[Any, np.random.Generator], Sampler]


@dataclass(frozen=True)
class Distribution:
    """A distribution plug-in: its spec (a :class:`~sim.scenario.schema.JobCost` with a
    ``dist`` Literal of its name) and how a sampler is made from a spec and a stream."""

    spec_class: type[JobCost]
    sampler: SamplerFactory


SAMPLERS: Registry[Distribution] = Registry("distribution")


def _deterministic(spec: DeterministicDist, rng: np.random.Generator) -> Sampler:
    return ConstantSampler(spec.value)


def _exponential(spec: ExponentialDist, rng: np.random.Generator) -> Sampler:
    mean = spec.mean()
    return block_sampler(lambda n: rng.exponential(mean, n))


def _lognormal(spec: LognormalDist, rng: np.random.Generator) -> Sampler:
    mu, sigma = spec.log_params()
    return block_sampler(lambda n: rng.lognormal(mu, sigma, n))


def _uniform(spec: UniformDist, rng: np.random.Generator) -> Sampler:
    low, high = spec.low, spec.high
    return block_sampler(lambda n: rng.uniform(low, high, n))


def _empirical(spec: EmpiricalDist, rng: np.random.Generator) -> Sampler:
    values = np.asarray(spec.values, dtype=float)
    return block_sampler(lambda n: values[rng.integers(0, len(values), n)])


for _name, _spec, _factory in (
        ("deterministic", DeterministicDist, _deterministic),
        ("exponential", ExponentialDist, _exponential),
        ("lognormal", LognormalDist, _lognormal),
        ("uniform", UniformDist, _uniform),
        ("empirical", EmpiricalDist, _empirical)):
    SAMPLERS.register(_name)(Distribution(_spec, _factory))


def make_sampler(spec: Any, rng: np.random.Generator) -> Sampler:
    """The sampler for a distribution spec (anything with a ``dist`` name)."""
    return SAMPLERS.get(spec.dist).sampler(spec, rng)
