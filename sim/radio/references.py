"""Cross-reference checks of the radio section: cells, their anchors, radio users.

Like :mod:`sim.scenario.references`, each problem is keyed by its YAML path so the
loader can point at the file position.
"""

from __future__ import annotations

from sim.radio.schema import (
    AreaPlacement,
    CellDefaults,
    DiscPlacement,
    ExplicitPlacement,
    HotspotPlacement,
    RadioSpec,
    RandomWaypointMobility,
    TraceMobility,
    UeRadioSpec,
)
from sim.scenario.problems import Problem, did_you_mean
from sim.scenario.schema import Node, Scenario, UserGroup

__all__ = ["cell_names", "check_radio", "frequency_range", "trace_problems"]

FR1_MAX_HZ = 7.125e9
"""Upper edge of FR1 (TS 38.101-1); above it the FR2 tables apply."""


def frequency_range(carrier_hz: float) -> str:
    return "FR1" if carrier_hz <= FR1_MAX_HZ else "FR2"


def cell_names(radio: RadioSpec) -> list[str]:
    """Names of every cell: the explicit ones, then the layout's in generation order."""
    names = [c.name for c in radio.cells]
    layout = radio.layout
    if layout is not None:
        sites = 1 + 3 * layout.rings * (layout.rings + 1)
        names += [f"{layout.prefix}{s}-{k}" for s in range(sites) for k in range(layout.sectors)]
    return names


def _bandwidth_problem(cell: CellDefaults) -> str | None:
    from sim.radio.nr_tables import prb_count  # constants only; no model is built

    scs = 15e3 * 2 ** cell.numerology
    try:
        prb_count(cell.bandwidth, scs, frequency_range(cell.carrier))  # type: ignore[arg-type]
    except ValueError as exc:
        return str(exc)
    return None


def check_radio(scenario: Scenario) -> list[Problem]:
    """Problems of the radio section and of the user groups that use it."""
    radio = scenario.radio
    groups = [(i, n) for i, n in enumerate(scenario.nodes)
              if isinstance(n, UserGroup) and n.radio is not None]
    if radio is None:
        return [Problem(("nodes", i, "radio"),
                        "radio users need a top-level `radio:` section with cells")
                for i, _ in groups]
    names = cell_names(radio)
    configs: list[tuple[tuple[str | int, ...], CellDefaults]] = [
        (("radio", "cells", j), c) for j, c in enumerate(radio.cells)]
    if radio.layout is not None:
        configs.append((("radio", "layout"), radio.layout))
    nodes = {n.name: n for n in scenario.nodes}
    anchors = {g.attach for _, g in groups}
    problems = _duplicate_cells(names, len(radio.cells))
    for loc, cell in configs:
        problems += _cell_problems(loc, cell, nodes, anchors)
    numerologies = {c.numerology for _, c in configs}
    if len(numerologies) > 1:
        problems.append(Problem(("radio",), "all cells must share one numerology "
                                f"(found {sorted(numerologies)})"))
    for i, group in groups:
        problems += _group_problems(i, group, radio, names)
    return problems


def _duplicate_cells(names: list[str], explicit: int) -> list[Problem]:
    """Each repeated cell name, at the explicit cell or, for generated names, the layout."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for j, name in enumerate(names):
        if name in seen:
            loc: tuple[str | int, ...] = ("radio", "cells", j, "name") \
                if j < explicit else ("radio", "layout")
            problems.append(Problem(loc, f'duplicate cell name "{name}"'))
        seen.add(name)
    return problems


def _cell_problems(loc: tuple[str | int, ...], cell: CellDefaults, nodes: dict[str, Node],
                   anchors: set[str]) -> list[Problem]:
    """A cell's bandwidth in the N_RB tables; its `attach` a site or router, the users' one."""
    problems: list[Problem] = []
    message = _bandwidth_problem(cell)
    if message is not None:
        problems.append(Problem((*loc, "bandwidth"), message))
    if cell.attach is not None:
        if cell.attach not in nodes or isinstance(nodes[cell.attach], UserGroup):
            problems.append(Problem((*loc, "attach"), f'"{cell.attach}" is not a site or '
                                    f"router{did_you_mean(cell.attach, nodes)}"))
        elif anchors and anchors != {cell.attach}:
            problems.append(Problem((*loc, "attach"), "cells must attach where their radio "
                                    f"users attach ({', '.join(sorted(anchors))})"))
    return problems


def _group_problems(i: int, group: UserGroup, radio: RadioSpec,
                    names: list[str]) -> list[Problem]:
    """A radio user group placed inside its waypoint area, around a cell that exists."""
    assert group.radio is not None
    problems: list[Problem] = []
    problem = _start_outside_area(group.radio, radio)
    if problem is not None:
        problems.append(Problem(("nodes", i, "radio", "mobility", "area"), problem))
    placement = group.radio.placement
    if isinstance(placement, DiscPlacement) and isinstance(placement.center, str) \
            and placement.center not in names:
        problems.append(Problem(("nodes", i, "radio", "placement", "center"),
                                f'"{placement.center}" is not a cell'
                                f"{did_you_mean(placement.center, names)}"))
    return problems


def trace_problems(scenario: Scenario, base_dir: str) -> list[Problem]:
    """Mobility trace files that are missing or malformed (read once, here, to check)."""
    from pathlib import Path

    from sim.radio.mobility import Trace

    problems: list[Problem] = []
    for i, node in enumerate(scenario.nodes):
        if not isinstance(node, UserGroup) or node.radio is None:
            continue
        mobility = node.radio.mobility
        if not isinstance(mobility, TraceMobility):
            continue
        loc = ("nodes", i, "radio", "mobility", "file")
        path = Path(base_dir) / mobility.file
        if not path.is_file():
            problems.append(Problem(loc, f'trace file "{mobility.file}" not found'))
            continue
        try:
            trace = Trace.from_csv(path)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(loc, f"bad trace: {exc}"))
            continue
        if trace.n != node.count:
            problems.append(Problem(loc, f"the trace has {trace.n} UEs; the group has "
                                    f"{node.count}"))
    return problems


def _start_outside_area(ue: UeRadioSpec, radio: RadioSpec) -> str | None:
    """Random waypoint moves inside its area: the UEs must be placed inside it."""
    mobility = ue.mobility
    if not isinstance(mobility, RandomWaypointMobility):
        return None
    p = ue.placement
    if isinstance(p, AreaPlacement | HotspotPlacement):
        x0, y0, x1, y1 = p.area
    elif isinstance(p, ExplicitPlacement):
        xs, ys = [xy[0] for xy in p.positions], [xy[1] for xy in p.positions]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    else:
        assert isinstance(p, DiscPlacement)
        if isinstance(p.center, str):
            centers = {c.name: c.position for c in radio.cells}
            if p.center not in centers:
                return None  # a layout cell: checked when the run is built
            cx, cy = centers[p.center]
        else:
            cx, cy = p.center
        x0, y0, x1, y1 = cx - p.radius, cy - p.radius, cx + p.radius, cy + p.radius
    ax0, ay0, ax1, ay1 = mobility.area
    if x0 < ax0 or y0 < ay0 or x1 > ax1 or y1 > ay1:
        return (f"the UEs are placed in [{x0:g}, {y0:g}, {x1:g}, {y1:g}], not all inside "
                "this area; random waypoint needs them to start inside it")
    return None
