"""Policy plus safety filter: the one tick that sim2sim and the ROS bridge both run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim2real_runtime.errors import MissingInputError
from sim2real_runtime.policy_runner import PolicyRunner
from sim2real_runtime.safety import SafetyFilter
from sim2real_runtime.state import JointCommand, RobotState


@dataclass(frozen=True)
class Tick:
    """The outcome of one control tick."""

    command: JointCommand
    """The command to send (always inside the safety bounds; DAMP after a fault)."""
    action: np.ndarray | None
    """The policy's action, or None when no inference ran (DAMP)."""
    observation: np.ndarray | None
    """The observation fed to the policy, or None."""
    inference_s: float
    """Seconds spent in onnxruntime (0 when none ran)."""
    fault: str | None
    """The latched fault, or None."""


class Controller:
    """Runs the policy on measured state and passes its command through the safety filter."""

    def __init__(self, runner: PolicyRunner, safety: SafetyFilter) -> None:
        self.runner = runner
        self.safety = safety

    def reset(self) -> None:
        """Clear the fault latch and the policy's memory (last action, gait phase)."""
        self.runner.reset()
        self.safety.reset()

    def tick(self, state: RobotState, command: np.ndarray | None = None) -> Tick:
        """Read the state, run the policy and filter its command; any fault latches DAMP."""
        if not self.safety.latched:
            try:
                position, velocity = self.runner.measured(state)
            except MissingInputError as exc:
                self.safety.trip(str(exc))
            else:
                self.safety.check_state(position, velocity, state.imu)
                if command is not None and not (
                    np.shape(command) == (self.runner.contract.command_size,) and np.isfinite(command).all()
                ):
                    self.safety.trip(f"velocity command is not {self.runner.contract.command_size} finite numbers")
        if self.safety.latched:
            return Tick(self.safety.damping(), None, None, 0.0, self.safety.fault)
        try:
            step = self.runner.step(state, command)
        except MissingInputError as exc:
            self.safety.trip(str(exc))
            return Tick(self.safety.damping(), None, None, 0.0, self.safety.fault)
        filtered = self.safety.apply(step.command, position, velocity)
        return Tick(filtered, step.action, step.observation, step.inference_s, self.safety.fault)

    def rehearse(self, state: RobotState, command: np.ndarray | None = None) -> Tick:
        """Run a whole tick on ``state`` and forget it: the next :meth:`tick` is what it would have been without.

        The rehearsed tick is returned, and kept nowhere.

        A loop that sleeps between ticks starts each one cold (caches, branch predictors, a core woken from
        idle): a tick after 20 ms asleep takes about three times a back-to-back one at the median. Rehearsed
        a moment before its deadline, the same code and the same weights are warm when the real tick runs.
        """
        safety, runner = self.safety.memory(), self.runner.memory()
        try:
            return self.tick(state, command)
        finally:
            self.safety.recall(safety)
            self.runner.recall(runner)
