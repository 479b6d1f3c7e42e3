"""A robot's home pose, random states around it, and its size measured at that pose."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import mujoco
import numpy as np

from sim.robot import Robot

HOME_KEY = "home"
"""Name of the MJCF keyframe that holds the default pose (and, for floating robots, the standing base)."""

_FREE = int(mujoco.mjtJoint.mjJNT_FREE)
_BALL = int(mujoco.mjtJoint.mjJNT_BALL)


def home_qpos(robot: Robot) -> np.ndarray:
    """The ``home`` keyframe's qpos when the MJCF has one, else ``qpos0``; actuated joints at the default pose."""
    model = robot.mj_model
    key = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_KEY, HOME_KEY)
    qpos = model.key_qpos[key].copy() if key >= 0 else model.qpos0.copy()
    qpos[robot.qpos_adr] = robot.default_pose
    return qpos


def _normalize_quaternions(model: mujoco.MjModel, qpos: np.ndarray) -> None:
    """Make every free/ball joint quaternion in ``qpos`` (rows of states) unit length, in place."""
    for joint in range(model.njnt):
        kind = int(model.jnt_type[joint])
        if kind in (_FREE, _BALL):
            start = model.jnt_qposadr[joint] + (3 if kind == _FREE else 0)
            quat = qpos[:, start : start + 4]
            quat /= np.linalg.norm(quat, axis=1, keepdims=True)


def random_states(robot: Robot, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random ``(qpos, qvel)`` rows around the home pose, for physics checks and benchmarks.

    Actuated joints are drawn uniformly inside their YAML ranges; other hinge/slide joints move +-0.2 from
    home; a floating base tilts by up to about 0.1 rad and sits with its lowest colliding geom 0-3 mm
    into the floor; velocities are N(0, 0.5^2) (rad/s, m/s).
    """
    model = robot.mj_model
    qpos = np.tile(home_qpos(robot), (count, 1))
    for joint in range(model.njnt):
        adr, kind = model.jnt_qposadr[joint], int(model.jnt_type[joint])
        if kind == _FREE:
            qpos[:, adr + 4 : adr + 7] += rng.uniform(-0.05, 0.05, (count, 3))
        elif kind != _BALL:
            qpos[:, adr] += rng.uniform(-0.2, 0.2, count)
    ranges = np.array([j.range for j in robot.config.joints])
    qpos[:, robot.qpos_adr] = rng.uniform(ranges[:, 0], ranges[:, 1], (count, len(ranges)))
    _normalize_quaternions(model, qpos)
    # Touching the ground, as a standing, walking or fallen robot does, and sinking no deeper: the contact
    # solver is where MJX and MuJoCo C differ most.
    put_on_floor(robot, qpos, rng.uniform(0.0, 0.003, count))
    return qpos, rng.normal(0.0, 0.5, (count, model.nv))


def put_on_floor(robot: Robot, qpos: np.ndarray, sink: np.ndarray | float = 0.0) -> None:
    """Shift floating-base states (rows of ``qpos``) so each lowest colliding geom is ``sink`` m into the floor.

    The floor is z = 0; ``qpos`` changes in place. Robots without a free joint or colliding geoms are left alone.
    """
    model = robot.mj_model
    free = [j for j in range(model.njnt) if int(model.jnt_type[j]) == _FREE]
    colliding = [
        g
        for g in range(model.ngeom)
        if model.geom_bodyid[g] != 0 and (model.geom_contype[g] or model.geom_conaffinity[g])
    ]
    if not free or not colliding:
        return
    height = model.jnt_qposadr[free[0]] + 2
    data = mujoco.MjData(model)
    for row, depth in zip(qpos, np.broadcast_to(sink, len(qpos)), strict=True):
        data.qpos[:] = row
        mujoco.mj_kinematics(model, data)
        row[height] -= min(_geom_z_extent(model, data, geom)[0] for geom in colliding) + depth


@dataclass(frozen=True)
class RobotSize:
    """Totals of a robot, measured at its home pose."""

    total_mass: float
    """Sum of body masses (kg)."""
    height: float
    """Top of the highest robot geom minus the bottom of the lowest one (m)."""
    base_height: float
    """Base body origin above the bottom of the lowest robot geom (m): the standing trunk height of a legged robot."""
    nq: int
    """Generalized coordinates."""
    nv: int
    """Degrees of freedom."""
    actuated: int
    """Actuated joints (the joint table)."""


def _geom_z_extent(model: mujoco.MjModel, data: mujoco.MjData, geom: int) -> tuple[float, float]:
    """Lowest and highest world height of a geom.

    Exact for spheres, capsules, cylinders, ellipsoids and boxes; the corners of the geom's bounding box
    for anything else.
    """
    z = float(data.geom_xpos[geom][2])
    up = data.geom_xmat[geom].reshape(3, 3)[2]
    size, kind = model.geom_size[geom], int(model.geom_type[geom])
    if kind == int(mujoco.mjtGeom.mjGEOM_SPHERE):
        reach = size[0]
    elif kind == int(mujoco.mjtGeom.mjGEOM_CAPSULE):
        reach = abs(up[2]) * size[1] + size[0]
    elif kind == int(mujoco.mjtGeom.mjGEOM_CYLINDER):
        reach = abs(up[2]) * size[1] + np.sqrt(max(0.0, 1.0 - up[2] ** 2)) * size[0]
    elif kind == int(mujoco.mjtGeom.mjGEOM_ELLIPSOID):
        reach = float(np.linalg.norm(up * size))
    elif kind == int(mujoco.mjtGeom.mjGEOM_BOX):
        reach = float(np.abs(up) @ size)
    else:
        center, half = model.geom_aabb[geom, :3], model.geom_aabb[geom, 3:]
        corners = np.array([center + half * np.array(c) for c in itertools.product((-1, 1), repeat=3)]) @ up
        return z + float(corners.min()), z + float(corners.max())
    return z - float(reach), z + float(reach)


def measure_robot(robot: Robot) -> RobotSize:
    """Mass, height and DoF of a robot at its home pose (world-body geoms and planes do not count)."""
    model = robot.mj_model
    data = mujoco.MjData(model)
    data.qpos[:] = home_qpos(robot)
    mujoco.mj_forward(model, data)
    plane = int(mujoco.mjtGeom.mjGEOM_PLANE)
    robot_geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] != 0 and model.geom_type[g] != plane]
    heights = np.array([_geom_z_extent(model, data, g) for g in robot_geoms] or [(0.0, 0.0)])
    bottom = float(heights.min())
    base_z = float(data.xpos[model.body(robot.config.base_body).id][2])
    return RobotSize(
        total_mass=robot.total_mass,
        height=float(heights.max()) - bottom,
        base_height=base_z - bottom,
        nq=model.nq,
        nv=model.nv,
        actuated=len(robot.joint_names),
    )
