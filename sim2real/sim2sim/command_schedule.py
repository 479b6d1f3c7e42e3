"""A fixed velocity-command schedule: timed segments ``(vx, vy, yaw rate, seconds)`` in place of random draws.

``sim2real rollout --engine mujoco --command-schedule S`` gives the deployment runtime this schedule's
command instead of the task's random ones, so a video shows a known tour. ``S`` is a named schedule
(:data:`NAMED_SCHEDULES`, e.g. ``tour``) or segments ``VX,VY,YAW:SECONDS`` joined by ``;``, e.g.
``0.6,0,0:4;0,0,1:4``. Time counts from each episode's start; after the last segment the command is zero
(stand still).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.commands import COMMAND_NAMES
from sim2real_runtime.errors import ConfigError

if TYPE_CHECKING:
    from sim.env import MjxEnv

FLAG = "--command-schedule"
"""The command-line flag that names a schedule (errors name it)."""


@dataclass(frozen=True)
class Segment:
    """One constant command held for a while."""

    command: tuple[float, float, float]
    """``(vx, vy, yaw rate)`` in the base frame: m/s, m/s, rad/s."""
    seconds: float
    """How long it holds."""


@dataclass(frozen=True)
class CommandSchedule:
    """Segments played one after the other from an episode's start."""

    text: str
    """The schedule as the user named it (a name or the segment string)."""
    segments: tuple[Segment, ...]
    """The segments, in order."""

    @property
    def duration_s(self) -> float:
        """Seconds until the last segment ends."""
        return sum(segment.seconds for segment in self.segments)

    def command_at(self, time_s: float) -> np.ndarray:
        """The ``(vx, vy, yaw rate)`` in force ``time_s`` seconds into an episode (zero after the last segment)."""
        end = 0.0
        for segment in self.segments:
            end += segment.seconds
            if time_s < end - 1e-9:
                return np.array(segment.command, dtype=np.float64)
        return np.zeros(len(COMMAND_NAMES))

    def check_fits(self, env: MjxEnv, task: str) -> None:
        """Refuse (one line) a task without a velocity command, or a segment outside the task's command ranges."""
        ranges = env.command_ranges() or {}
        if env.GOAL.command != "velocity":
            raise ConfigError.single(FLAG, self.text, f"task {task} takes no velocity command (vx, vy, yaw_rate)")
        for number, segment in enumerate(self.segments, start=1):
            for name, value in zip(COMMAND_NAMES, segment.command, strict=True):
                low, high = ranges[name]
                if not low <= value <= high:
                    message = (
                        f"segment {number} {name} {value:g} is outside task {task}'s range [{low:g}, {high:g}], "
                        "where the policy was trained; choose a value inside it"
                    )
                    raise ConfigError.single(FLAG, self.text, message)


def _segments(*rows: tuple[float, float, float, float]) -> tuple[Segment, ...]:
    return tuple(Segment((vx, vy, yaw), seconds) for vx, vy, yaw, seconds in rows)


NAMED_SCHEDULES: dict[str, tuple[Segment, ...]] = {
    "tour": _segments(
        (0.0, 0.0, 0.0, 1.0),  # stand
        (0.6, 0.0, 0.0, 4.0),  # walk forward
        (0.3, 0.0, 1.0, 4.0),  # turn left while walking
        (0.0, 0.4, 0.0, 3.0),  # step sideways to the left
        (-0.4, 0.0, 0.0, 3.0),  # walk backward
        (0.0, 0.0, 0.0, 2.0),  # stop
    ),
}
"""Schedules by name. ``tour`` (17 s) stays well inside the joystick tasks' command ranges."""

_SYNTAX = (
    "write VX,VY,YAW:SECONDS segments joined by ';' (e.g. '0.6,0,0:4;0,0,1:4') "
    f"or a name ({', '.join(NAMED_SCHEDULES)})"
)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _parse_segment(text: str, number: int, schedule: str) -> Segment:
    command, colon, seconds = text.partition(":")
    values = command.split(",")
    shown = f"segment {number} '{text.strip()}'"
    if not colon or len(values) != len(COMMAND_NAMES):
        raise ConfigError.single(FLAG, schedule, f"{shown} is not VX,VY,YAW:SECONDS; {_SYNTAX}")
    try:
        vx, vy, yaw, duration = (_number(v) for v in (*values, seconds))
    except ValueError:
        message = f"{shown} has a value that is not a finite number; {_SYNTAX}"
        raise ConfigError.single(FLAG, schedule, message) from None
    if duration <= 0:
        raise ConfigError.single(FLAG, schedule, f"{shown} lasts {duration:g} s; give it a positive number of seconds")
    return Segment((vx, vy, yaw), duration)


def parse_schedule(text: str) -> CommandSchedule:
    """The schedule named or spelled out by ``text``; a one-line :class:`ConfigError` naming the flag otherwise."""
    name = text.strip()
    if name in NAMED_SCHEDULES:
        return CommandSchedule(name, NAMED_SCHEDULES[name])
    parts = [part for part in name.split(";") if part.strip()]
    if not parts:
        raise ConfigError.single(FLAG, repr(text), f"is empty; {_SYNTAX}")
    return CommandSchedule(name, tuple(_parse_segment(part, i, name) for i, part in enumerate(parts, start=1)))
