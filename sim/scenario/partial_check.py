"""Reference checks on the parts of a scenario that parsed, so all problems come at once.

The README promises every located problem in one pass, but the cross-reference
checks need a validated :class:`Scenario`, so a schema error used to hide every
dangling name until it was fixed (issue 17).  Here the items with schema errors
are set aside: an item of a top-level list (``nodes[3]``) is dropped, any other
top-level key falls back to its default, and what remains is validated again.
If that succeeds the reference checks run on it, their key paths are mapped
back to the original list indices, and problems that only follow from a
dropped item are left out: a problem naming a dropped item's ``name`` (a link
to a node whose ``kind`` was misspelt is not also "not a node").  When a node
was dropped, anything may follow from its absence ("nearest_mec needs a mec
node"), so only a reference to a name that no item of the file has is kept:
that one is wrong whatever the dropped node was meant to be.  If what
remains does not validate (a required key was wrong), only the schema
problems are reported, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from sim.scenario.problems import Problem
from sim.scenario.references import check_references
from sim.scenario.schema import Scenario

__all__ = ["references_of_what_parsed"]

_QUOTED = re.compile(r'"([^"]*)"')


def references_of_what_parsed(data: dict[str, Any],
                              schema_problems: Sequence[Problem]) -> list[Problem]:
    """Reference problems of the valid part of `data` (module doc); [] if none can be checked."""
    dropped: dict[str, set[int]] = {}
    defaulted: set[str] = set()
    for problem in schema_problems:
        if not problem.loc:
            return []  # a whole-document rule (e.g. warmup < duration): nothing to set aside
        key = str(problem.loc[0])
        value = data.get(key)
        if isinstance(value, list) and len(problem.loc) > 1 and isinstance(problem.loc[1], int):
            dropped.setdefault(key, set()).add(problem.loc[1])
        else:
            defaulted.add(key)
    partial: dict[str, Any] = {k: v for k, v in data.items() if k not in defaulted}
    kept: dict[str, list[int]] = {}
    lost_names: set[str] = set()
    for key, indices in dropped.items():
        items = data[key]
        kept[key] = [i for i in range(len(items)) if i not in indices]
        partial[key] = [items[i] for i in kept[key]]
        lost_names.update(str(items[i]["name"]) for i in indices
                          if isinstance(items[i], dict) and "name" in items[i])
    try:
        scenario = Scenario.model_validate(partial)
    except (ValidationError, RecursionError):
        return []
    names_in_file = {str(item["name"]) for value in data.values() if isinstance(value, list)
                     for item in value if isinstance(item, dict) and "name" in item}
    out: list[Problem] = []
    for problem in check_references(scenario):
        if any(f'"{name}"' in problem.message for name in lost_names):
            continue  # follows from an item that failed the schema
        if "nodes" in dropped:
            named = _QUOTED.match(problem.message)
            if named is None or " is not a" not in problem.message or \
                    named.group(1) in names_in_file:
                continue
        loc = problem.loc
        if len(loc) > 1 and isinstance(loc[1], int) and str(loc[0]) in kept:
            loc = (loc[0], kept[str(loc[0])][loc[1]], *loc[2:])
        out.append(Problem(loc, problem.message, on_key=problem.on_key))
    return out
