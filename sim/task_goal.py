"""What a task declares to the layers above: its command, its tracking terms and its learning goal.

The command is what the policy is told to do; the tracking terms are the reward terms that measure how well
it does it; the learning goal is what ``sim2real bench learn`` trains to. A task sets
:attr:`sim.env.MjxEnv.GOAL`; the trainer, evaluation, the Brax baselines, sim2sim, plots, ``bench learn``
and export (which records the command kind in the policy contract for the bridge) read it, so no layer
above the tasks names a reward term or a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CommandKind = Literal["none", "velocity", "target_position"]
"""What ``info["command"]`` holds: nothing, a base velocity (vx, vy, yaw rate) or a target position (x, y, z)."""


@dataclass(frozen=True)
class LearningGoal:
    """What counts as learned: an eval metric at or above a threshold, perhaps with no falls."""

    metric: Literal["return", "tracking"]
    """``return``: mean eval return; ``tracking``: mean per-step reward of the task's first tracking term."""
    threshold: float
    """The value to reach."""
    no_falls: bool = False
    """Also require every eval episode to run to its time limit."""
    time_limit_s: float = 900.0
    """Default wall-clock limit per learner (``--time-limit-s`` replaces it)."""


@dataclass(frozen=True)
class TaskGoal:
    """A task's declaration: its command, its tracking terms and its learning goal."""

    command: CommandKind = "none"
    """The command the policy takes (the ROS bridge subscribes to the matching topic)."""
    tracking_terms: tuple[str, ...] = ()
    """Reward terms (each at most 1 per step) that measure how well the command is followed; the first is the
    task's tracking metric (``tracking`` in evaluations and in ``bench learn``)."""
    learning: LearningGoal | None = None
    """The goal of ``bench learn`` and ``train --until-goal``; None when the task declares none."""

    @property
    def tracking_metric(self) -> str | None:
        """The reward term reported as the task's tracking (the first tracking term), or None."""
        return self.tracking_terms[0] if self.tracking_terms else None
