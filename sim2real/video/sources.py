"""What a rollout video shows, a control step at a time.

Three sources: batched MJX envs under a policy, robots in MuJoCo C run by the deployment runtime, or a
robot holding its default pose. A source hands the renderer one :class:`TileState` per tile after every
control step. Episodes that end (failure, time limit) restart at once with a fresh draw, as in
training, so each tile plays episode after episode for the whole clip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from sim.batched import BatchedEnv
from sim.env import MjxEnv
from sim.robot import Robot
from sim.robot_pose import home_qpos, put_on_floor
from sim2real.sim2sim.command_schedule import CommandSchedule
from sim2real.sim2sim.episode import RuntimeEpisode
from sim2real.sim2sim.mujoco_robot import MujocoRobot
from sim2real.sim2sim.run import check_task_fits
from sim2real.sim2sim.scoring import TaskScorer
from sim2real_runtime.controller import Controller
from sim2real_runtime.policy_runner import PolicyRunner
from sim2real_runtime.robot_spec import RobotSpec
from sim2real_runtime.safety import SafetyFilter
from sim2real_runtime.state import JointCommand

BatchPolicy = Callable[[np.ndarray], np.ndarray]
"""A deterministic policy on a batch of actor observations, returning a batch of actions."""


@dataclass(frozen=True)
class TileState:
    """One tile after a control step: the physics state to draw and what its caption says."""

    qpos: np.ndarray
    """Generalized positions."""
    qvel: np.ndarray
    """Generalized velocities."""
    episode: int
    """Episodes this tile has started (1 for the first)."""
    time_s: float
    """Seconds since the episode started."""
    reward: float | None
    """Reward of the last control step (None before the first step and where there is no task)."""
    command: np.ndarray | None
    """Commanded base ``(vx, vy, yaw rate)``, for commanded tasks."""
    mode: str | None
    """The safety filter's mode, where the runtime runs (``ACTIVE`` or ``DAMP: fault``)."""


class RolloutSource(Protocol):
    """Anything that plays tiles a control step at a time."""

    model: mujoco.MjModel
    """The MuJoCo model to draw."""
    base_body: str
    """The body the tracking camera follows."""
    control_dt: float
    """Seconds per control step."""
    num_envs: int
    """Tiles."""

    def start(self) -> list[TileState]:
        """Begin every tile's first episode."""
        ...

    def step(self) -> list[TileState]:
        """Advance every tile one control step."""
        ...


class MjxSource:
    """Batched MJX envs driven by a policy, exactly as evaluation runs them (auto-reset included)."""

    def __init__(self, env: MjxEnv, num_envs: int, policy: BatchPolicy, seed: int) -> None:
        self.env, self.num_envs, self.policy, self.seed = env, num_envs, policy, seed
        self.model, self.base_body, self.control_dt = env.mj_model, env.robot.config.base_body, env.dt
        batched = BatchedEnv(env, num_envs)
        self._reset, self._step = jax.jit(batched.reset), jax.jit(batched.step)

    def start(self) -> list[TileState]:
        """Reset every env."""
        self.state = self._reset(jax.random.PRNGKey(self.seed))
        self.episodes = np.ones(self.num_envs, dtype=int)
        return self._tiles(None)

    def step(self) -> list[TileState]:
        """One control step of every env with the policy's actions."""
        action = self.policy(np.asarray(self.state.obs["actor"], np.float32))
        self.state = self._step(self.state, jnp.asarray(action, jnp.float32))
        self.episodes += np.asarray(self.state.done) > 0
        return self._tiles(np.asarray(self.state.reward))

    def _tiles(self, rewards: np.ndarray | None) -> list[TileState]:
        physics, info = self.state.pipeline_state, self.state.info
        qpos, qvel = np.asarray(physics.qpos, np.float64), np.asarray(physics.qvel, np.float64)
        times = np.asarray(info["step"]) * self.control_dt
        commands = np.asarray(info["command"]) if "command" in info else None
        return [
            TileState(
                qpos[i],
                qvel[i],
                int(self.episodes[i]),
                float(times[i]),
                None if rewards is None else float(rewards[i]),
                None if commands is None else commands[i],
                None,
            )
            for i in range(self.num_envs)
        ]


class RuntimeSource:
    """Robots in MuJoCo C, each run by its own deployment runtime (policy runner + safety filter)."""

    def __init__(
        self,
        env: MjxEnv,
        task: str,
        policy: str,
        num_envs: int,
        seed: int,
        schedule: CommandSchedule | None = None,
        pushes: bool = True,
    ) -> None:
        """Robots for ``policy`` on ``task``; ``schedule`` replaces random commands; ``pushes=False`` drops pushes."""
        self.num_envs, self.seed = num_envs, seed
        self.model, self.base_body, self.control_dt = env.mj_model, env.robot.config.base_body, env.dt
        if schedule is not None:
            schedule.check_fits(env, task)
        spec = RobotSpec(env.robot.config, str(env.robot.yaml_path))
        scorer = TaskScorer(env)
        runners = [PolicyRunner(policy, spec) for _ in range(num_envs)]  # refuses a contract unfit for the robot
        check_task_fits(runners[0].contract, env, task, policy)
        self.episodes: list[RuntimeEpisode] = []
        for index, runner in enumerate(runners):
            controller = Controller(runner, SafetyFilter(spec, runner.contract.control_dt))
            robot = MujocoRobot(env.robot, env.mj_model, seed=seed + index)
            episode = RuntimeEpisode(scorer, robot, controller, noise_free=True, schedule=schedule, pushes=pushes)
            self.episodes.append(episode)
        self._keys = jax.random.split(jax.random.PRNGKey(seed), num_envs)

    def start(self) -> list[TileState]:
        """Begin every robot's first episode."""
        self.counts = [1] * self.num_envs
        for index, episode in enumerate(self.episodes):
            episode.start(self._key(index))
        return [self._tile(index, None, None) for index in range(self.num_envs)]

    def _key(self, index: int) -> jax.Array:
        return jax.random.fold_in(self._keys[index], self.counts[index])

    def step(self) -> list[TileState]:
        """One control tick of every robot; an ended episode restarts with the next draw."""
        tiles = []
        for index, episode in enumerate(self.episodes):
            outcome = episode.step()
            mode = "ACTIVE" if outcome.fault is None else f"DAMP: {outcome.fault}"
            if outcome.done:
                self.counts[index] += 1
                episode.start(self._key(index))
            tiles.append(self._tile(index, outcome.reward, mode))
        return tiles

    def _tile(self, index: int, reward: float | None, mode: str | None) -> TileState:
        episode = self.episodes[index]
        data, info = episode.robot.data, episode.state.info
        command = np.asarray(info["command"]) if "command" in info else None
        time_s = episode.steps * self.control_dt
        return TileState(data.qpos.copy(), data.qvel.copy(), self.counts[index], time_s, reward, command, mode)


class HoldPoseSource:
    """A robot in MuJoCo C holding its default pose under its own PD gains, from perturbed starts (no task)."""

    def __init__(self, robot: Robot, num_envs: int, seed: int, perturbation: float = 0.1) -> None:
        self.num_envs = num_envs
        self.model, self.base_body = robot.mj_model, robot.config.base_body
        self.control_dt = robot.config.control_dt or 0.02
        self.substeps = max(1, round(self.control_dt / self.model.opt.timestep))
        self.robots = [MujocoRobot(robot, self.model, seed=seed + i) for i in range(num_envs)]
        joints = robot.config.joints
        zeros = np.zeros(len(joints))
        self.hold = JointCommand(
            np.array([j.default_pos for j in joints]),
            zeros,
            np.array([j.kp for j in joints]),
            np.array([j.kd for j in joints]),
            zeros,
        )
        self._ranges = np.array([j.range for j in joints])
        self._rng = np.random.default_rng(seed)
        self._perturbation = perturbation
        self._robot = robot
        self.steps = 0

    def _start_pose(self) -> np.ndarray:
        """The home pose with every hinge/slide joint moved up to ``perturbation`` (rad or m), feet on the floor."""
        model, qpos = self.model, home_qpos(self._robot)
        hinge_or_slide = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
        for joint in range(model.njnt):
            if int(model.jnt_type[joint]) in hinge_or_slide:
                qpos[model.jnt_qposadr[joint]] += self._rng.uniform(-self._perturbation, self._perturbation)
        low, high = self._ranges[:, 0], self._ranges[:, 1]
        offsets = self._rng.uniform(-self._perturbation, self._perturbation, len(low))
        qpos[self._robot.qpos_adr] = np.clip(self.hold.position + offsets, low, high)
        put_on_floor(self._robot, qpos[None])
        return qpos

    def start(self) -> list[TileState]:
        """Place every copy at a perturbed start and command the default pose."""
        self.steps = 0
        for robot in self.robots:
            robot.reset(self._start_pose(), np.zeros(self.model.nv))
            robot.send(self.hold, np.zeros(len(self.hold.position)))
        return self._tiles()

    def step(self) -> list[TileState]:
        """Advance one control period of PD at physics rate."""
        for robot in self.robots:
            robot.step(self.substeps)
        self.steps += 1
        return self._tiles()

    def _tiles(self) -> list[TileState]:
        time_s = self.steps * self.control_dt
        return [
            TileState(r.data.qpos.copy(), r.data.qvel.copy(), 1, time_s, None, None, "HOLD default pose")
            for r in self.robots
        ]
