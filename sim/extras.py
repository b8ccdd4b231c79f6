"""Optional dependencies: the extras of setup.cfg, checked where a command needs one.

The Dask backend of ``sweep`` and the live mode (``live``, ``calibrate``) need
packages that a simulated run never uses, so they are the extras ``[dask]`` and
``[live]`` and are imported only where used. A missing one is a one-line error
that names the extra to install, raised before any work starts, never a traceback
from deep inside a run.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtraError", "require_extra"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "dask": ("dask", "distributed"),
    "live": ("aiortc", "av"),
}
"""Each extra of setup.cfg and the top-level modules it installs."""


class MissingExtraError(Exception):
    """A command needs an extra that is not installed; the message says how to install it."""


def require_extra(extra: str, needed_by: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of `extra` can be imported.

    Only looks the modules up (``find_spec``): the live mode's parent process never
    uses aiortc itself, its peer processes do, so importing it here would only cost
    time and memory.
    """
    missing = [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"{needed_by} needs the [{extra}] extra ({', '.join(missing)} not installed): "
            f'pip install -e ".[{extra}]" in a checkout, or pip install "edgestream[{extra}]"'
        )
