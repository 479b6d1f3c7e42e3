"""One sim2sim episode, a control step at a time: the robot in MuJoCo C, the deployment runtime, the task's score.

Each step reads the robot's sensors, runs one :class:`~sim2real_runtime.controller.Controller` tick
(observation builder, onnxruntime, safety filter), sends the command, advances the physics one control
period with PD at physics rate, and hands the C state to the task's own ``transition`` for the reward
and the end of the episode. A push the task scheduled for this step (``info["push_velocity"]``, added to
the base's planar velocity) is given to the C robot too, so both engines meet the same disturbances.
``sim2real sim2sim`` plays whole episodes with it; ``sim2real rollout --engine mujoco`` renders them.

With a :class:`~sim2real.sim2sim.command_schedule.CommandSchedule`, the schedule's command replaces the
task's random one in the episode's state before every step, so the runtime's observation, the task's
reward and the video's caption all see it; with ``pushes`` off, the task's pushes are dropped the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np
from brax.envs.base import State

from sim2real.sim2sim.command_schedule import CommandSchedule
from sim2real.sim2sim.mujoco_robot import MujocoRobot
from sim2real.sim2sim.scoring import TaskScorer
from sim2real_runtime.controller import Controller


@dataclass(frozen=True)
class RuntimeStep:
    """The outcome of one control step."""

    reward: float
    """The task's reward for the step."""
    done: bool
    """The episode ended (failure, diverged physics or the time limit)."""
    fell: bool
    """It ended by failure before the time limit."""
    fault: str | None
    """The safety filter's latched fault, if any."""
    inference_s: float | None
    """Seconds onnxruntime took (None when the filter held DAMP and no inference ran)."""
    observation_mismatch: float | None
    """Largest |runtime - task| observation entry (when the runtime ran and sensors are noise-free)."""
    command: np.ndarray | None
    """The velocity command in force, for velocity-commanded tasks."""
    measured: np.ndarray | None
    """Measured base ``(vx, vy, yaw rate)`` in the base frame after the step, for velocity-commanded tasks."""
    tracking: list[float] | None
    """The task's tracking reward terms for the step (unweighted, each at most 1), when it has them."""


class RuntimeEpisode:
    """A robot in MuJoCo C driven by the deployment runtime and scored by the task's JAX code."""

    def __init__(
        self,
        scorer: TaskScorer,
        robot: MujocoRobot,
        controller: Controller,
        noise_free: bool,
        schedule: CommandSchedule | None = None,
        pushes: bool = True,
    ) -> None:
        self.scorer = scorer
        self.robot = robot
        self.controller = controller
        self.noise_free = noise_free
        self.schedule = schedule
        self.pushes = pushes
        self.scripted = schedule is not None or not pushes
        """Whether the state is rewritten before every step (the schedule's command, pushes dropped)."""
        self._zero_action = np.zeros(scorer.env.action_size)
        goal = scorer.env.GOAL
        self.velocity_commanded = goal.command == "velocity"
        self.tracking_terms = [f"reward/{name}" for name in goal.tracking_terms]

    def start(self, key: jax.Array) -> None:
        """Draw an episode with the task's ``reset`` (state, randomization, command) and place the robot in it."""
        state = self.scorer.reset(key)
        self.robot.set_model_fields(self.scorer.randomized_fields(state))
        pipeline = state.pipeline_state
        self.robot.reset(np.asarray(pipeline.qpos, np.float64), np.asarray(pipeline.qvel, np.float64))
        self.controller.reset()
        self.steps = 0
        self.state: State = self._scripted(state)
        self._clean = self.scorer.clean_observation(self.state)

    def _scripted(self, state: State) -> State:
        """``state`` with the schedule's command for the coming step and, with pushes off, no pending push."""
        info = dict(state.info)
        if self.schedule is not None:
            info["command"] = self.schedule.command_at(self.steps * self.scorer.env.dt).astype(np.float32)
        if not self.pushes and "push_velocity" in info:
            info["push_velocity"] = np.zeros(np.shape(info["push_velocity"]), np.float32)
        return state.replace(info=info)

    @property
    def commanded(self) -> bool:
        """Whether the task gives the policy a command (a velocity or a target)."""
        return "command" in self.state.info

    def step(self) -> RuntimeStep:
        """Play one control period."""
        command = np.asarray(self.state.info["command"], np.float64) if self.commanded else None
        tick = self.controller.tick(self.robot.sense(), command)
        mismatch = None
        if tick.observation is not None and self.noise_free:
            mismatch = float(np.max(np.abs(tick.observation - self._clean)))
        action = self._zero_action if tick.action is None else tick.action
        self.robot.send(tick.command, action)
        if "push_velocity" in self.state.info:
            self.robot.push(np.asarray(self.state.info["push_velocity"], np.float64))
        self.robot.step(self.scorer.env.n_substeps)
        self.state, self._clean = self.scorer.transition(self.state, self.robot.data, self.robot.active_action, action)
        self.steps += 1
        if self.scripted:
            self.state = self._scripted(self.state)
            self._clean = self.scorer.clean_observation(self.state)
        measured = None
        if self.velocity_commanded:
            linear, angular = self.robot.base_velocity()
            measured = np.array([linear[0], linear[1], angular[2]])
        metrics = self.state.metrics
        tracking = [float(metrics[name]) for name in self.tracking_terms if name in metrics]
        done = float(self.state.done) > 0
        return RuntimeStep(
            reward=float(self.state.reward),
            done=done,
            fell=done and float(self.state.info["truncation"]) == 0.0,
            fault=tick.fault,
            inference_s=tick.inference_s if tick.observation is not None else None,
            observation_mismatch=mismatch,
            command=command if self.velocity_commanded else None,
            measured=measured,
            tracking=tracking or None,
        )
