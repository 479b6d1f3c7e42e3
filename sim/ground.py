"""The ground a robot stands on: found in its MJCF (any upward world plane or height field), or the project's floor.

Makers ship robot models without a world (MuJoCo Menagerie keeps the ground in a separate ``scene.xml``);
a floating-base robot without one would fall forever. :func:`add_floor` gives such a model the plane the
terrain code builds on (named :data:`FLOOR_GEOM`, contype 0 and conaffinity 1, so it takes contacts from
every colliding robot geom and makes none of its own). A model whose ground has another name keeps it:
:func:`find_ground` returns the geom the tasks randomize and the terrains replace.
"""

from __future__ import annotations

import mujoco
import numpy as np

FLOOR_GEOM = "floor"
"""Name of the ground plane the project adds to a model without one (and of a ground named so by its maker)."""
_UPWARD = 0.999
"""Smallest z component of a plane's normal for it to count as ground (a wall or ramp does not)."""


def _is_ground(model: mujoco.MjModel, geom: int) -> bool:
    """A worldbody geom that takes contacts and is a height field or a plane facing up."""
    if model.geom_bodyid[geom] != 0 or not (model.geom_contype[geom] or model.geom_conaffinity[geom]):
        return False
    kind = int(model.geom_type[geom])
    if kind == int(mujoco.mjtGeom.mjGEOM_HFIELD):
        return True
    if kind != int(mujoco.mjtGeom.mjGEOM_PLANE):
        return False
    normal = np.empty(9)
    mujoco.mju_quat2Mat(normal, model.geom_quat[geom])
    return float(normal[8]) > _UPWARD


def find_ground(model: mujoco.MjModel) -> int | None:
    """Id of the model's ground geom: the one named ``floor``, else the lowest upward world plane or height field.

    None when the model has none.
    """
    floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, FLOOR_GEOM)
    if floor >= 0:
        return floor
    candidates = [g for g in range(model.ngeom) if _is_ground(model, g)]
    return min(candidates, key=lambda g: float(model.geom_pos[g, 2])) if candidates else None


def add_floor(spec: mujoco.MjSpec) -> mujoco.MjsGeom:
    """Add the project's ground: an infinite worldbody plane at z = 0 named ``floor`` (contype 0, conaffinity 1).

    Its contact settings are MuJoCo's defaults (condim 3, friction 1), whatever the MJCF's default class says;
    it looks like the shipped robots' floor (a 1 m checker), so motion over it shows in videos.
    """
    floor = spec.worldbody.add_geom()
    floor.material = _floor_material(spec)
    floor.name = FLOOR_GEOM
    floor.type = mujoco.mjtGeom.mjGEOM_PLANE
    floor.size = [0.0, 0.0, 0.05]
    floor.contype, floor.conaffinity = 0, 1
    floor.condim, floor.priority, floor.margin, floor.gap = 3, 0, 0.0, 0.0
    floor.friction = [1.0, 0.005, 0.0001]
    floor.solref, floor.solimp, floor.solmix = [0.02, 1.0], [0.9, 0.95, 0.001, 0.5, 2.0], 1.0
    return floor


FLOOR_MATERIAL = "sim2real_floor"
"""Name of the added floor's material (and of its checker texture)."""


def _floor_material(spec: mujoco.MjSpec) -> str:
    """Add the checker texture and material of the added floor (those of the shipped robots' floor); its name."""
    texture = spec.add_texture()
    texture.name = FLOOR_MATERIAL
    texture.type = mujoco.mjtTexture.mjTEXTURE_2D
    texture.builtin = mujoco.mjtBuiltin.mjBUILTIN_CHECKER
    texture.width = texture.height = 512
    texture.rgb1, texture.rgb2 = [0.25, 0.3, 0.35], [0.15, 0.2, 0.25]
    texture.mark, texture.markrgb = mujoco.mjtMark.mjMARK_EDGE, [0.35, 0.4, 0.45]
    material = spec.add_material()
    material.name = FLOOR_MATERIAL
    material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = FLOOR_MATERIAL
    material.texrepeat, material.texuniform, material.reflectance = [1.0, 1.0], True, 0.1
    return FLOOR_MATERIAL


def has_free_base(model: mujoco.MjModel) -> bool:
    """Whether the model has a free joint (a floating base that needs ground to stand on)."""
    return bool((model.jnt_type == int(mujoco.mjtJoint.mjJNT_FREE)).any())
