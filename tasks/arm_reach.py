"""Arm reach: bring the end effector to random targets in the workspace, under joint PD.

The Panda-class arm (``assets/robots/arm``) at 50 Hz with PD at 500 Hz. Targets are drawn uniformly in a
box in front of the arm and redrawn every 2-4 s; the actor sees its joints, its last action and the
target in the base frame (the command a deployment sends), never the end effector itself, so the
exported policy runs on joint encoders alone. Dynamics (masses, gains, motor strength, armature,
damping), action delay and sensor noise are randomized per episode.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, Field, field_validator

from sim.dynamics_randomization import DynamicsTargets, randomize_dynamics
from sim.env import EnvConfig, MjxEnv, Observation, unknown_reward_terms
from sim.mjx_import import mjx
from sim.observation import ObservationTerm
from sim.pd import JointPD, pd_physics
from sim.randomization import UniformRange, as_vector
from sim.robot import Robot
from sim.robot_pose import home_qpos
from sim.task_goal import TaskGoal
from sim2real_runtime.errors import ConfigError, Problem
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG, LIST_AS_TUPLE
from tasks.registry import TaskSpec, register

TARGET_NAMES = ("x", "y", "z")
"""Entries of the target command (base frame, m)."""


class ArmRandomization(BaseModel):
    """Per-episode dynamics randomization of the arm (see :class:`sim.dynamics_randomization.DynamicsRandomization`)."""

    model_config = FILE_MODEL_CONFIG

    link_mass_scale: UniformRange = Field((0.9, 1.1), description="Mass (and inertia) factor per link, U(low, high).")
    kp_scale: UniformRange = Field((0.9, 1.1), description="PD stiffness factor per joint, U(low, high).")
    kd_scale: UniformRange = Field((0.9, 1.1), description="PD damping factor per joint, U(low, high).")
    motor_strength: UniformRange = Field((0.9, 1.1), description="Torque factor per joint, U(low, high).")
    armature_scale: UniformRange = Field((1.0, 1.05), description="Rotor armature factor per joint, U(low, high).")
    damping_scale: UniformRange = Field((0.9, 1.1), description="Joint damping factor per joint, U(low, high).")


class ArmNoise(BaseModel):
    """Half-widths of the uniform noise on the actor's joint sensors."""

    model_config = FILE_MODEL_CONFIG

    joint_pos: float = Field(0.005, ge=0.0, description="Joint position noise (rad).")
    joint_vel: float = Field(0.05, ge=0.0, description="Joint velocity noise (rad/s).")


class ArmReachConfig(EnvConfig):
    """Arm reach settings."""

    sim_dt: float = Field(0.002, gt=0.0, description="Physics step (s): PD at 500 Hz.")
    control_dt: float = Field(0.02, gt=0.0, description="Control period (s): 50 Hz.")
    episode_length: int = Field(500, gt=0, description="Control steps per episode (10 s).")
    action_delay_steps: int = Field(1, ge=0, le=20, description="Largest action delay (steps), U{0..k}.")
    ee_site: str = Field("ee", min_length=1, description="MJCF site at the tool centre point.")
    workspace_x: UniformRange = Field((0.3, 0.65), description="Target x (m, base frame), U(low, high).")
    workspace_y: UniformRange = Field((-0.35, 0.35), description="Target y (m, base frame), U(low, high).")
    workspace_z: UniformRange = Field((0.15, 0.65), description="Target z (m, base frame), U(low, high).")
    target_steps: Annotated[tuple[int, int], LIST_AS_TUPLE] = Field(
        (100, 200), description="A target holds for U{low..high} control steps."
    )
    initial_joint_offset: float = Field(0.2, ge=0.0, description="Initial joints: default + U(-x, x) rad.")
    randomization: ArmRandomization = Field(default_factory=ArmRandomization, description="Dynamics randomization.")
    obs_noise: ArmNoise = Field(default_factory=ArmNoise, description="Actor sensor noise.")
    joint_vel_scale: float = Field(0.1, gt=0.0, description="Joint velocity factor in the observation.")
    reward_weights: dict[str, float] = Field(
        default_factory=lambda: dict(REWARD_WEIGHTS), description="Reward term -> weight per second."
    )

    @field_validator("target_steps")
    @classmethod
    def _ordered_steps(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] < 1 or value[0] > value[1]:
            raise ValueError(f"{list(value)} must be [low, high] with 1 <= low <= high control steps")
        return value


def reach(distance: jax.Array) -> jax.Array:
    """1 - tanh(d / 0.1): 1 on the target, 0.24 at 10 cm, about 0 beyond 30 cm."""
    return 1.0 - jnp.tanh(distance / 0.1)


def reach_precise(distance: jax.Array) -> jax.Array:
    """1 - tanh(d / 0.01): rewards the last centimetres."""
    return 1.0 - jnp.tanh(distance / 0.01)


REWARD_WEIGHTS: dict[str, float] = {
    "reach": 1.0,
    "reach_precise": 0.5,
    "action_rate": -0.01,
    "joint_vel": -0.001,
    "joint_limits": -1.0,
}
"""Reward term -> weight per second (the step reward is ``control_dt * sum``)."""


class ArmReachEnv(MjxEnv):
    """Reach random targets with the end effector."""

    config: ArmReachConfig
    GOAL: ClassVar[TaskGoal] = TaskGoal(command="target_position", tracking_terms=("reach",))
    """A target position, tracked by the ``reach`` term; no learning goal measured yet."""

    @classmethod
    def config_problems(cls, config: ArmReachConfig, source: str) -> list[Problem]:
        """Reward weights naming terms this task does not have."""
        return unknown_reward_terms(source, config.reward_weights, cls.reward_terms())

    @classmethod
    def reward_terms(cls) -> tuple[str, ...]:
        """The terms of :data:`REWARD_WEIGHTS`."""
        return tuple(REWARD_WEIGHTS)

    def __init__(self, robot: Robot, config: ArmReachConfig) -> None:
        if robot.config.control != "position":
            raise ConfigError.single(robot.yaml_path, "control", "arm_reach needs a position-controlled robot")
        super().__init__(robot, config)
        try:
            self._ee = self.mj_model.site(config.ee_site).id
        except KeyError:
            raise ConfigError.single(robot.mjcf_path, "ee_site", f"no site '{config.ee_site}' in the MJCF") from None
        self.pd = JointPD.of(robot)
        self.targets = DynamicsTargets.of(robot, self.mj_model, None)
        self._home = jnp.asarray(home_qpos(robot))
        self._default = jnp.asarray(robot.default_pose)
        ranges = np.array([j.range for j in robot.config.joints])
        self._q_low, self._q_high = jnp.asarray(ranges[:, 0]), jnp.asarray(ranges[:, 1])
        self._base = self.mj_model.body(robot.config.base_body).id

    def _target(self, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """A target in the workspace box and the steps it holds for."""
        c = self.config
        low = jnp.array([c.workspace_x[0], c.workspace_y[0], c.workspace_z[0]])
        high = jnp.array([c.workspace_x[1], c.workspace_y[1], c.workspace_z[1]])
        value_key, hold_key = jax.random.split(rng)
        hold = jax.random.randint(hold_key, (), c.target_steps[0], c.target_steps[1] + 1)
        return jax.random.uniform(value_key, (3,), minval=low, maxval=high), hold

    def initial_state(self, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The default pose plus U(-offset, offset) per joint, at rest."""
        offset = self.config.initial_joint_offset
        joints = self._default + jax.random.uniform(rng, self._default.shape, minval=-offset, maxval=offset)
        qpos = self._home.at[self.pd.qpos_adr].set(jnp.clip(joints, self._q_low, self._q_high))
        return qpos, jnp.zeros(self.mj_model.nv)

    def start_episode(
        self, rng: jax.Array, curriculum: dict[str, jax.Array]
    ) -> tuple[jax.Array, jax.Array, dict[str, jax.Array]]:
        """Initial pose and the first target."""
        del curriculum
        pose_key, target_key = jax.random.split(rng)
        qpos, qvel = self.initial_state(pose_key)
        target, hold = self._target(target_key)
        return qpos, qvel, {"command": target, "command_steps_left": hold, "last_applied": jnp.zeros(self.action_size)}

    def control(self, action: jax.Array) -> jax.Array:
        """PD targets around the default pose."""
        return self._default + self.robot.config.action_scale * action

    def advance(self, model: mjx.Model, data: mjx.Data, applied: jax.Array, info: dict) -> mjx.Data:
        """PD toward the targets at every physics step, with this episode's gains and strength."""
        dr = info["dr"]
        scales = (dr["kp_scale"], dr["kd_scale"], dr["motor_strength"])
        return pd_physics(model, data, self.control(applied), self.pd, self.n_substeps, scales)

    def actor_terms(self) -> list[ObservationTerm]:
        """Joint positions and velocities, the target, the last action."""
        joints = tuple(self.robot.joint_names)
        noise, scale = self.config.obs_noise, self.config.joint_vel_scale
        return [
            ObservationTerm("joint_pos", "joint_pos_rel", joints, noise=noise.joint_pos),
            ObservationTerm("joint_vel", "joint_vel", joints, scale=scale, noise=noise.joint_vel * scale),
            ObservationTerm("target", "position_command"),
            ObservationTerm("last_action", "last_action"),
        ]

    def end_effector(self, data: mjx.Data) -> jax.Array:
        """End-effector position in the base frame."""
        rotation = data.xmat[self._base]
        return rotation.T @ (data.site_xpos[self._ee] - data.xpos[self._base])

    def observe(self, data: mjx.Data, info: dict) -> Observation:
        """Actor terms; the critic adds the end effector, its error to the target and the DR draw."""
        actor = self.actor_layout(data, info)
        ee = self.end_effector(data)
        critic = jnp.concatenate([actor, ee, info["command"] - ee, as_vector(info["dr"])])
        return {"actor": actor, "critic": critic}

    def command_ranges(self) -> dict[str, tuple[float, float]]:
        """The target box, per axis."""
        c = self.config
        return dict(zip(TARGET_NAMES, (c.workspace_x, c.workspace_y, c.workspace_z), strict=True))

    def reward(self, data: mjx.Data, action: jax.Array, info: dict) -> tuple[jax.Array, dict[str, jax.Array]]:
        """``dt * sum(weight * term)`` over ``reward_weights``."""
        distance = jnp.linalg.norm(self.end_effector(data) - info["command"])
        q, dq = data.qpos[self.pd.qpos_adr], data.qvel[self.pd.dof_adr]
        middle, half = (self._q_high + self._q_low) / 2, 0.45 * (self._q_high - self._q_low)
        values = {
            "reach": reach(distance),
            "reach_precise": reach_precise(distance),
            "action_rate": jnp.sum((action - info["last_applied"]) ** 2),
            "joint_vel": jnp.sum(dq**2),
            "joint_limits": jnp.sum(jnp.maximum(jnp.abs(q - middle) - half, 0.0)),
        }
        terms = {name: values[name] for name in self.config.reward_weights}
        total = sum(w * terms[name] for name, w in self.config.reward_weights.items()) * self.config.control_dt
        return total, terms

    def update_info(
        self, info: dict, data: mjx.Data, applied: jax.Array, terminated: jax.Array, truncated: jax.Array
    ) -> dict:
        """Redraw the target when its time is up; remember the applied action."""
        info = dict(info)
        info["rng"], key = jax.random.split(info["rng"])
        fresh, hold = self._target(key)
        expired = info["command_steps_left"] <= 1
        info["command"] = jnp.where(expired, fresh, info["command"])
        info["command_steps_left"] = jnp.where(expired, hold, info["command_steps_left"] - 1)
        info["last_applied"] = applied
        return info

    def randomization_ranges(self) -> dict[str, tuple[float, float]]:
        """The ranges of ``config.randomization``, by name."""
        return self.config.randomization.model_dump()

    def randomization_sizes(self) -> dict[str, int]:
        """Per-body and per-joint entries."""
        return self.targets.sizes()

    def randomized_model(self, params: dict[str, jax.Array]) -> mjx.Model:
        """The nominal model with this episode's masses, armature and damping."""
        return randomize_dynamics(self.mjx_model, params, self.targets)


register(
    TaskSpec(
        name="arm_reach",
        description="Move the arm's end effector to random targets in its workspace (Panda-class, joint PD).",
        env_class=ArmReachEnv,
        config_class=ArmReachConfig,
        robot="arm",
    )
)
