"""pandas is not a dependency of the simulator: every doc that uses it says how to get
it (the ``[analysis]`` extra of setup.cfg), and that extra installs it."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "results" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
INSTALL = 'pip install -e ".[analysis]"'


def _extra(name: str) -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return [line.strip() for line in config["options.extras_require"][name].splitlines()
            if line.strip()]


def test_analysis_extra_installs_pandas() -> None:
    assert any(re.match(r"pandas\b", req) for req in _extra("analysis"))
    assert not any("pandas" in req for req in _extra("live") + _extra("dask"))


def test_every_doc_using_pandas_names_the_extra() -> None:
    using = [doc for doc in DOCS if re.search(r"\bimport pandas\b|\bpandas\.", doc.read_text(
        encoding="utf-8"))]
    assert using  # docs/workflow.md loads tables with pandas
    for doc in using:
        assert INSTALL in doc.read_text(encoding="utf-8"), (
            f"{doc.relative_to(ROOT)} uses pandas but does not say `{INSTALL}`")


def test_pandas_is_not_a_core_dependency() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    assert "pandas" not in config["options"]["install_requires"]
