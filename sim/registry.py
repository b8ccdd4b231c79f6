"""One registry per kind of plug-in, keyed by the name used in YAML.

Built-in plug-ins register with a decorator in the module that defines them.
Third-party packages add their own through the setuptools entry-point group
``edgestream.<kind>``; those are looked up only when a name is not built in, so a
simulated run never imports anything it does not use.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

__all__ = ["Registry", "UnknownPluginError"]

T = TypeVar("T")


class UnknownPluginError(LookupError):
    """No plug-in of that name."""


class Registry(Generic[T]):
    """Name -> plug-in for one kind (``abr``, ``placement``, ``workload``, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._scanned = False
        """Whether every installed plug-in of this kind is registered (scanning the
        installed distributions costs tens of milliseconds: done once)."""

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = item
            return item

        return add

    def _from_entry_points(self, name: str) -> T | None:
        for ep in entry_points(group=f"edgestream.{self.kind}"):
            if ep.name == name:
                item: T = ep.load()
                self._items[name] = item
                return item
        return None

    def load_entry_points(self) -> None:
        """Register every installed plug-in of this kind (to list them all, e.g. for
        the schema); names already built in win."""
        if self._scanned:
            return
        for ep in entry_points(group=f"edgestream.{self.kind}"):
            if ep.name not in self._items:
                self._items[ep.name] = ep.load()
        self._scanned = True

    def get(self, name: str) -> T:
        item = self._items.get(name)
        if item is None:
            item = self._from_entry_points(name)
        if item is None:
            self.load_entry_points()  # the closest name may be an installed one
            close = difflib.get_close_matches(name, list(self._items), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownPluginError(f"no {self.kind} named {name!r}{hint}")
        return item

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))
