"""Domain randomization resampled per episode, inside ``jit``.

A task declares its ranges in its config (``UniformRange`` fields, the distribution written beside
each), draws a small dict of parameters at every reset with :func:`sample_uniform_params`, keeps them
in ``State.info["dr"]``, and rebuilds the randomized model fields from them at every step (a few
multiplies: cheaper than carrying whole model arrays, and it keeps the parameters visible to a
privileged critic). Unlike a randomization applied once when the batch is built, every episode of
every env sees fresh parameters.
"""

from __future__ import annotations

from typing import Annotated

import jax
import jax.numpy as jnp
from pydantic import AfterValidator

from sim2real_runtime.yaml_io import LIST_AS_TUPLE


def _ordered(value: tuple[float, float]) -> tuple[float, float]:
    """Check that a (low, high) range is ordered (equal bounds switch randomization off)."""
    if value[0] > value[1]:
        raise ValueError(f"low {value[0]} is above high {value[1]}; give [low, high]")
    return value


UniformRange = Annotated[tuple[float, float], LIST_AS_TUPLE, AfterValidator(_ordered)]
"""A ``[low, high]`` range sampled uniformly; ``[x, x]`` fixes the value to ``x``."""


def sample_uniform_params(
    rng: jax.Array, ranges: dict[str, tuple[float, float]], sizes: dict[str, int] | None = None
) -> dict[str, jax.Array]:
    """Draw each named range from ``U(low, high)`` with independent keys: a scalar, or ``sizes[name]`` entries."""
    sizes = sizes or {}
    keys = jax.random.split(rng, max(len(ranges), 1))
    return {
        name: jax.random.uniform(key, (sizes[name],) if name in sizes else (), minval=low, maxval=high)
        for key, (name, (low, high)) in zip(keys, sorted(ranges.items()), strict=False)
    }


def as_vector(params: dict[str, jax.Array]) -> jax.Array:
    """The parameters as one vector in sorted-name order, vectors flattened (for a privileged observation)."""
    if not params:
        return jnp.zeros((0,))
    return jnp.concatenate([jnp.ravel(params[name]) for name in sorted(params)])
