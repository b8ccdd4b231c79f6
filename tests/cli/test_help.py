"""``--help`` of every subcommand: a description, examples that the real parser accepts,
and an exit-code list equal to the codes the command's code can return.

The codes are read from the handlers' source (every ``EXIT_*`` constant or integer a
command module uses in a return, a ``SystemExit`` or an assignment), not from the table
in :mod:`sim.cli.help_text`, so a new ``return EXIT_QOS`` in a command fails here until
its help says so.
"""

from __future__ import annotations

import ast
import inspect
import re
import shlex
from types import ModuleType

import pytest

import sim.cli.common as common
import sim.cli.live as live
from sim.cli import help_text, main

COMMANDS = main.COMMANDS


def _subparsers() -> dict[str, object]:
    parser = main.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)  # type: ignore[arg-type]


def _code_of(name: str) -> int:
    for module in (common, live):
        if hasattr(module, name):
            value = getattr(module, name)
            assert isinstance(value, int)
            return value
    raise AssertionError(f"unknown exit constant {name}")


def _codes_in(tree: ast.AST) -> set[int]:
    """Exit codes a piece of source can produce: EXIT_* constants it reads, and integer
    literals it returns."""
    codes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.startswith("EXIT_") and isinstance(
                node.ctx, ast.Load):
            codes.add(_code_of(node.id))
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and \
                isinstance(node.value.value, int) and not isinstance(node.value.value, bool):
            codes.add(node.value.value)
    return codes


def _returned_codes(name: str) -> set[int]:
    if name in main.COMMAND_MODULES:
        module: ModuleType = __import__(main.COMMAND_MODULES[name], fromlist=["run"])
        tree: ast.AST = ast.parse(inspect.getsource(module))
    else:
        tree = ast.parse(inspect.getsource(getattr(main, f"_cmd_{name}")))
    return _codes_in(tree) | set(help_text.ALWAYS)


def _help(name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "200")  # the cap, not the terminal, must limit the width
    return _subparsers()[name].format_help()  # type: ignore[attr-defined, no-any-return]


def _section(text: str, title: str) -> list[str]:
    block = text.split(f"\n{title}:\n", 1)[1]
    return [line.strip() for line in block.split("\n\n", 1)[0].splitlines() if line.strip()]


def test_every_command_has_help() -> None:
    assert set(_subparsers()) == set(COMMANDS) == set(help_text.COMMAND_HELP)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_a_description(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _help(name, monkeypatch)
    description = text.split("\n\n")[1]
    assert not description.startswith(("positional arguments", "options")), text
    assert len(description.split()) >= 8, description


@pytest.mark.parametrize("name", COMMANDS)
def test_help_examples_parse(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _section(_help(name, monkeypatch), "examples")
    examples = " ".join(line.removesuffix("\\") if line.endswith("\\") else line + "\n"
                        for line in lines).splitlines()
    assert examples
    for example in examples:
        words = shlex.split(example)
        assert words[:2] == ["python", "run_sim.py"], example
        ns = main.build_parser().parse_args(main._normalise(words[2:]))
        assert ns.command == name, example


@pytest.mark.parametrize("name", COMMANDS)
def test_help_exit_codes_match_the_code(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _section(_help(name, monkeypatch), "Exit codes")
    listed = {int(m.group(1)) for line in lines if (m := re.match(r"(\d+)\s+\S", line))}
    assert len(listed) == len(lines), lines
    assert listed == _returned_codes(name)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_fits_80_columns(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for line in _help(name, monkeypatch).splitlines():
        assert len(line) <= help_text.WIDTH, line


def test_the_scan_sees_a_code_a_command_returns() -> None:
    # The scan is what makes the exit-code test able to fail: it finds 1 in check
    # (EXIT_QOS), 4 in live (EXIT_LIVE), a literal 2 in size, and only 0 in run's handler.
    assert 1 in _codes_in(ast.parse(inspect.getsource(__import__("sim.cli.check",
                                                                 fromlist=["run"]))))
    assert _codes_in(ast.parse(inspect.getsource(live))) >= {4}
    assert _codes_in(ast.parse("def f():\n    return 2\n")) == {2}
    assert _codes_in(ast.parse(inspect.getsource(main._cmd_run))) == {0}


def test_top_level_help_lists_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    text = main.build_parser().format_help()
    listed = {int(line.split()[0]) for line in _section(text, "Exit codes")}
    assert listed == set(help_text.MEANINGS)
