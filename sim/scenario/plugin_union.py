"""Scenario keys whose alternatives come from a plug-in registry.

A field typed ``Annotated[Base, PluginUnion("sim.distributions:SAMPLERS", "dist")]``
validates as the discriminated union of the ``spec_class`` of every entry of that
registry, built in or installed through the ``edgestream.<kind>`` entry points:
a third-party distribution, arrival process or workload brings its own spec and is
validated, located and documented like a built-in one.  The union is built when
the enclosing model's validator is (models that hold such a field defer their
build to first use), after the registry's module and its plug-ins are loaded.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema

from sim.plugins import load_builtin_plugins
from sim.registry import Registry

__all__ = ["PluginUnion"]


@dataclass(frozen=True)
class PluginUnion:
    """Marks a field as the union of the specs registered in ``registry`` ("module:ATTR"),
    told apart by their ``discriminator`` key."""

    registry: str
    discriminator: str

    def resolve(self) -> Registry[Any]:
        """The registry, with the built-in and installed plug-ins loaded."""
        load_builtin_plugins()
        module, attribute = self.registry.split(":")
        found: Registry[Any] = getattr(importlib.import_module(module), attribute)
        found.load_entry_points()
        return found

    def expanded(self) -> object:
        """The annotation the marked field validates as."""
        registry = self.resolve()
        specs = tuple(registry.get(name).spec_class for name in registry)
        if len(specs) == 1:
            return specs[0]
        return Annotated[Union[specs], Field(discriminator=self.discriminator)]  # noqa: UP007

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        return handler.generate_schema(self.expanded())
