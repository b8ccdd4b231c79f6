"""The built-in plug-ins, imported on demand by the run builder.

Plug-in modules register themselves with their registry when imported.  Importing
them here, and only when a run is built, keeps ``import sim`` free of side effects
and keeps the engine from depending on the workloads it runs.
"""

from __future__ import annotations

import importlib

__all__ = ["BUILTIN_MODULES", "load_builtin_plugins"]

BUILTIN_MODULES = ("edge.requests", "edge.learning", "streaming.vod", "streaming.vr",
                   "streaming.live")


def load_builtin_plugins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
