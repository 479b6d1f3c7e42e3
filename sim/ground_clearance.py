"""How far colliding geoms are above the ground: foot contact and forbidden-contact checks from geometry.

A geom touches the ground when its lowest point is within a small distance of the ground height below
it. Reading this from the geoms' poses (rather than from the contact list) gives the same answer in MJX
and in MuJoCo C: sim2sim scores C states with the task's JAX code, and the C data's contacts have no
fixed layout to copy into MJX's. The lowest point is exact for spheres, capsules, cylinders and boxes
over flat ground; on a heightfield the ground is read under the geom's centre.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from sim.mjx_import import mjx

Ground = Callable[[jax.Array, jax.Array], jax.Array]
"""Ground height (m) under world points ``(x, y)``."""

_SPHERE, _CAPSULE, _CYLINDER, _BOX = (
    int(mujoco.mjtGeom.mjGEOM_SPHERE),
    int(mujoco.mjtGeom.mjGEOM_CAPSULE),
    int(mujoco.mjtGeom.mjGEOM_CYLINDER),
    int(mujoco.mjtGeom.mjGEOM_BOX),
)
SUPPORTED_TYPES = (_SPHERE, _CAPSULE, _CYLINDER, _BOX)
"""Geom types whose lowest point is computed (MuJoCo type ids)."""


def flat_ground(x: jax.Array, y: jax.Array) -> jax.Array:
    """A plane at z = 0."""
    return jnp.zeros(jnp.broadcast_shapes(jnp.shape(x), jnp.shape(y)))


def shape_problem(model: mujoco.MjModel, geom: int) -> str | None:
    """Why the lowest point of a geom cannot be computed (its type is not supported), or None when it can."""
    kind = int(model.geom_type[geom])
    if kind in SUPPORTED_TYPES:
        return None
    shape = mujoco.mjtGeom(kind).name.removeprefix("mjGEOM_").lower()
    name = model.geom(geom).name or str(geom)
    return f"geom {name} has type {shape}; ground clearance needs a sphere, capsule, cylinder or box"


def colliding_geoms(model: mujoco.MjModel, bodies: list[str]) -> np.ndarray:
    """Ids of the geoms of ``bodies`` that collide (contype or conaffinity set); each must be a supported type."""
    ids = []
    for name in bodies:
        body = model.body(name).id
        for geom in np.flatnonzero(model.geom_bodyid == body):
            if model.geom_contype[geom] == 0 and model.geom_conaffinity[geom] == 0:
                continue
            problem = shape_problem(model, int(geom))
            if problem is not None:
                raise ValueError(f"{problem} (body {name})")
            ids.append(int(geom))
    return np.array(ids, dtype=int)


class GroundClearance:
    """Heights of the lowest points of fixed geoms above the ground under them."""

    def __init__(self, model: mujoco.MjModel, geom_ids: np.ndarray) -> None:
        for geom in geom_ids:
            problem = shape_problem(model, int(geom))
            if problem is not None:
                raise ValueError(problem)
        self.geom_ids = np.asarray(geom_ids, dtype=int)
        types = model.geom_type[self.geom_ids]
        size = model.geom_size[self.geom_ids]
        self._radius = np.where(types == _BOX, 0.0, size[:, 0])
        self._half_length = np.where((types == _CAPSULE) | (types == _CYLINDER), size[:, 1], 0.0)
        self._disc = (types == _CYLINDER).astype(float)
        self._box = np.where((types == _BOX)[:, None], size, 0.0)

    def lowest(self, data: mjx.Data) -> jax.Array:
        """World z of each geom's lowest point."""
        rotation = data.geom_xmat[self.geom_ids]
        axis_z = rotation[:, 2, :]
        tilt = jnp.abs(axis_z[:, 2])
        disc = self._disc * self._radius * jnp.sqrt(jnp.maximum(0.0, 1.0 - tilt**2))
        sphere = (1.0 - self._disc) * self._radius
        box = jnp.sum(jnp.abs(axis_z) * self._box, axis=-1)
        return data.geom_xpos[self.geom_ids, 2] - tilt * self._half_length - disc - sphere - box

    def clearance(self, data: mjx.Data, ground: Ground) -> jax.Array:
        """Height of each geom's lowest point above the ground under its centre (negative when it sinks in)."""
        xy = data.geom_xpos[self.geom_ids, :2]
        return self.lowest(data) - ground(xy[:, 0], xy[:, 1])
