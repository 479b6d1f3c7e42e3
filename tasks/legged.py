"""What every joystick locomotion task shares: PD at physics rate, commands, DR, pushes, curricula, terminations.

A legged task (``tasks/quadruped_joystick.py``, ``tasks/humanoid_joystick.py``) is a config of defaults,
a reward-weights table and perhaps a few reward terms of its own; this module is the machinery under it:

- actions are PD targets ``default + action_scale * action``, tracked by :func:`sim.pd.pd_physics` at every
  physics step with torques clipped to the effort limits;
- the actor sees IMU angular velocity, projected gravity, the command, joints and its last action (no base
  linear velocity); the critic also sees base velocity, height, foot clearances and the episode's DR draw;
- velocity commands (:mod:`sim.commands`) are drawn at reset and redrawn during the episode;
- per episode: dynamics (:mod:`sim.dynamics_randomization`), initial pose, push times, terrain tile;
- an episode fails on a fall (tilt or base height), a forbidden contact (a termination body touching the
  ground) or diverged physics; the time limit truncates (and bootstraps);
- two curricula carried across episodes in ``info["curriculum"]``: ``penalty_scale`` multiplies every
  negative reward weight and grows while episodes last, and ``terrain_level`` (rough tasks) moves up a
  row of the terrain grid after a walk across the tile and down after a fall or a short walk.

Rewards are ``dt * sum(weight * term)`` over the config's ``reward_weights`` (terms from
:data:`REWARD_TERMS` plus the task's own), each term a small function of a :class:`StepQuantities`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from brax.envs.base import State
from pydantic import BaseModel, Field, field_validator

from sim.commands import COMMAND_NAMES, VelocityCommandConfig, next_command, sample_command
from sim.dynamics_randomization import DynamicsRandomization, DynamicsTargets, randomize_dynamics
from sim.env import EnvConfig, MirrorMap, MjxEnv, Observation, unknown_reward_terms
from sim.ground_clearance import Ground, GroundClearance, colliding_geoms, flat_ground, shape_problem
from sim.mjx_import import mjx
from sim.observation import ObservationTerm
from sim.pd import JointPD, pd_physics
from sim.randomization import UniformRange, as_vector
from sim.robot import Robot
from sim.robot_pose import home_qpos
from sim.task_goal import LearningGoal, TaskGoal
from sim.terrain_grid import TerrainGridConfig, grid_height_at, grid_heights, robot_on_terrain_grid, tile_centers
from sim2real_runtime.errors import ConfigError, Problem
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG


class ObservationNoise(BaseModel):
    """Half-widths of the uniform noise on the actor's sensors, in sensor units (before observation scaling)."""

    model_config = FILE_MODEL_CONFIG

    joint_pos: float = Field(0.03, ge=0.0, description="Joint position noise (rad), U(-x, x).")
    joint_vel: float = Field(1.5, ge=0.0, description="Joint velocity noise (rad/s), U(-x, x).")
    ang_vel: float = Field(0.2, ge=0.0, description="IMU angular velocity noise (rad/s), U(-x, x).")
    gravity: float = Field(0.05, ge=0.0, description="Projected gravity noise (unit vector entries), U(-x, x).")


class ObservationScales(BaseModel):
    """Factors applied to sensor values in the observation (a policy contract records them)."""

    model_config = FILE_MODEL_CONFIG

    ang_vel: float = Field(0.25, gt=0.0, description="Angular velocity factor.")
    joint_vel: float = Field(0.05, gt=0.0, description="Joint velocity factor.")


class PushConfig(BaseModel):
    """Random shoves: the base's planar velocity jumps at random times."""

    model_config = FILE_MODEL_CONFIG

    interval_s: UniformRange = Field((5.0, 10.0), description="Seconds between pushes, U(low, high).")
    velocity: float = Field(1.0, ge=0.0, description="Largest velocity change (m/s) per axis, U(-x, x) in x and y.")


class InitialPose(BaseModel):
    """How an episode's initial state scatters around the home pose."""

    model_config = FILE_MODEL_CONFIG

    joint_scale: UniformRange = Field(
        (0.9, 1.1), description="Each joint's default position times U(low, high) (clipped to its range)."
    )
    joint_offset: float = Field(0.1, ge=0.0, description="Plus U(-x, x) rad per joint.")
    position: float = Field(0.3, ge=0.0, description="Base x, y offset from the spawn point, U(-x, x) m.")
    yaw: float = Field(3.14159, ge=0.0, description="Base heading, U(-x, x) rad.")
    velocity: float = Field(0.2, ge=0.0, description="Base linear and angular velocity, U(-x, x) per axis.")
    drop: float = Field(0.02, ge=0.0, description="Height (m) above the home pose's base height it starts at.")


class PenaltyCurriculum(BaseModel):
    """Scales every negative reward weight; grows while episodes last, shrinks when they end early."""

    model_config = FILE_MODEL_CONFIG

    start: float = Field(0.5, ge=0.0, le=1.0, description="Scale of an env's first episode.")
    minimum: float = Field(0.5, ge=0.0, le=1.0, description="Lowest scale.")
    step: float = Field(0.05, ge=0.0, description="Change per finished episode.")
    raise_above: float = Field(
        0.8, ge=0.0, le=1.0, description="Raise after an episode longer than this fraction of the time limit."
    )
    lower_below: float = Field(
        0.5, ge=0.0, le=1.0, description="Lower after an episode shorter than this fraction of the time limit."
    )


class CommandCurriculum(BaseModel):
    """Scales every command range per env: narrow while the env's episodes fail, wider as they track well.

    With ``start`` 1 (the default) commands always span the full ranges. Evaluation always uses the full
    ranges (:meth:`LeggedEnv.evaluation_overrides`).
    """

    model_config = FILE_MODEL_CONFIG

    start: float = Field(1.0, gt=0.0, le=1.0, description="Range scale of an env's first episode (1: no curriculum).")
    step: float = Field(0.1, ge=0.0, description="Change of the scale per finished episode.")
    raise_above: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Widen after an episode that ran to its time limit with mean tracking_lin_vel above this.",
    )


class TerrainCurriculum(BaseModel):
    """Moves an env between rows (difficulty levels) of the terrain grid."""

    model_config = FILE_MODEL_CONFIG

    initial_max_level: int = Field(1, ge=0, description="First episodes start on a level drawn from 0..this.")
    promote_fraction: float = Field(
        0.5, gt=0.0, description="Up a level after surviving and walking this fraction of a tile's side."
    )
    demote_fraction: float = Field(
        0.5, ge=0.0, description="Down a level after a fall or a walk shorter than this fraction of the commanded one."
    )


class Terminations(BaseModel):
    """When an episode fails (the time limit truncates; diverged physics always fails)."""

    model_config = FILE_MODEL_CONFIG

    max_tilt_rad: float = Field(1.0, gt=0.0, description="Fail when the base tilts further from upright (rad).")
    min_base_height: float = Field(0.0, ge=0.0, description="Fail when the base is lower above the ground (m).")
    contact_distance: float = Field(
        0.005, ge=0.0, description="A termination body touches the ground when its lowest point is this close (m)."
    )
    collide: bool = Field(
        False,
        description="Keep the termination bodies' ground contacts. Their touch ends the episode anyway (a geometric "
        "check), so by default they get none: fewer contact pairs per physics step, same episodes.",
    )


class LeggedConfig(EnvConfig):
    """Settings of a joystick locomotion task (a task's config sets the defaults)."""

    episode_length: int = Field(1000, gt=0, description="Control steps per episode (20 s at 50 Hz).")
    action_delay_steps: int = Field(
        1, ge=0, le=20, description="Largest action delay in control steps (1 = 0-20 ms at 50 Hz), U{0..k}."
    )
    commands: VelocityCommandConfig = Field(
        default_factory=VelocityCommandConfig, description="Velocity command distribution."
    )
    randomization: DynamicsRandomization = Field(
        default_factory=DynamicsRandomization, description="Per-episode dynamics randomization."
    )
    obs_noise: ObservationNoise = Field(default_factory=ObservationNoise, description="Actor sensor noise.")
    obs_scales: ObservationScales = Field(default_factory=ObservationScales, description="Observation factors.")
    pushes: PushConfig = Field(default_factory=PushConfig, description="Random pushes.")
    initial_pose: InitialPose = Field(default_factory=InitialPose, description="Initial state scatter.")
    terminations: Terminations = Field(default_factory=Terminations, description="Failure conditions.")
    penalty_curriculum: PenaltyCurriculum = Field(
        default_factory=PenaltyCurriculum, description="Curriculum on the penalty weights."
    )
    command_curriculum: CommandCurriculum = Field(
        default_factory=CommandCurriculum, description="Curriculum on the command ranges (off by default)."
    )
    terrain: TerrainGridConfig | None = Field(None, description="Terrain grid (rough tasks); None for flat ground.")
    terrain_curriculum: TerrainCurriculum = Field(
        default_factory=TerrainCurriculum, description="Curriculum over the terrain grid's levels."
    )
    tracking_sigma: float = Field(0.25, gt=0.0, description="Tracking rewards are exp(-error^2 / sigma).")
    base_height_target: float = Field(0.3, gt=0.0, description="Base height (m) the base_height term aims at.")
    foot_contact_distance: float = Field(
        0.01, ge=0.0, description="A foot is in contact when its lowest point is this close to the ground (m)."
    )
    reward_weights: dict[str, float] = Field(
        default_factory=dict, description="Reward term -> weight (per second; the reward is dt * sum)."
    )

    @field_validator("reward_weights")
    @classmethod
    def _some_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        if not weights:
            raise ValueError("name at least one reward term")
        return weights


@dataclass(frozen=True)
class StepQuantities:
    """Everything the reward terms read about one transition (computed once per step)."""

    command: jax.Array
    """The command in force (vx, vy, yaw rate)."""
    base_lin_vel: jax.Array
    """Base linear velocity in the base frame."""
    base_ang_vel: jax.Array
    """Base angular velocity in the base frame."""
    gravity: jax.Array
    """Unit gravity direction in the base frame."""
    base_height: jax.Array
    """Base height above the ground under it."""
    q: jax.Array
    """Actuated joint positions."""
    dq: jax.Array
    """Actuated joint velocities."""
    q_default: jax.Array
    """Default pose."""
    q_low: jax.Array
    """Lower joint limits."""
    q_high: jax.Array
    """Upper joint limits."""
    torque: jax.Array
    """Actuator torques of the last physics step."""
    action: jax.Array
    """The action applied this step."""
    last_action: jax.Array
    """The action applied the step before."""
    foot_clearance: jax.Array
    """Height of each foot (body) above the ground."""
    foot_velocity: jax.Array
    """Planar world velocity of each foot."""
    foot_contact: jax.Array
    """Each foot touches the ground (0 or 1)."""
    air_time: jax.Array
    """Seconds each foot had been in the air before this step."""
    was_in_contact: jax.Array
    """Each foot touched the ground the step before (0 or 1)."""
    foot_quat_z: jax.Array
    """World z of each foot body's local z axis (1 when the sole is level)."""
    foot_xy: jax.Array
    """World x, y of each foot."""
    phase: jax.Array
    """Gait phase in [0, 1) after this step."""
    terminated: jax.Array
    """The step ended the episode by failure."""
    dt: float
    """Control period (s)."""


def _moving(s: StepQuantities) -> jax.Array:
    return (jnp.linalg.norm(s.command) > 0.05).astype(jnp.float32)


RewardTerm = Callable[[StepQuantities], jax.Array]

REWARD_TERMS: dict[str, RewardTerm] = {}
"""Reward terms every legged task may weight, by name (a task adds its own to its table)."""


def _term(name: str) -> Callable[[RewardTerm], RewardTerm]:
    def add(fn: RewardTerm) -> RewardTerm:
        REWARD_TERMS[name] = fn
        return fn

    return add


@_term("tracking_lin_vel")
def tracking_lin_vel(s: StepQuantities, sigma: float = 0.25) -> jax.Array:
    """exp(-|commanded - measured planar velocity|^2 / sigma): 1 for perfect tracking."""
    return jnp.exp(-jnp.sum((s.command[:2] - s.base_lin_vel[:2]) ** 2) / sigma)


@_term("tracking_ang_vel")
def tracking_ang_vel(s: StepQuantities, sigma: float = 0.25) -> jax.Array:
    """exp(-(commanded - measured yaw rate)^2 / sigma): 1 for perfect tracking."""
    return jnp.exp(-((s.command[2] - s.base_ang_vel[2]) ** 2) / sigma)


@_term("lin_vel_z")
def lin_vel_z(s: StepQuantities) -> jax.Array:
    """Vertical base speed squared."""
    return s.base_lin_vel[2] ** 2


@_term("ang_vel_xy")
def ang_vel_xy(s: StepQuantities) -> jax.Array:
    """Roll and pitch rates squared."""
    return jnp.sum(s.base_ang_vel[:2] ** 2)


@_term("orientation")
def orientation(s: StepQuantities) -> jax.Array:
    """Tilt: the planar part of the projected gravity, squared (0 upright)."""
    return jnp.sum(s.gravity[:2] ** 2)


@_term("base_height")
def base_height(s: StepQuantities, target: float = 0.3) -> jax.Array:
    """Squared distance of the base height from its target."""
    return (s.base_height - target) ** 2


@_term("torques")
def torques(s: StepQuantities) -> jax.Array:
    """Squared actuator torques."""
    return jnp.sum(s.torque**2)


@_term("joint_vel")
def joint_vel(s: StepQuantities) -> jax.Array:
    """Squared joint speeds."""
    return jnp.sum(s.dq**2)


@_term("action_rate")
def action_rate(s: StepQuantities) -> jax.Array:
    """Squared change of the action from the previous step."""
    return jnp.sum((s.action - s.last_action) ** 2)


@_term("pose")
def pose(s: StepQuantities) -> jax.Array:
    """Squared distance of the joints from the default pose."""
    return jnp.sum((s.q - s.q_default) ** 2)


@_term("joint_limits")
def joint_limits(s: StepQuantities) -> jax.Array:
    """How far joints are beyond 90% of their range (rad, summed)."""
    middle, half = (s.q_high + s.q_low) / 2, 0.45 * (s.q_high - s.q_low)
    return jnp.sum(jnp.maximum(jnp.abs(s.q - middle) - half, 0.0))


@_term("stand_still")
def stand_still(s: StepQuantities) -> jax.Array:
    """Distance from the default pose while commanded to stand (0 when moving is commanded)."""
    return jnp.sum(jnp.abs(s.q - s.q_default)) * (1.0 - _moving(s))


@_term("feet_air_time")
def feet_air_time(s: StepQuantities, threshold: float = 0.1) -> jax.Array:
    """On each touchdown, the air time beyond ``threshold`` s (longer steps), while commanded to move."""
    touchdown = s.foot_contact * (1.0 - s.was_in_contact)
    return jnp.sum((s.air_time + s.dt - threshold) * touchdown) * _moving(s)


@_term("feet_slip")
def feet_slip(s: StepQuantities) -> jax.Array:
    """Squared planar speed of feet in contact."""
    return jnp.sum(jnp.sum(s.foot_velocity**2, axis=-1) * s.foot_contact)


@_term("alive")
def alive(s: StepQuantities) -> jax.Array:
    """1 per step survived."""
    return 1.0 - s.terminated.astype(jnp.float32)


@_term("termination")
def termination(s: StepQuantities) -> jax.Array:
    """1 on the step that fails the episode."""
    return s.terminated.astype(jnp.float32)


TRACKING_TERMS = ("tracking_lin_vel", "tracking_ang_vel")
"""The velocity-tracking terms (they take the config's ``tracking_sigma``)."""


class LeggedEnv(MjxEnv):
    """A joystick locomotion task on a floating-base legged robot."""

    config: LeggedConfig
    TASK_TERMS: ClassVar[dict[str, RewardTerm]] = {}
    """Reward terms of the task itself, beside :data:`REWARD_TERMS`."""
    GAIT_PERIOD_STEPS: ClassVar[int | None] = None
    """Gait clock period in control steps (adds a gait-phase observation), None for none."""
    GOAL: ClassVar[TaskGoal] = TaskGoal(
        command="velocity",
        tracking_terms=TRACKING_TERMS,
        learning=LearningGoal("tracking", 0.8, no_falls=True, time_limit_s=3600.0),
    )
    """A velocity command, tracked by :data:`TRACKING_TERMS`; learned at a mean linear-velocity tracking of 0.8
    (of its maximum, 1) with no eval episode ending in a fall, within an hour on a CPU (issue 7's GPU targets
    are 5 and 10 minutes on an H100)."""

    def __init__(self, robot: Robot, config: LeggedConfig) -> None:
        self._check_robot(robot)
        if config.terrain is not None:
            robot = robot_on_terrain_grid(robot, config.terrain)
        self.terms = {**REWARD_TERMS, **self.TASK_TERMS}
        forbidden = colliding_geoms(robot.mj_model, robot.config.termination_contact_bodies)
        if not config.terminations.collide:
            robot = _without_contacts(robot, forbidden)
        super().__init__(robot, config)
        model = self.mj_model
        self.pd = JointPD.of(robot)
        self.targets = DynamicsTargets.of(robot, model, robot.ground_geom)
        self._base = model.body(robot.config.base_body).id
        free = _free_joint(model, self._base)
        self._free_qpos, self._free_dof = int(model.jnt_qposadr[free]), int(model.jnt_dofadr[free])
        self._home = jnp.asarray(home_qpos(robot))
        self._default = jnp.asarray(robot.default_pose)
        ranges = np.array([j.range for j in robot.config.joints])
        self._q_low, self._q_high = jnp.asarray(ranges[:, 0]), jnp.asarray(ranges[:, 1])
        self._feet = GroundClearance(model, np.array([model.geom(g).id for g in robot.config.foot_geoms]))
        geom_bodies = model.geom_bodyid[self._feet.geom_ids]
        self._foot_bodies = np.array(list(dict.fromkeys(geom_bodies.tolist())), dtype=int)
        self._foot_groups = _groups(geom_bodies, self._foot_bodies)
        self._forbidden = GroundClearance(model, forbidden)
        if config.terrain is not None:
            heights = jnp.asarray(grid_heights(config.terrain), jnp.float32)
            self.ground: Ground = lambda x, y: grid_height_at(config.terrain, heights, x, y)
            self._tiles = jnp.asarray(tile_centers(config.terrain), jnp.float32)
        else:
            self.ground = flat_ground
            self._tiles = jnp.zeros((1, 1, 2))
        self._weights = dict(config.reward_weights)

    @classmethod
    def config_problems(cls, config: LeggedConfig, source: str) -> list[Problem]:
        """Reward weights naming terms this task does not have."""
        return unknown_reward_terms(source, config.reward_weights, cls.reward_terms())

    @classmethod
    def reward_terms(cls) -> tuple[str, ...]:
        """The shared terms of :data:`REWARD_TERMS` and the task's own."""
        return (*REWARD_TERMS, *cls.TASK_TERMS)

    @staticmethod
    def _check_robot(robot: Robot) -> None:
        """A legged task needs a floating base, an IMU, position control, and feet and fall bodies of simple shapes."""
        base = robot.mj_model.body(robot.config.base_body).id
        needs = {
            "a free joint on its base body": _free_joint(robot.mj_model, base) is not None,
            "control: position": robot.config.control == "position",
            "an imu_site": robot.config.imu_site is not None,
            "foot_geoms": bool(robot.config.foot_geoms),
        }
        missing = [need for need, ok in needs.items() if not ok]
        if missing:
            raise ConfigError.single(robot.yaml_path, "-", f"a legged task needs {', '.join(missing)}")
        problems = _clearance_problems(robot)
        if problems:
            raise ConfigError(problems)

    # ---- episode start --------------------------------------------------------------------------------
    def initial_state(self, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Home pose scattered per :class:`InitialPose`, at the world origin (see :meth:`start_episode`)."""
        qpos, qvel, _ = self.start_episode(rng, self.initial_curriculum(rng))
        return qpos, qvel

    def initial_curriculum(self, rng: jax.Array) -> dict[str, jax.Array]:
        """Penalty scale at its start; a terrain level drawn from 0..``initial_max_level``."""
        top = min(self.config.terrain_curriculum.initial_max_level, self._tiles.shape[0] - 1)
        return {
            "penalty_scale": jnp.asarray(self.config.penalty_curriculum.start, jnp.float32),
            "command_scale": jnp.asarray(self.config.command_curriculum.start, jnp.float32),
            "terrain_level": jax.random.randint(rng, (), 0, top + 1),
        }

    @classmethod
    def evaluation_overrides(cls) -> dict:
        """Evaluation draws commands over the full ranges, whatever the command curriculum of training."""
        return {"command_curriculum": {"start": 1.0}}

    def start_episode(
        self, rng: jax.Array, curriculum: dict[str, jax.Array]
    ) -> tuple[jax.Array, jax.Array, dict[str, jax.Array]]:
        """Spawn on this level's tile of a random terrain column; draw the command and the first push time."""
        keys = jax.random.split(rng, 9)
        pose = self.config.initial_pose
        column = jax.random.randint(keys[0], (), 0, self._tiles.shape[1])
        spawn = self._tiles[curriculum["terrain_level"], column]
        xy = spawn + jax.random.uniform(keys[1], (2,), minval=-pose.position, maxval=pose.position)
        yaw = jax.random.uniform(keys[2], (), minval=-pose.yaw, maxval=pose.yaw)
        scale = jax.random.uniform(keys[3], self._default.shape, minval=pose.joint_scale[0], maxval=pose.joint_scale[1])
        offset = jax.random.uniform(keys[4], self._default.shape, minval=-pose.joint_offset, maxval=pose.joint_offset)
        joints = jnp.clip(self._default * scale + offset, self._q_low, self._q_high)
        fq = self._free_qpos
        qpos = self._home.at[self.pd.qpos_adr].set(joints)
        qpos = qpos.at[fq : fq + 2].set(xy)
        qpos = qpos.at[fq + 2].add(self.ground(xy[0], xy[1]) + pose.drop)
        qpos = qpos.at[fq + 3 : fq + 7].set(jnp.array([jnp.cos(yaw / 2), 0.0, 0.0, jnp.sin(yaw / 2)]))
        qvel = jnp.zeros(self.mj_model.nv)
        base_vel = jax.random.uniform(keys[5], (6,), minval=-pose.velocity, maxval=pose.velocity)
        qvel = qvel.at[self._free_dof : self._free_dof + 6].set(base_vel)
        command, hold = sample_command(keys[6], self.config.commands, curriculum["command_scale"])
        feet = self._foot_bodies.size
        extra = {
            "command": command,
            "command_steps_left": hold,
            "push_steps_left": self._push_interval(keys[7]),
            "push_velocity": jnp.zeros(2),
            "spawn_xy": xy,
            "commanded_distance": jnp.zeros(()),
            "tracking_sum": jnp.zeros(()),
            "last_applied": jnp.zeros(self.action_size),
            "feet_air_time": jnp.zeros(feet),
            "feet_contact": jnp.ones(feet),
        }
        return qpos, qvel, extra

    def _push_interval(self, rng: jax.Array) -> jax.Array:
        low, high = self.config.pushes.interval_s
        seconds = jax.random.uniform(rng, (), minval=low, maxval=high)
        return jnp.maximum(jnp.round(seconds / self.config.control_dt), 1).astype(jnp.int32)

    # ---- physics --------------------------------------------------------------------------------------
    def control(self, action: jax.Array) -> jax.Array:
        """PD position targets around the default pose."""
        return self._default + self.robot.config.action_scale * action

    def advance(self, model: mjx.Model, data: mjx.Data, applied: jax.Array, info: dict) -> mjx.Data:
        """Track the targets with PD at every physics step (this episode's gains and strength)."""
        dr = info["dr"]
        scales = (dr["kp_scale"], dr["kd_scale"], dr["motor_strength"])
        return pd_physics(model, data, self.control(applied), self.pd, self.n_substeps, scales)

    def step(self, state: State, action: jax.Array) -> State:
        """Apply a pending push to the base velocity, then step (see :meth:`MjxEnv.step`)."""
        data = state.pipeline_state
        dof = self._free_dof
        data = data.replace(qvel=data.qvel.at[dof : dof + 2].add(state.info["push_velocity"]))
        return super().step(state.replace(pipeline_state=data), action)

    def randomization_ranges(self) -> dict[str, tuple[float, float]]:
        """The ranges of ``config.randomization``, by name."""
        return self.config.randomization.model_dump()

    def randomization_sizes(self) -> dict[str, int]:
        """Per-body and per-joint entries of the vector-valued ranges."""
        return self.targets.sizes()

    def randomized_model(self, params: dict[str, jax.Array]) -> mjx.Model:
        """The nominal model with this episode's dynamics."""
        return randomize_dynamics(self.mjx_model, params, self.targets)

    # ---- observation ----------------------------------------------------------------------------------
    def actor_terms(self) -> list[ObservationTerm]:
        """IMU, command, joints and last action (plus a gait clock when the task has one); noise per sensor."""
        noise, scales = self.config.obs_noise, self.config.obs_scales
        joints = tuple(self.robot.joint_names)
        terms = [
            ObservationTerm("base_ang_vel", "base_ang_vel", scale=scales.ang_vel, noise=noise.ang_vel * scales.ang_vel),
            ObservationTerm("projected_gravity", "projected_gravity", noise=noise.gravity),
            ObservationTerm("velocity_command", "velocity_command"),
            ObservationTerm("joint_pos", "joint_pos_rel", joints, noise=noise.joint_pos),
            ObservationTerm(
                "joint_vel", "joint_vel", joints, scale=scales.joint_vel, noise=noise.joint_vel * scales.joint_vel
            ),
            ObservationTerm("last_action", "last_action"),
        ]
        if self.GAIT_PERIOD_STEPS is not None:
            terms.append(ObservationTerm("gait_phase", "gait_phase", period_steps=self.GAIT_PERIOD_STEPS))
        return terms

    def observe(self, data: mjx.Data, info: dict) -> Observation:
        """Actor terms; the critic adds base velocity and height, foot clearances and contacts, and the DR draw."""
        actor = self.actor_layout(data, info)
        rotation = data.xmat[self._base]
        base_xy = data.xpos[self._base, :2]
        height = data.xpos[self._base, 2] - self.ground(base_xy[0], base_xy[1])
        lin_vel = rotation.T @ data.cvel[self._base, 3:]
        clearance = self.foot_clearance(data)
        privileged = [
            lin_vel,
            height[None],
            jnp.clip(clearance, -0.1, 0.3),
            info["feet_contact"],
            info["push_velocity"],
            info["curriculum"]["penalty_scale"][None],
            as_vector(info["dr"]),
        ]
        return {"actor": actor, "critic": jnp.concatenate([actor, *privileged])}

    def command_ranges(self) -> dict[str, tuple[float, float]]:
        """vx, vy and yaw-rate ranges."""
        ranges = self.config.commands.ranges()
        return {name: ranges[name] for name in COMMAND_NAMES}

    def mirror_map(self) -> MirrorMap | None:
        """Left/right mirror (reflection y -> -y) of actor, critic and action; None without a joint mirror."""
        index, signs = self.robot.mirror_index, self.robot.mirror_signs
        if index is None or signs is None:
            return None
        joints = (index, signs)
        blocks = {
            "base_ang_vel": _signs(-1, 1, -1),  # an axial vector: x and z flip
            "projected_gravity": _signs(1, -1, 1),  # a polar vector: y flips
            "velocity_command": _signs(1, -1, -1),  # vy and the yaw rate flip
            "joint_pos": joints,
            "joint_vel": joints,
            "last_action": joints,
            "gait_phase": _signs(-1, -1),  # the mirrored gait is half a period ahead
        }
        actor = _stack([blocks[t.name] for t in self.actor_terms()])
        model = self.mj_model
        foot_names = [model.body(int(b)).name for b in self._foot_bodies]
        feet = (_name_mirror(foot_names), np.ones(len(foot_names)))
        bodies = [model.body(int(b)).name for b in self.targets.bodies]
        dr_blocks = {
            "base_added_mass": _signs(1),
            "base_com_offset": _signs(1, -1, 1),
            "friction": _signs(1),
            "link_mass_scale": (_name_mirror(bodies), np.ones(len(bodies))),
        }
        dr = _stack([dr_blocks.get(name, (index, np.ones(len(index)))) for name in sorted(self.randomization_ranges())])
        critic = _stack([actor, _signs(1, -1, 1), _signs(1), feet, feet, _signs(1, -1), _signs(1), dr])
        return {"actor": actor, "critic": critic, "action": joints}

    # ---- reward, termination, bookkeeping ------------------------------------------------------------------
    def foot_clearance(self, data: mjx.Data) -> jax.Array:
        """Height above the ground of each foot (the lowest of its foot geoms), one entry per foot body."""
        return jnp.min(self._feet.clearance(data, self.ground)[self._foot_groups], axis=1)

    def quantities(self, data: mjx.Data, applied: jax.Array, info: dict, terminated: jax.Array) -> StepQuantities:
        """The :class:`StepQuantities` of a transition that reached ``data``."""
        rotation = data.xmat[self._base]
        base_xy = data.xpos[self._base, :2]
        clearance = self.foot_clearance(data)
        foot_rot = data.xmat[self._foot_bodies]
        step = info["step"] + 1
        period = self.GAIT_PERIOD_STEPS or 1
        return StepQuantities(
            command=info["command"],
            base_lin_vel=rotation.T @ data.cvel[self._base, 3:],
            base_ang_vel=rotation.T @ data.cvel[self._base, :3],
            gravity=-rotation[2],
            base_height=data.xpos[self._base, 2] - self.ground(base_xy[0], base_xy[1]),
            q=data.qpos[self.pd.qpos_adr],
            dq=data.qvel[self.pd.dof_adr],
            q_default=self._default,
            q_low=self._q_low,
            q_high=self._q_high,
            torque=data.qfrc_actuator[self.pd.dof_adr],
            action=applied,
            last_action=info["last_applied"],
            foot_clearance=clearance,
            foot_velocity=data.cvel[self._foot_bodies, 3:5],
            foot_contact=(clearance < self.config.foot_contact_distance).astype(jnp.float32),
            air_time=info["feet_air_time"],
            was_in_contact=info["feet_contact"],
            foot_quat_z=foot_rot[:, 2, 2],
            foot_xy=data.xpos[self._foot_bodies, :2],
            phase=jnp.mod(step, period) / period,
            terminated=terminated,
            dt=self.config.control_dt,
        )

    def reward(self, data: mjx.Data, action: jax.Array, info: dict) -> tuple[jax.Array, dict[str, jax.Array]]:
        """``dt * sum(weight * term)``, negative weights scaled by the penalty curriculum."""
        quantities = self.quantities(data, action, info, self.terminated(data, info))
        values = {name: self._evaluate(name, quantities) for name in self._weights}
        penalty = info["curriculum"]["penalty_scale"]
        total = (
            sum((w if w >= 0 else w * penalty) * values[name] for name, w in self._weights.items())
            * self.config.control_dt
        )
        return total, values

    def _evaluate(self, name: str, s: StepQuantities) -> jax.Array:
        """One term's value, with the config's parameters where the term takes them."""
        if name in TRACKING_TERMS:
            return self.terms[name](s, self.config.tracking_sigma)
        if name == "base_height":
            return self.terms[name](s, self.config.base_height_target)
        return self.terms[name](s)

    def terminated(self, data: mjx.Data, info: dict) -> jax.Array:
        """A fall: tilt beyond the limit, the base too low, or a termination body on the ground."""
        del info
        limits = self.config.terminations
        up = data.xmat[self._base, 2, 2]
        base_xy = data.xpos[self._base, :2]
        height = data.xpos[self._base, 2] - self.ground(base_xy[0], base_xy[1])
        tilted = up < jnp.cos(limits.max_tilt_rad)
        low = height < limits.min_base_height
        touching = jnp.any(self._forbidden.clearance(data, self.ground) < limits.contact_distance)
        return tilted | low | touching

    def update_info(
        self, info: dict, data: mjx.Data, applied: jax.Array, terminated: jax.Array, truncated: jax.Array
    ) -> dict:
        """Advance the command, push timer, foot air times and (at an episode's end) the curricula."""
        info = dict(info)
        info["rng"], command_key, push_key, direction_key = jax.random.split(info["rng"], 4)
        velocity = data.xmat[self._base].T @ data.cvel[self._base, 3:]
        error = jnp.sum((info["command"][:2] - velocity[:2]) ** 2)
        info["tracking_sum"] = info["tracking_sum"] + jnp.exp(-error / self.config.tracking_sigma)
        scale = info["curriculum"]["command_scale"]
        command, left = next_command(
            command_key, self.config.commands, info["command"], info["command_steps_left"], scale
        )
        info["commanded_distance"] = info["commanded_distance"] + jnp.linalg.norm(info["command"][:2]) * self.dt
        info["command"], info["command_steps_left"] = command, left
        push_due = info["push_steps_left"] <= 1
        kick = jax.random.uniform(direction_key, (2,), minval=-1.0, maxval=1.0) * self.config.pushes.velocity
        info["push_velocity"] = jnp.where(push_due, kick, 0.0)
        info["push_steps_left"] = jnp.where(push_due, self._push_interval(push_key), info["push_steps_left"] - 1)
        contact = (self.foot_clearance(data) < self.config.foot_contact_distance).astype(jnp.float32)
        info["feet_air_time"] = jnp.where(contact > 0, 0.0, info["feet_air_time"] + self.dt)
        info["feet_contact"] = contact
        info["last_applied"] = applied
        ended = terminated | truncated
        info["curriculum"] = jax.tree.map(
            lambda new, old: jnp.where(ended, new, old),
            self._next_curriculum(info, data, terminated),
            info["curriculum"],
        )
        return info

    def _next_curriculum(self, info: dict, data: mjx.Data, failed: jax.Array) -> dict[str, jax.Array]:
        """The curriculum after an episode that ends now (``failed``: by a fall)."""
        fraction = (info["step"]) / self.config.episode_length
        rule = self.config.penalty_curriculum
        scale = info["curriculum"]["penalty_scale"]
        scale = jnp.where(fraction > rule.raise_above, scale + rule.step, scale)
        scale = jnp.where(fraction < rule.lower_below, scale - rule.step, scale)
        commands = self.config.command_curriculum
        tracked = info["tracking_sum"] / jnp.maximum(info["step"], 1) > commands.raise_above
        command_scale = info["curriculum"]["command_scale"]
        command_scale = jnp.where(~failed & (fraction >= 1.0) & tracked, command_scale + commands.step, command_scale)
        command_scale = jnp.clip(jnp.where(failed, command_scale - commands.step, command_scale), commands.start, 1.0)
        level = info["curriculum"]["terrain_level"]
        levels = self._tiles.shape[0]
        if self.config.terrain is not None:
            terrain = self.config.terrain_curriculum
            walked = jnp.linalg.norm(data.xpos[self._base, :2] - info["spawn_xy"])
            promote = ~failed & (walked > terrain.promote_fraction * self.config.terrain.tile_size)
            demote = failed | (walked < terrain.demote_fraction * info["commanded_distance"])
            rng = jax.random.fold_in(info["rng"], 1)
            top = jnp.where(level >= levels - 1, jax.random.randint(rng, (), 0, levels), level + 1)
            level = jnp.where(promote, top, jnp.where(demote, jnp.maximum(level - 1, 0), level))
        return {
            "penalty_scale": jnp.clip(scale, rule.minimum, 1.0),
            "command_scale": command_scale,
            "terrain_level": level,
        }


def _free_joint(model: mujoco.MjModel, body: int) -> int | None:
    """The free joint of ``body``, or None."""
    free = int(mujoco.mjtJoint.mjJNT_FREE)
    return next((j for j in range(model.njnt) if model.jnt_bodyid[j] == body and model.jnt_type[j] == free), None)


def _clearance_problems(robot: Robot) -> list[Problem]:
    """Foot geoms and termination bodies with a geom whose lowest point :mod:`sim.ground_clearance` cannot compute."""
    model, file = robot.mj_model, str(robot.yaml_path)
    problems = []
    for i, body in enumerate(robot.config.termination_contact_bodies):
        try:
            colliding_geoms(model, [body])
        except ValueError as exc:
            problems.append(Problem(file, f"termination_contact_bodies[{i}]", str(exc)))
    for i, geom in enumerate(robot.config.foot_geoms):
        problem = shape_problem(model, model.geom(geom).id)
        if problem is not None:
            problems.append(Problem(file, f"foot_geoms[{i}]", problem))
    return problems


def _without_contacts(robot: Robot, geoms: np.ndarray) -> Robot:
    """The robot with ``geoms`` taken out of collision detection (a copy of its model)."""
    model = copy.deepcopy(robot.mj_model)
    model.geom_contype[geoms] = 0
    model.geom_conaffinity[geoms] = 0
    return dataclasses.replace(robot, mj_model=model)


def _groups(members: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Row ``i``: the positions in ``members`` equal to ``owners[i]``, padded by repeating its first."""
    rows = [np.flatnonzero(members == owner) for owner in owners]
    width = max(len(row) for row in rows)
    return np.array([np.concatenate([row, np.full(width - len(row), row[0])]) for row in rows], dtype=int)


def _signs(*signs: float) -> tuple[np.ndarray, np.ndarray]:
    """A block that keeps its order and multiplies entries by ``signs``."""
    return np.arange(len(signs)), np.array(signs, dtype=float)


_SIDE_WORDS = (("left", "right"), ("FL", "FR"), ("RL", "RR"))


def _name_mirror(names: list[str]) -> np.ndarray:
    """For each name, the index of its left/right twin (the name with side words swapped), or itself."""
    twins = []
    for name in names:
        twin = name
        for a, b in _SIDE_WORDS:
            if a in name:
                twin = name.replace(a, b)
                break
            if b in name:
                twin = name.replace(b, a)
                break
        twins.append(names.index(twin) if twin in names else names.index(name))
    return np.array(twins, dtype=int)


def _stack(blocks: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Block-diagonal concatenation of signed permutations."""
    index, sign, offset = [], [], 0
    for block_index, block_sign in blocks:
        index.append(np.asarray(block_index) + offset)
        sign.append(np.asarray(block_sign, dtype=float))
        offset += len(block_index)
    return np.concatenate(index), np.concatenate(sign)
