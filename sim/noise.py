"""Observation noise: uniform, per element, with a scale for each observation entry."""

from __future__ import annotations

import jax
import numpy as np


def add_uniform_noise(rng: jax.Array, obs: jax.Array, scale: np.ndarray) -> jax.Array:
    """Return ``obs + U(-scale, scale)``, drawn independently for each entry."""
    return obs + jax.random.uniform(rng, obs.shape, minval=-1.0, maxval=1.0) * scale
