"""Problems found in a scenario, located at the YAML position the user has to edit.

Every check (YAML syntax, schema, cross references, routing, QoS metric names)
reports :class:`Problem` objects keyed by the path of the offending key; the loader
fills in file, line and column afterwards, so checks never deal with YAML marks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

Loc = tuple[str | int, ...]

__all__ = ["Loc", "Problem", "ScenarioError", "did_you_mean", "format_loc"]


def format_loc(loc: Loc) -> str:
    """Render a key path the way a user would write it: ``links[2].bandwidth``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    loc: Loc
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    on_key: bool = False
    """Locate the key itself rather than its value (e.g. an unknown key)."""

    def at(self, file: str | None, line: int | None, column: int | None) -> Problem:
        return replace(self, file=file, line=line, column=column)

    def format(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.loc:
            return f"{where}: {format_loc(self.loc)}: {self.message}"
        return f"{where}: {self.message}"


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """``' (did you mean "mec1"?)'`` when a candidate is close to ``word``, else ``''``."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class ScenarioError(Exception):
    """Bad input: one or more problems, all reported together (CLI exit code 2)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        super().__init__("\n".join(p.format() for p in self.problems))
