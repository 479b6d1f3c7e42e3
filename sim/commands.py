"""Velocity commands for joystick tasks: ``(vx, vy, yaw rate)`` in the base frame, with a standing fraction.

Each command is drawn from ``U(low, high)`` per entry; with probability ``standing_fraction`` it is
zero instead (the robot must learn to stand still). A command holds for a number of control steps drawn
from ``U{resample_steps}`` and is then redrawn, within the episode as well as at its start.
"""

from __future__ import annotations

from typing import Annotated

import jax
import jax.numpy as jnp
from pydantic import BaseModel, Field, field_validator

from sim.randomization import UniformRange
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG, LIST_AS_TUPLE

COMMAND_NAMES = ("vx", "vy", "yaw_rate")
"""Entries of a velocity command, in order."""


class VelocityCommandConfig(BaseModel):
    """How velocity commands are drawn (each entry uniform in its range)."""

    model_config = FILE_MODEL_CONFIG

    vx: UniformRange = Field((-1.0, 1.0), description="Forward speed (m/s), U(low, high).")
    vy: UniformRange = Field((-0.5, 0.5), description="Sideways speed (m/s), U(low, high).")
    yaw_rate: UniformRange = Field((-1.0, 1.0), description="Turn rate (rad/s), U(low, high).")
    standing_fraction: float = Field(
        0.2, ge=0.0, le=1.0, description="Probability that a draw is the zero command (stand still)."
    )
    resample_steps: Annotated[tuple[int, int], LIST_AS_TUPLE] = Field(
        (250, 500), description="A command holds for U{low..high} control steps before it is redrawn."
    )

    @field_validator("resample_steps")
    @classmethod
    def _positive_ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] < 1 or value[0] > value[1]:
            raise ValueError(f"{list(value)} must be [low, high] with 1 <= low <= high control steps")
        return value

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Range of each entry, in :data:`COMMAND_NAMES` order."""
        return {"vx": self.vx, "vy": self.vy, "yaw_rate": self.yaw_rate}


def sample_command(
    rng: jax.Array, config: VelocityCommandConfig, scale: jax.Array | float = 1.0
) -> tuple[jax.Array, jax.Array]:
    """A new command and the number of control steps it holds for; ``scale`` shrinks every range (a curriculum)."""
    value_key, stand_key, hold_key = jax.random.split(rng, 3)
    low = scale * jnp.array([config.vx[0], config.vy[0], config.yaw_rate[0]])
    high = scale * jnp.array([config.vx[1], config.vy[1], config.yaw_rate[1]])
    command = jax.random.uniform(value_key, (3,), minval=low, maxval=high)
    standing = jax.random.uniform(stand_key) < config.standing_fraction
    hold = jax.random.randint(hold_key, (), config.resample_steps[0], config.resample_steps[1] + 1)
    return jnp.where(standing, 0.0, command), hold


def next_command(
    rng: jax.Array,
    config: VelocityCommandConfig,
    command: jax.Array,
    steps_left: jax.Array,
    scale: jax.Array | float = 1.0,
) -> tuple[jax.Array, jax.Array]:
    """The command after one control step: held while steps remain, redrawn (ranges times ``scale``) after."""
    fresh, hold = sample_command(rng, config, scale)
    expired = steps_left <= 1
    return jnp.where(expired, fresh, command), jnp.where(expired, hold, steps_left - 1)
