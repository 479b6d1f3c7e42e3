"""The nodes' periodic loop thread: deadlines on a fixed grid, missed ones skipped, failures stop the node in order."""

from __future__ import annotations

import gc
import itertools
import math
import os
import sys
import time
from collections.abc import Iterator

import pytest

from sim2real_ros import realtime
from sim2real_ros.node_main import StopRequest
from sim2real_ros.parameters import ParameterError

PERIOD = 0.01
NORMAL = realtime.RealtimeSettings(priority=0, cpus=())


@pytest.fixture(autouse=True)
def _interpreter_restored() -> Iterator[None]:
    """A loop's start shortens the switch interval and freezes the heap: undo both for the rest of the session."""
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)
    gc.unfreeze()


def run_loop(tick, ticks: int) -> tuple[list[float], StopRequest, list[str]]:
    """Run ``tick(due)`` in a loop at normal priority until ``ticks`` deadlines passed (or it failed).

    Returns the deadlines, the node's stop request and what the loop logged as errors.
    """
    dues: list[float] = []
    errors: list[str] = []
    stop = StopRequest()

    def record(due: float) -> None:
        dues.append(due)
        tick(due)

    loop = realtime.PeriodicThread("test", PERIOD, record, NORMAL, errors.append, stop)
    loop.start()
    while len(dues) < ticks and not stop.requested:
        time.sleep(PERIOD)
    loop.stop()
    return dues, stop, errors


def test_a_tick_that_overruns_skips_the_missed_deadlines_instead_of_running_them_in_a_burst():
    finished: dict[float, float] = {}

    def tick(due: float) -> None:
        if len(finished) == 3:
            time.sleep(3.5 * PERIOD)
        finished[due] = time.monotonic()

    dues, stop, errors = run_loop(tick, 8)
    steps = [(later - dues[0]) / PERIOD for later in dues]
    assert not stop.requested and not errors
    assert all(abs(step - round(step)) < 1e-6 for step in steps), steps  # every deadline on the grid
    assert all(b > a for a, b in itertools.pairwise(steps)), steps
    overrun = dues[3]
    after = dues[4]
    assert after > finished[overrun], (after, finished[overrun])  # the next deadline is one still ahead
    assert round((after - overrun) / PERIOD) >= 4, steps  # three deadlines were skipped, none run late


def test_a_tick_that_raises_ends_the_loop_logs_the_traceback_and_stops_the_node_with_a_failure():
    def tick(_due: float) -> None:
        raise ZeroDivisionError("no policy today")

    _, stop, errors = run_loop(tick, 3)
    assert stop.requested and isinstance(stop.failure, ZeroDivisionError)
    assert len(errors) == 1 and "the test loop failed; stopping" in errors[0], errors
    assert "Traceback" in errors[0] and "no policy today" in errors[0]


def test_where_real_time_priority_is_not_permitted_the_loop_runs_at_normal_priority_and_says_why(monkeypatch):
    def refuse(*_args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    line = realtime.apply_to_this_thread(realtime.RealtimeSettings(priority=80, cpus=()))
    assert line.startswith("normal priority: SCHED_FIFO 80 not permitted (Operation not permitted)"), line
    assert "rtprio" in line


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"realtime_priority": 100, "cpu_affinity": []}, "realtime_priority"),
        ({"realtime_priority": -1, "cpu_affinity": []}, "realtime_priority"),
        ({"realtime_priority": 50, "cpu_affinity": [-2]}, "cpu_affinity"),
    ],
)
def test_real_time_parameters_out_of_range_are_refused_naming_the_parameter(values, named):
    with pytest.raises(ParameterError, match=named):
        realtime.RealtimeSettings.from_parameters(values)


def test_each_tick_is_rehearsed_its_lead_before_the_deadline_and_the_tick_still_runs_on_time():
    lead = 0.003
    events: list[tuple[str, float, float]] = []
    dues: list[float] = []
    stop = StopRequest()

    def tick(due: float) -> None:
        dues.append(due)
        events.append(("tick", due, time.monotonic()))

    def rehearse() -> None:
        events.append(("rehearse", math.nan, time.monotonic()))

    loop = realtime.PeriodicThread("test", PERIOD, tick, NORMAL, print, stop, rehearse, lead)
    loop.start()
    while len(dues) < 10:
        time.sleep(PERIOD)
    loop.stop()
    kinds = [kind for kind, _, _ in events]
    first = kinds.index("tick")
    assert kinds[: first + 1] in (["tick"], ["rehearse", "tick"])  # the first deadline is now: nothing ahead
    ticks = [i for i, kind in enumerate(kinds) if kind == "tick"][1:]
    assert all(kinds[i - 1] == "rehearse" for i in ticks), kinds
    for i in ticks:
        (_, due, ran), (_, _, rehearsed) = events[i], events[i - 1]
        assert due - lead - 1e-4 <= rehearsed < due <= ran, (due, rehearsed, ran)  # ahead by the lead, never late
