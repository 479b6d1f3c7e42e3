"""Action delay: a buffer of the last k+1 commanded actions, read at a per-episode delay.

Pure functions over arrays so they run inside ``jit`` and ``vmap``. With delay ``d`` the action applied
at control step ``t`` is the one commanded at step ``t - d``; before the first ``d`` commands arrive the
buffer holds zeros (the robot's nominal command).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def empty_buffer(max_delay: int, action_size: int) -> jax.Array:
    """A buffer for delays 0..``max_delay``, filled with zeros, shape ``(max_delay + 1, action_size)``."""
    return jnp.zeros((max_delay + 1, action_size))


def sample_delay(rng: jax.Array, max_delay: int) -> jax.Array:
    """Draw a delay uniformly from the integers 0..``max_delay`` (inclusive)."""
    return jax.random.randint(rng, (), 0, max_delay + 1)


def push_and_read(buffer: jax.Array, action: jax.Array, delay: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Push the newest action and return ``(new buffer, action commanded delay steps ago)``."""
    buffer = jnp.concatenate([action[None], buffer[:-1]], axis=0)
    return buffer, buffer[delay]
