"""Where a training iteration's wall-clock goes: seconds per named phase, measured only when asked.

The trainer and the agents wrap their phases (env step, transfers, replay, critic and actor updates,
evaluation) in :meth:`PhaseTimer.phase`. A disabled timer (the default) costs a context manager and nothing
else; an enabled one waits for JAX's asynchronous work at the end of a phase (:meth:`PhaseTimer.sync`) so
each phase is charged for its own compute, not the next one's.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import jax


class PhaseTimer:
    """Accumulated seconds and entry counts per phase name."""

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Charge the enclosed block's wall-clock to ``name`` (nothing when disabled)."""
        if not self.enabled:
            yield
            return
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.counts[name] = self.counts.get(name, 0) + 1

    def sync(self, tree: Any) -> None:
        """Wait for the JAX arrays in ``tree`` when timing (so their compute is charged to the current phase)."""
        if self.enabled:
            jax.block_until_ready(tree)

    def reset(self) -> None:
        """Forget everything measured so far (e.g. after a warm-up)."""
        self.seconds.clear()
        self.counts.clear()
