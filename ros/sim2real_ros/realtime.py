"""A periodic loop on a thread of its own, for the two nodes' hard-timed work (commands, emulated states).

rclpy's timers fire inside the executor's wait, after whatever callbacks are queued before them, on a thread
with normal priority: under load they wake tens of milliseconds late. :class:`PeriodicThread` keeps its own
schedule instead: absolute deadlines ``start + k * period`` on the monotonic clock, a ``time.sleep`` to
each, missed deadlines skipped (never run in a burst). Where the OS permits it, the loop thread runs under
``SCHED_FIFO`` at the given priority and the process's other threads (the ROS executor, Fast DDS's
receive and event threads) one step below it, so CPU-bound work of normal priority can delay neither the
loop nor the delivery of what it reads and writes. The interpreter's switch interval is shortened so the
loop gets the GIL from the executor thread within :data:`SWITCH_INTERVAL_S`.
"""

from __future__ import annotations

import gc
import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from sim2real_ros.node_main import StopRequest
from sim2real_ros.parameters import ParameterError

SWITCH_INTERVAL_S = 0.0005
"""How long a thread that wants the GIL waits before the holder is asked to hand it over (Python's is 5 ms)."""

PARAMETERS: dict[str, object] = {"realtime_priority": 80, "cpu_affinity": []}
"""The parameters both nodes take for their loop, with defaults (see :class:`RealtimeSettings`)."""


@dataclass(frozen=True)
class RealtimeSettings:
    """How the loop thread is scheduled."""

    priority: int
    """``SCHED_FIFO`` priority of the loop thread, 1-99 (the node's other threads get one less); 0: normal
    scheduling for every thread."""
    cpus: tuple[int, ...]
    """Cores the loop thread may run on; empty: any."""

    @classmethod
    def from_parameters(cls, values: dict[str, object]) -> RealtimeSettings:
        """The settings from the node parameters of :data:`PARAMETERS` (an empty ``cpu_affinity``: any core)."""
        priority = values["realtime_priority"]
        if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 99:
            raise ParameterError(f"parameter 'realtime_priority' is {priority!r}; give 0 (off) or 1-99")
        cpus = tuple(values["cpu_affinity"])  # type: ignore[arg-type]
        if not all(isinstance(cpu, int) and not isinstance(cpu, bool) and cpu >= 0 for cpu in cpus):
            raise ParameterError(f"parameter 'cpu_affinity' is {list(cpus)}; give core numbers, e.g. [1]")
        return cls(priority, cpus)


def _raise_other_threads(priority: int) -> None:
    """``SCHED_FIFO`` at ``priority`` for every thread of this process (threads they start inherit it)."""
    for task in os.listdir("/proc/self/task"):
        os.sched_setscheduler(int(task), os.SCHED_FIFO, os.sched_param(priority))


def apply_to_this_thread(settings: RealtimeSettings) -> str:
    """Schedule the calling thread (and, one step lower, the rest of the process) as ``settings`` say.

    Returns one line saying what was done, or why real-time scheduling was not permitted (the loop then
    runs at normal priority; nothing fails).
    """
    done = []
    if settings.cpus:
        try:
            os.sched_setaffinity(0, settings.cpus)
            done.append(f"on cores {','.join(map(str, settings.cpus))}")
        except OSError as exc:
            done.append(f"on any core (cpu_affinity {list(settings.cpus)} refused: {exc.strerror})")
    if settings.priority == 0:
        return " ".join(["normal priority (realtime_priority 0)", *done])
    try:
        _raise_other_threads(max(1, settings.priority - 1))
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(settings.priority))
    except (OSError, AttributeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return " ".join(
            [
                f"normal priority: SCHED_FIFO {settings.priority} not permitted ({reason}); see the README, "
                "Running on a robot, for rtprio limits",
                *done,
            ]
        )
    return " ".join([f"SCHED_FIFO priority {settings.priority}", *done])


class PeriodicThread:
    """Calls ``tick(due)`` every ``period`` seconds on a thread of its own until :meth:`stop`.

    ``due`` is the tick's deadline on the monotonic clock (``time.monotonic()``): the tick may compare it with
    the time it actually started. A tick that runs past the next deadline, or a thread woken late, skips the
    missed deadlines rather than catching up. An exception in ``tick`` ends the loop: it is logged with its
    traceback through ``log_error`` and ``stop`` is asked to fail, so the node stops in order and exits 1.
    """

    def __init__(
        self,
        name: str,
        period: float,
        tick: Callable[[float], None],
        settings: RealtimeSettings,
        log_error: Callable[[str], object],
        stop: StopRequest,
        rehearse: Callable[[], None] | None = None,
        rehearsal_lead_s: float = 0.0,
    ) -> None:
        self.name = name
        self.period = period
        self.tick = tick
        self.settings = settings
        self.log_error = log_error
        self.stop_request = stop
        self.rehearse = rehearse
        """Called ``rehearsal_lead_s`` before each deadline (warming what the tick will run), if given."""
        self.rehearsal_lead_s = rehearsal_lead_s
        self.scheduling = ""
        """What :func:`apply_to_this_thread` said, once the thread runs."""
        self._started = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> str:
        """Start the loop; the line :func:`apply_to_this_thread` gave (how the loop is scheduled).

        First the interpreter's switch interval is shortened to :data:`SWITCH_INTERVAL_S` and the heap built so
        far is frozen (``gc.freeze``): a full collection of a node's ~37,000 start-up objects takes ~13 ms,
        holding the GIL against the loop; frozen, a collection looks only at what came after.
        """
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        gc.collect()
        gc.freeze()
        self._thread.start()
        self._started.wait()
        return self.scheduling

    def stop(self) -> None:
        """Ask the loop to end and wait for it (at most one period plus the running tick)."""
        self._stopping = True
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        self.scheduling = apply_to_this_thread(self.settings)
        self._started.set()
        start = time.monotonic()
        deadline = 0
        try:
            while not self._stopping:
                due = start + deadline * self.period
                early = due - self.rehearsal_lead_s - time.monotonic()
                if self.rehearse is not None and early > 0:
                    time.sleep(early)
                    self.rehearse()
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if self._stopping:
                    return
                self.tick(due)
                deadline = max(deadline + 1, math.floor((time.monotonic() - start) / self.period) + 1)
        except BaseException as exc:  # handed on: the node stops in order
            lines = "".join(traceback.format_exception(exc)).rstrip()
            self.log_error(f"the {self.name} loop failed; stopping\n{lines}")
            self.stop_request.fail(exc)
