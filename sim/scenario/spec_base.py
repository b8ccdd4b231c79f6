"""The base of every scenario object, and the identifier type names share.

Kept apart from :mod:`sim.scenario.schema` so that the schema's topical modules
(radio, streams) can build on it without importing each other.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

__all__ = ["Name", "QuietSpec", "Spec"]

Name = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)
]
"""Identifier of a node, workload or job kind: a letter, then letters, digits, _ or -."""


class Spec(BaseModel):
    """Base of every scenario object: immutable, unknown keys rejected.

    Validators are built on first use, not at import: the specs of some keys come from
    plug-ins (:mod:`sim.scenario.plugin_union`), which are loaded then."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class QuietSpec(Spec):
    """A Spec whose `quiet` keys are left out of its dump while they hold their default.

    For keys added after run ids were in use: the run id hashes the dumped scenario
    (:func:`sim.run.builder.run_id_of`), so a scenario that does not use such a key keeps its
    run id, its results folder and a byte-identical summary.
    """

    quiet: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _drop_quiet_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        fields = type(self).model_fields
        for key in self.quiet:
            if getattr(self, key) == fields[key].default:
                data.pop(fields[key].alias or key, None)
        return data
