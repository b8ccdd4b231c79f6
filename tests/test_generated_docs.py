"""The generated parts of docs/sweep.md and docs/metrics.md match their generators,
and the generated metric list is right about what a run's summary holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.qos import metric_reference
from sim.scenario.reference import extract
from sim.sweep import reference as sweep_reference

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("doc", "module"), [("sweep.md", sweep_reference),
                                             ("metrics.md", metric_reference)])
def test_generated_part_is_up_to_date(doc: str, module: object) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    assert extract(text) is not None, f"docs/{doc} lost its markers"
    assert extract(text) == module.render(), (  # type: ignore[attr-defined]
        f"docs/{doc} is out of date; run `{module.REGENERATE}`")  # type: ignore[attr-defined]


def test_sweep_reference_has_every_key() -> None:
    from sim.sweep.spec import Parameter, SweepSpec

    text = sweep_reference.render()
    for model in (SweepSpec, Parameter):
        for name, info in model.model_fields.items():
            assert f"| `{info.alias or name}` |" in text, name


def test_every_workload_kind_has_metrics_listed() -> None:
    from sim.run.workload import workload_specs

    kinds, _ = metric_reference.collect()
    assert set(kinds) == set(workload_specs())
    assert all(kinds.values()), [k for k, v in kinds.items() if not v]


def test_listed_names_are_the_summary_keys_of_a_run(tmp_path: Path) -> None:
    # The summary.json a real run writes (not the generator's prepared runs): each of
    # its workload metrics, with the workload name as <name>, is listed for that kind
    # (a kind may list more: keys some options add, in other shipped scenarios).
    from sim.cli.main import main
    from sim.qos.targets import flatten
    from sim.scenario.loader import load_scenario

    scenario = ROOT / "scenarios" / "default.yaml"
    assert main(["run", str(scenario), "--duration", "12 s", "--out", str(tmp_path),
                 "--quiet", "--no-plots", "--no-tables"]) == 0
    (path,) = tmp_path.glob("*/*/summary.json")
    summary = json.loads(path.read_text(encoding="utf-8"))
    kinds, _ = metric_reference.collect()
    for spec in load_scenario(scenario, []).scenario.workloads:
        written = {f"{section}.<name>.{key}" for section, entries in summary.items()
                   if isinstance(entries, dict) and isinstance(entries.get(spec.name), dict)
                   for key in flatten(entries[spec.name])}
        assert written, spec.name
        assert written <= set(kinds[spec.kind]), (spec.kind, written - set(kinds[spec.kind]))
