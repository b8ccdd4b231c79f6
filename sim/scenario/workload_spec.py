"""The workload part of the scenario schema, assembled from the workload plug-ins.

The core names no workload kind: each workload plug-in brings its own spec (a
:class:`WorkloadSpec` whose ``kind`` is a ``Literal`` of its registry name), and
the ``workloads:`` list validates an entry as the spec its ``kind`` selects.  The
union of those specs is built when a scenario is first validated, after the
built-in plug-ins and the ``edgestream.workload`` entry points are loaded, so a
third-party workload is validated, located and documented like a built-in one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema

from sim.scenario.spec_base import Name, Spec

if TYPE_CHECKING:
    from sim.scenario.references import ReferenceChecker

__all__ = ["WorkloadEntry", "WorkloadSpec", "workload_union"]


class WorkloadSpec(Spec):
    """Base of every workload's spec: the plug-in it selects and its name in results."""

    kind: str
    name: Name = Field(description="Workload name; the label in results.")

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        """Report (``checker.add``) the names this workload uses that refer to nothing,
        or to the wrong kind of node; `index` is its position in ``workloads:``.
        Reachability is checked later, by the workload's ``route_problems``."""


def workload_union() -> object:
    """The annotation of one ``workloads:`` entry: the specs of every loaded workload
    plug-in, discriminated by ``kind``."""
    from sim.run.workload import workload_specs  # loads the plug-ins

    specs = tuple(workload_specs().values())
    if len(specs) == 1:
        return specs[0]
    return Annotated[Union[specs], Field(discriminator="kind")]  # noqa: UP007


class _FromPlugins:
    """Marks a field whose type is the union of the workload plug-ins' specs."""

    expanded: Callable[[], object] = staticmethod(workload_union)

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        return handler.generate_schema(workload_union())


WorkloadEntry = Annotated[WorkloadSpec, _FromPlugins()]
"""One entry of ``workloads:``, typed as the base for code that reads any workload."""
