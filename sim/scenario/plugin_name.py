"""Scenario keys whose value names a plug-in: checked against its registry, not a closed list.

A field typed ``Annotated[str, PluginName("streaming.abr:ABR")]`` accepts any name
registered in that registry, built in or installed through the
``edgestream.<kind>`` entry points, so a third-party ABR policy, cache, placement
policy, recommender or scheduler is selected from YAML like a built-in one.  The
registry's module is imported only when a value is checked (or the reference is
generated), which keeps the schema free of model code at import time.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from sim.registry import Registry, UnknownPluginError

__all__ = ["PluginName"]


@dataclass(frozen=True)
class PluginName:
    """Marks a string field as the name of a plug-in in ``registry`` ("module:ATTRIBUTE")."""

    registry: str

    def registry_object(self) -> Registry[Any]:
        module, attribute = self.registry.split(":")
        found: Registry[Any] = getattr(importlib.import_module(module), attribute)
        return found

    def resolve(self) -> Registry[Any]:
        """The registry, with the installed plug-ins of its kind loaded."""
        found = self.registry_object()
        found.load_entry_points()
        return found

    def names(self) -> list[str]:
        return self.resolve().names()

    def _check(self, value: str) -> str:
        try:  # a built-in name needs no scan of the installed plug-ins
            self.registry_object().get(value)
        except UnknownPluginError as exc:
            raise ValueError(str(exc)) from None
        return value

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))
