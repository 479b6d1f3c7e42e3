"""Reward shaping in [0, 1], with the semantics of the DeepMind Control Suite's ``tolerance``.

``tolerance(x, bounds, margin)`` is 1 inside ``bounds`` and falls off with the distance to the nearest
bound, reaching ``value_at_margin`` at distance ``margin`` (a Gaussian or a quadratic fall-off).
"""

from __future__ import annotations

import math
from typing import Literal

import jax
import jax.numpy as jnp


def tolerance(
    x: jax.Array,
    bounds: tuple[float, float] = (0.0, 0.0),
    margin: float = 0.0,
    sigmoid: Literal["gaussian", "quadratic"] = "gaussian",
    value_at_margin: float = 0.1,
) -> jax.Array:
    """1 where ``bounds[0] <= x <= bounds[1]``; outside, a sigmoid of the distance scaled by ``margin``."""
    lower, upper = bounds
    if lower > upper or margin < 0:
        raise ValueError(f"need lower <= upper and margin >= 0, got bounds {bounds}, margin {margin}")
    inside = (lower <= x) & (x <= upper)
    if margin == 0:
        return jnp.where(inside, 1.0, 0.0)
    distance = jnp.where(x < lower, lower - x, x - upper) / margin
    if sigmoid == "gaussian":
        scale = math.sqrt(-2.0 * math.log(value_at_margin))
        outside = jnp.exp(-0.5 * (distance * scale) ** 2)
    else:
        scaled = distance * math.sqrt(1.0 - value_at_margin)
        outside = jnp.where(jnp.abs(scaled) < 1.0, 1.0 - scaled**2, 0.0)
    return jnp.where(inside, 1.0, outside)
