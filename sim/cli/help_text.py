"""What ``edgestream COMMAND --help`` says after the options: examples and exit codes.

One table for every subcommand, attached to the parsers by :func:`attach` once they are
built (so command modules keep only their options). The exit codes listed are the ones
the command's code can return; ``tests/cli/test_help.py`` reads the handlers' source to
keep the two in step. :data:`ALWAYS` are the codes :func:`sim.cli.main.main` itself
returns for any command: bad input (argparse errors, a located scenario error, a missing
extra), an internal error, and Ctrl-C.
"""

from __future__ import annotations

import argparse
import shutil
import textwrap
from dataclasses import dataclass
from typing import Any

from sim.cli.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPT, EXIT_OK, EXIT_QOS
from sim.cli.live import EXIT_LIVE

__all__ = ["ALWAYS", "COMMAND_HELP", "MEANINGS", "CommandHelp", "HelpFormatter", "attach"]

WIDTH = 80
"""Help never wider than this, whatever the terminal (docs and issue reports quote it)."""

ALWAYS = (EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPT)
"""Returned by ``main()`` for every command."""

MEANINGS = {
    EXIT_OK: "success",
    EXIT_QOS: "a qos target missed, or a calibration out of tolerance",
    EXIT_INPUT: "bad input: scenario, arguments, or an extra not installed",
    EXIT_INTERNAL: "internal error (traceback with --debug)",
    EXIT_LIVE: "a live peer process crashed or timed out",
    EXIT_INTERRUPT: "interrupted (Ctrl-C)",
}
"""Generic meaning of each code; a command may say what it means for it."""


@dataclass(frozen=True)
class CommandHelp:
    """Examples (command lines, as typed in a checkout; a long one goes on as a shell
    continuation, ``\\`` then an indented line) and exit codes of one command."""

    description: str | None
    """None: the command module's own description stands."""
    examples: tuple[str, ...]
    codes: dict[int, str]
    """Codes this command returns itself, with what each means for it."""

    def all_codes(self) -> dict[int, str]:
        merged = dict(self.codes)
        for code in ALWAYS:
            merged.setdefault(code, MEANINGS[code])
        return dict(sorted(merged.items()))


_S = "scenarios/default.yaml"
_RUN = "results/default/seed42-e89cf1e6c2"
COMMAND_HELP: dict[str, CommandHelp] = {
    "run": CommandHelp(
        "Run one scenario (default: scenarios/default.yaml) and write its results "
        "folder (results/README.md lists the files).",
        (f"python run_sim.py run {_S}",
         "python run_sim.py run scenarios/campus_5g.yaml --duration '60 s' --seed 7"),
        {EXIT_OK: "the run finished; qos targets are reported, not judged (see check)"}),
    "validate": CommandHelp(
        "Load each scenario file, check it against the schema and the work estimate, "
        "and print every problem located as file:line: key: message. Nothing is run.",
        (f"python run_sim.py validate {_S} scenarios/campus_5g.yaml",),
        {EXIT_OK: "every file is valid", EXIT_INPUT: "a file has a problem"}),
    "check": CommandHelp(
        None,
        (f"python run_sim.py check {_S} --replications 3 --junit j.xml",
         f"python run_sim.py check {_S} --write-baseline base.json",
         f"python run_sim.py check {_S} --baseline base.json"),
        {EXIT_OK: "every target and baseline comparison passed",
         EXIT_QOS: "a target or a baseline comparison failed"}),
    "sweep": CommandHelp(
        None,
        ("python run_sim.py sweep scenarios/sweeps/users_latency.yaml --workers 2",),
        {EXIT_OK: "every point finished (results/sweeps/NAME)",
         EXIT_INTERNAL: "a run failed; finished runs are kept for a resume",
         EXIT_INTERRUPT: "interrupted; finished runs are kept for a resume"}),
    "plot": CommandHelp(
        None,
        (f"python run_sim.py plot {_RUN} --format svg",
         "python run_sim.py plot results/sweeps/users_latency --logx"),
        {EXIT_OK: "figures written",
         EXIT_INPUT: "no folder holds results, or a metric is unknown"}),
    "live": CommandHelp(
        None,
        ("python run_sim.py live scenarios/live_lecture.yaml --receivers 4",),
        {EXIT_OK: "the live class played", EXIT_INPUT: "the scenario has no live class",
         EXIT_LIVE: MEANINGS[EXIT_LIVE]}),
    "calibrate": CommandHelp(
        None,
        ("python run_sim.py calibrate scenarios/live_lecture.yaml --receivers 4",),
        {EXIT_OK: "simulated p50 within 20% of the live p50",
         EXIT_QOS: "simulated p50 more than 20% off", EXIT_LIVE: MEANINGS[EXIT_LIVE]}),
    "report": CommandHelp(
        None,
        (f"python run_sim.py report {_RUN}",),
        {EXIT_OK: "PATH/report.html written",
         EXIT_INPUT: "PATH is not a run or sweep folder"}),
    "size": CommandHelp(
        None,
        (f"python run_sim.py size {_S} \\\n      --vary nodes[mec-xr].compute.servers=1..8",),
        {EXIT_OK: "a value in the range meets every target",
         EXIT_QOS: "no value in the range does",
         EXIT_INPUT: "the range or a probe's input is bad"}),
    "show": CommandHelp(
        None,
        (f"python run_sim.py show {_RUN}",
         "python run_sim.py show results/sweeps/users_latency"),
        {EXIT_OK: "tables printed"}),
}


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter capped at :data:`WIDTH` columns; text paragraphs (blank-line
    separated) are wrapped one by one, and lines indented by two spaces are kept as they
    are (examples stay copyable, one per line)."""

    def __init__(self, prog: str) -> None:
        columns = min(shutil.get_terminal_size().columns, WIDTH)
        super().__init__(prog, width=columns - 2)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks: list[str] = []
        for block in text.split("\n\n"):
            lines = block.splitlines()
            if lines and all(line.startswith("  ") for line in lines[1:]):
                head, rest = lines[0], lines[1:]
                filled = textwrap.fill(" ".join(head.split()), width,
                                       initial_indent=indent, subsequent_indent=indent)
                blocks.append("\n".join([filled, *(indent + line for line in rest)])
                              if head else "\n".join(indent + line for line in rest))
            else:
                blocks.append(textwrap.fill(" ".join(block.split()), width,
                                            initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(blocks)


def epilog(help_: CommandHelp) -> str:
    """The examples and the exit codes, as printed under the options."""
    examples = "\n".join(f"  {line}" for text in help_.examples for line in text.splitlines())
    codes = "\n".join(f"  {code:<4} {meaning}" for code, meaning in help_.all_codes().items())
    return f"examples:\n{examples}\n\nExit codes:\n{codes}"


def attach(parser: argparse.ArgumentParser, subparsers: Any) -> None:
    """Give the program the list of exit codes, and every subcommand its description,
    examples and exit codes."""
    parser.formatter_class = HelpFormatter
    parser.epilog = ("Run `edgestream COMMAND --help` for a command's examples and the "
                     "codes it returns.\n\nExit codes:\n"
                     + "\n".join(f"  {code:<4} {meaning}" for code, meaning in MEANINGS.items()))
    for name, command in subparsers.choices.items():
        help_ = COMMAND_HELP[name]
        command.formatter_class = HelpFormatter
        if help_.description is not None:
            command.description = help_.description
        command.epilog = epilog(help_)
