"""Progress lines for logs: what a CI job shows while a run is still going.

A rich progress bar redraws one line in place, which a log that is not a
terminal cannot show, so a CI log stayed empty until the run ended (issue 17).
When stdout is not a terminal, a plain line is printed every 10% of the work
(simulated time for a run, finished runs for a sweep) or every 30 s of wall
time, whichever comes first.  The wall clock is looked at whenever the work
advances (every 1% of simulated time for a run), so a line can be up to one such
step later than 30 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console

__all__ = ["STEP", "WALL_S", "ProgressLog"]

STEP = 0.10
"""Fraction of the work between two lines."""
WALL_S = 30.0
"""Wall-clock seconds after which a line is printed even if the work advanced less."""


class ProgressLog:
    """Prints "label: 40% of simulated time (2 s of 5 s), 3.1 s elapsed" lines."""

    def __init__(self, console: Console, label: str, total: float, what: str,
                 shown: Callable[[float], str] = lambda x: f"{x:g}",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.label = label
        self.total = total
        self.what = what
        self.shown = shown
        self.clock = clock
        self.started = self.last_time = clock()
        self.next_fraction = STEP

    def __call__(self, done: float) -> None:
        """Record progress `done` (out of `total`); print a line when one is due."""
        now = self.clock()
        fraction = done / self.total if self.total > 0 else 1.0
        if fraction < self.next_fraction - 1e-9 and now - self.last_time < WALL_S:
            return
        if fraction >= 1.0 - 1e-9 and self.next_fraction > 1.0:
            return  # 100% was printed already
        self.last_time = now
        while self.next_fraction <= fraction + 1e-9:
            self.next_fraction += STEP
        self.console.print(
            f"{self.label}: {fraction * 100:.0f}% of {self.what} "
            f"({self.shown(done)} of {self.shown(self.total)}), "
            f"{now - self.started:.1f} s elapsed", soft_wrap=True, markup=False,
            highlight=False)
        self.console.file.flush()
