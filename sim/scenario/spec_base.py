"""The base of every scenario object, and the identifier type names share.

Kept apart from :mod:`sim.scenario.schema` so that the schema's topical modules
(radio, streams) can build on it without importing each other.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["Name", "Spec"]

Name = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)
]
"""Identifier of a node, workload or job kind: a letter, then letters, digits, _ or -."""


class Spec(BaseModel):
    """Base of every scenario object: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)
