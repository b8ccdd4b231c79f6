"""The workload part of the scenario schema, assembled from the workload plug-ins.

The core names no workload kind: each workload plug-in brings its own spec (a
:class:`WorkloadSpec` whose ``kind`` is a ``Literal`` of its registry name), and
the ``workloads:`` list validates an entry as the spec its ``kind`` selects.  The
union of those specs is built when a scenario is first validated, after the
built-in plug-ins and the ``edgestream.workload`` entry points are loaded, so a
third-party workload is validated, located and documented like a built-in one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import Field

from sim.scenario.plugin_union import PluginUnion
from sim.scenario.spec_base import Name, Spec

if TYPE_CHECKING:
    from sim.scenario.references import ReferenceChecker

__all__ = ["WorkloadEntry", "WorkloadSpec"]


class WorkloadSpec(Spec):
    """Base of every workload's spec: the plug-in it selects and its name in results."""

    kind: str
    name: Name = Field(description="Workload name; the label in results.")

    lock_step_users: ClassVar[str | None] = None
    """The field listing the user groups whose sessions all start at ``start`` when
    ``start_spread`` is 0 and then run frame by frame in step (a warning names it),
    or None for kinds without such sessions."""

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        """Report (``checker.add``) the names this workload uses that refer to nothing,
        or to the wrong kind of node; `index` is its position in ``workloads:``.
        Reachability is checked later, by the workload's ``route_problems``."""


WorkloadEntry = Annotated[WorkloadSpec, PluginUnion("sim.run.workload:WORKLOADS", "kind")]
"""One entry of ``workloads:``, typed as the base for code that reads any workload."""
