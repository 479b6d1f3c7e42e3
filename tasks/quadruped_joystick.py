"""Quadruped joystick: track a commanded planar velocity and yaw rate on flat or rough ground.

The Go1-class quadruped (``assets/robots/quadruped``) at 50 Hz, PD at 250 Hz, 20 s episodes. Timing,
gains, action scale, command ranges and sensor noise start from MuJoCo Playground's Go1 joystick; the
reward table follows legged_gym's trotting recipe (tracking, few penalties, air time). ``_rough`` walks
a terrain grid of flat, rough and obstacle tiles with a terrain curriculum. Every weight and range is a
config field: a task YAML overrides any of them.

A trot clock shapes the gait: the actor sees sin/cos of a 0.5 s clock and ``trot_phase`` rewards lifting
each diagonal pair of feet (FL+RR, then FR+RL) in its half of the period. Without it, off-policy learners
on a few envs (the CPU recipe) spent their whole budget shuffling in place; mjbatch's CPU PPO and the
humanoid recipe shape the gait the same way.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
from pydantic import Field

from sim.commands import VelocityCommandConfig
from sim.dynamics_randomization import DynamicsRandomization
from sim.terrain_grid import TerrainGridConfig
from tasks.legged import LeggedConfig, LeggedEnv, RewardTerm, StepQuantities, Terminations
from tasks.registry import TaskSpec, register

GAIT_PERIOD_STEPS = 25
"""Trot clock period: 0.5 s at 50 Hz; FL+RR swing in the first half, FR+RL in the second."""
SWING_HEIGHT = 0.08
"""Peak foot clearance (m) the trot term asks of a swinging foot."""
FIRST_HALF_FEET = (1.0, 0.0, 0.0, 1.0)
"""Feet (in robot-YAML ``foot_geoms`` order: FL, FR, RL, RR) that swing in the first half of the clock."""


def trot_phase(s: StepQuantities) -> jax.Array:
    """exp(-|foot clearances - trot-clock targets|^2 / 0.004): each diagonal pair rises 8 cm in its half period.

    While commanded to stand, every target is 0 (feet down).
    """
    first_half = s.phase < 0.5
    local = jnp.where(first_half, 2.0 * s.phase, 2.0 * s.phase - 1.0)
    moving = (jnp.linalg.norm(s.command) > 0.05).astype(jnp.float32)
    bump = SWING_HEIGHT * jnp.sin(jnp.pi * local) * moving
    first = jnp.asarray(FIRST_HALF_FEET)
    target = bump * jnp.where(first_half, first, 1.0 - first)
    return jnp.exp(-jnp.sum((jnp.clip(s.foot_clearance, 0.0, 0.3) - target) ** 2) / 0.004)


REWARD_WEIGHTS: dict[str, float] = {
    "tracking_lin_vel": 1.5,
    "tracking_ang_vel": 0.8,
    "lin_vel_z": -2.0,
    "ang_vel_xy": -0.05,
    "orientation": -5.0,
    "torques": -2e-4,
    "action_rate": -0.01,
    "joint_limits": -10.0,
    "pose": -0.1,
    "feet_air_time": 0.5,
    "trot_phase": 1.0,
    "feet_slip": -0.1,
    "stand_still": -0.5,
    "termination": -50.0,
}
"""Reward term -> weight per second (the step reward is ``control_dt * sum``); negative weights follow the
penalty curriculum. Best-case return of a 20 s episode: (1.5 + 0.8 + 1.0) * 20 = 66."""


class QuadrupedJoystick(LeggedEnv):
    """The legged task with a trot clock and its reward term."""

    TASK_TERMS: ClassVar[dict[str, RewardTerm]] = {"trot_phase": trot_phase}
    GAIT_PERIOD_STEPS: ClassVar[int | None] = GAIT_PERIOD_STEPS


class QuadrupedJoystickConfig(LeggedConfig):
    """Quadruped joystick settings (Playground Go1 timing and ranges by default)."""

    sim_dt: float = Field(0.004, gt=0.0, description="Physics step (s); PD runs at this rate.")
    control_dt: float = Field(0.02, gt=0.0, description="Control period (s): 50 Hz.")
    commands: VelocityCommandConfig = Field(
        default_factory=lambda: VelocityCommandConfig(vx=(-1.5, 1.5), vy=(-0.8, 0.8), yaw_rate=(-1.2, 1.2)),
        description="Velocity commands (Playground Go1 ranges), 20% standing, redrawn every 5-10 s.",
    )
    randomization: DynamicsRandomization = Field(
        default_factory=DynamicsRandomization, description="Dynamics randomization (Playground Go1 ranges)."
    )
    terminations: Terminations = Field(
        default_factory=lambda: Terminations(max_tilt_rad=1.0, min_base_height=0.12),
        description="A fall: tilt beyond 1 rad, trunk below 12 cm, or a trunk/hip/thigh contact.",
    )
    base_height_target: float = Field(0.3, gt=0.0, description="Standing trunk height (m).")
    reward_weights: dict[str, float] = Field(
        default_factory=lambda: dict(REWARD_WEIGHTS), description="Reward term -> weight per second."
    )


ROUGH_TERRAIN = TerrainGridConfig()
"""The rough variant's grid: 20% flat, 60% rough, 20% low obstacles, six difficulty levels of 4 m tiles."""

_VARIANTS = {
    "quadruped_joystick_flat": ("Quadruped velocity tracking on flat ground (Go1-class, 50 Hz).", {}),
    "quadruped_joystick_rough": (
        "Quadruped velocity tracking on a terrain grid (flat/rough/obstacles) with a terrain curriculum.",
        {"terrain": ROUGH_TERRAIN.model_dump()},
    ),
}

for _name, (_description, _defaults) in _VARIANTS.items():
    register(
        TaskSpec(
            name=_name,
            description=_description,
            env_class=QuadrupedJoystick,
            config_class=QuadrupedJoystickConfig,
            defaults=_defaults,
            robot="quadruped",
        )
    )
