"""The core (``sim/``) names no workload kind: a workload is a plug-in the core assembles.

The kinds are read from the workload registry, so a new built-in workload is covered
without editing this test.  Generated Markdown under ``sim/`` is not code and is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim.plugins import load_builtin_plugins
from sim.run.workload import WORKLOADS

SIM = Path(__file__).resolve().parents[2] / "sim"


def test_no_module_of_the_core_names_a_workload_kind() -> None:
    load_builtin_plugins()
    kinds = list(WORKLOADS)
    assert {"course_video", "vr_lesson", "live_class"} <= set(kinds)  # the plug-ins are loaded
    pattern = re.compile("|".join(map(re.escape, kinds)))
    found = [f"{path.relative_to(SIM.parent)}:{n}: {line.strip()}"
             for path in sorted(SIM.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert found == []
