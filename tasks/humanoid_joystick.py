"""Humanoid joystick: walk at a commanded planar velocity and yaw rate to a gait clock, on flat or rough ground.

The G1/T1-class humanoid (``assets/robots/humanoid``) at 50 Hz, PD at 200 Hz, 20 s episodes: the recipe of
"Learning Sim-to-Real Humanoid Locomotion in 15 Minutes" (holosoma's FastSAC G1/T1) with its minimalist
reward table: tracking, a feet-phase term that lifts each foot in its half of the gait clock, a large
alive bonus and a few posture penalties. The actor sees the gait clock as sin/cos of its phase.
``_rough`` walks the terrain grid (20% flat, 60% rough, 20% low obstacles) under a terrain curriculum.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
from pydantic import Field

from sim.commands import VelocityCommandConfig
from sim.dynamics_randomization import DynamicsRandomization
from sim.terrain_grid import TerrainGridConfig
from tasks.legged import (
    InitialPose,
    LeggedConfig,
    LeggedEnv,
    ObservationNoise,
    RewardTerm,
    StepQuantities,
    Terminations,
)
from tasks.registry import TaskSpec, register

GAIT_PERIOD_STEPS = 40
"""Gait clock period: 0.8 s at 50 Hz; the left foot swings in the first half, the right in the second."""
SWING_HEIGHT = 0.09
"""Peak foot height (m) the feet-phase term asks of a swinging foot."""
MIN_FEET_DISTANCE = 0.15
"""Feet closer than this (m) are penalized."""


def _moving(s: StepQuantities) -> jax.Array:
    return (jnp.linalg.norm(s.command) > 0.05).astype(jnp.float32)


def feet_phase(s: StepQuantities) -> jax.Array:
    """exp(-|foot heights - gait-clock targets|^2 / 0.002): each foot rises to 9 cm in its half period.

    While commanded to stand, both targets are 0 (feet down).
    """
    left_swings = s.phase < 0.5
    local = jnp.where(left_swings, 2.0 * s.phase, 2.0 * s.phase - 1.0)
    bump = SWING_HEIGHT * jnp.sin(jnp.pi * local) * _moving(s)
    target = jnp.stack([jnp.where(left_swings, bump, 0.0), jnp.where(left_swings, 0.0, bump)])
    return jnp.exp(-jnp.sum((jnp.clip(s.foot_clearance, 0.0, 0.3) - target) ** 2) / 0.002)


def feet_distance(s: StepQuantities) -> jax.Array:
    """How much closer than 15 cm the feet are (m, 0 when farther apart)."""
    return jnp.maximum(MIN_FEET_DISTANCE - jnp.linalg.norm(s.foot_xy[0] - s.foot_xy[1]), 0.0)


def foot_tilt(s: StepQuantities) -> jax.Array:
    """1 - cos(tilt) of each sole, summed (0 with both soles level)."""
    return jnp.sum(1.0 - s.foot_quat_z)


REWARD_WEIGHTS: dict[str, float] = {
    "tracking_lin_vel": 2.0,
    "tracking_ang_vel": 1.5,
    "feet_phase": 5.0,
    "alive": 10.0,
    "ang_vel_xy": -1.0,
    "orientation": -10.0,
    "action_rate": -2.0,
    "pose": -0.5,
    "feet_distance": -10.0,
    "foot_tilt": -5.0,
    "joint_limits": -5.0,
}
"""Reward term -> weight per second (holosoma's G1/T1 FastSAC table); negative weights follow the penalty
curriculum (scaled 0.5-1.0 by episode length)."""


class HumanoidJoystick(LeggedEnv):
    """The legged task with a gait clock and the humanoid's own reward terms."""

    TASK_TERMS: ClassVar[dict[str, RewardTerm]] = {
        "feet_phase": feet_phase,
        "feet_distance": feet_distance,
        "foot_tilt": foot_tilt,
    }
    GAIT_PERIOD_STEPS: ClassVar[int | None] = GAIT_PERIOD_STEPS


class HumanoidJoystickConfig(LeggedConfig):
    """Humanoid joystick settings (the holosoma G1/T1 recipe by default)."""

    sim_dt: float = Field(0.005, gt=0.0, description="Physics step (s): 200 Hz PD.")
    control_dt: float = Field(0.02, gt=0.0, description="Control period (s): 50 Hz, decimation 4.")
    commands: VelocityCommandConfig = Field(
        default_factory=lambda: VelocityCommandConfig(vx=(-1.0, 1.0), vy=(-1.0, 1.0), yaw_rate=(-1.0, 1.0)),
        description="Velocity commands: +-1 m/s, +-1 rad/s, 20% standing, redrawn every 5-10 s.",
    )
    randomization: DynamicsRandomization = Field(
        default_factory=lambda: DynamicsRandomization(
            friction=(0.5, 1.25), link_mass_scale=(0.9, 1.2), base_added_mass=(-1.0, 3.0)
        ),
        description="Dynamics randomization (holosoma G1 ranges).",
    )
    obs_noise: ObservationNoise = Field(
        default_factory=lambda: ObservationNoise(joint_pos=0.01, joint_vel=0.1),
        description="Actor sensor noise (holosoma: joint position 0.01, joint velocity 0.1).",
    )
    initial_pose: InitialPose = Field(
        default_factory=lambda: InitialPose(joint_scale=(0.5, 1.5), joint_offset=0.0),
        description="Initial joints at the default pose times U(0.5, 1.5) (holosoma).",
    )
    terminations: Terminations = Field(
        default_factory=lambda: Terminations(max_tilt_rad=1.0, min_base_height=0.4),
        description="A fall: tilt beyond 1 rad, pelvis below 40 cm, or a pelvis/torso/shoulder/hip contact.",
    )
    base_height_target: float = Field(0.72, gt=0.0, description="Standing pelvis height (m).")
    reward_weights: dict[str, float] = Field(
        default_factory=lambda: dict(REWARD_WEIGHTS), description="Reward term -> weight per second."
    )


_VARIANTS = {
    "humanoid_joystick_flat": ("Humanoid velocity tracking with a gait clock on flat ground (G1-class).", {}),
    "humanoid_joystick_rough": (
        "Humanoid velocity tracking on a terrain grid (flat/rough/obstacles) with a terrain curriculum.",
        {"terrain": TerrainGridConfig().model_dump()},
    ),
}

for _name, (_description, _defaults) in _VARIANTS.items():
    register(
        TaskSpec(
            name=_name,
            description=_description,
            env_class=HumanoidJoystick,
            config_class=HumanoidJoystickConfig,
            defaults=_defaults,
            robot="humanoid",
        )
    )
