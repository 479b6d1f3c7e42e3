"""Progress lines of a training run: plain lines on stderr, so a terminal, a log file and a CI job all show them.

The trainer writes a line when training starts (before the first iteration compiles), after its first
iteration, when updates begin and at every evaluation, and calls :meth:`ProgressLog.due` between env steps,
learner updates and evaluation steps: a line follows whenever ``interval_s`` passed since the last one, so a
run that takes minutes per iteration (a GPU-sized recipe on a CPU) still reports what it is doing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

PROGRESS_INTERVAL_S = 5.0
"""Most seconds between two progress lines while training runs."""


class ProgressLog:
    """Writes progress lines, at most one per ``interval_s`` unless asked for one at once (disabled: writes nothing)."""

    def __init__(
        self,
        enabled: bool = True,
        interval_s: float = PROGRESS_INTERVAL_S,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.interval_s = interval_s
        self.stream = stream
        self.clock = clock
        self.last = clock()

    def due(self) -> bool:
        """Whether ``interval_s`` passed since the last line (never when disabled)."""
        return self.enabled and self.clock() - self.last >= self.interval_s

    def write(self, text: str) -> None:
        """Write one line now (prefixed ``sim2real train:``) and restart the interval."""
        if not self.enabled:
            return
        print(f"sim2real train: {text}", file=self.stream or sys.stderr, flush=True)
        self.last = self.clock()


def duration(seconds: float) -> str:
    """``42 s``, ``12 min`` or ``3.2 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def status_line(env_steps: int, total_steps: int, activity: str, seconds: float, rate: float | None) -> str:
    """Where a run stands: env steps of the total, what it is doing, its time so far and (with a rate) time left.

    ``rate`` is env steps per second since the first iteration (None before it finished: that one compiles).
    """
    share = 100.0 * env_steps / max(total_steps, 1)
    pace = ""
    if rate:
        pace = f", {rate:,.1f} env steps/s, ~{duration((total_steps - env_steps) / rate)} left"
    return f"env step {env_steps:,} of {total_steps:,} ({share:.0f}%): {activity}; {duration(seconds)}{pace}"
