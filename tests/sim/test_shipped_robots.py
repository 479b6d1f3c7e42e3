"""The shipped robots are in their stated class and stand (or hold) on their default pose under their own PD.

Standing runs in MuJoCo C with the PD law at every physics step, exactly as the sim2sim robot and the ROS
emulator apply it (``MujocoRobot``), from the ``home`` keyframe.
"""

from dataclasses import dataclass

import mujoco
import numpy as np
import pytest

from sim.assets import shipped_robot_names
from sim.robot import load_robot
from sim.robot_pose import home_qpos, measure_robot
from sim2real.sim2sim.mujoco_robot import MujocoRobot
from sim2real_runtime.state import JointCommand


@dataclass(frozen=True)
class RobotClass:
    """What issue 6 states for each robot (None: not stated)."""

    mass_kg: tuple[float, float]
    actuated: tuple[int, int]
    height_m: tuple[float, float] | None = None
    standing_base_height_m: tuple[float, float] | None = None
    symmetric: bool = False
    sites: tuple[str, ...] = ()


CLASSES = {
    "cartpole": RobotClass(mass_kg=(1.0, 1.2), actuated=(1, 1)),
    "quadruped": RobotClass(
        mass_kg=(11.0, 13.0), actuated=(12, 12), standing_base_height_m=(0.27, 0.33), symmetric=True
    ),
    "humanoid": RobotClass(mass_kg=(30.0, 35.0), actuated=(13, 40), height_m=(1.2, 1.3), symmetric=True),
    "arm": RobotClass(mass_kg=(15.0, 20.0), actuated=(6, 7), sites=("ee",)),
}
"""Go1/Go2-class quadruped, G1/T1-class humanoid, Panda-class arm (and the cart-pole of dm_control)."""

PD_ROBOTS = [name for name in CLASSES if name != "cartpole"]
"""Robots driven by PD targets (the cart-pole is torque-driven and has no pose to hold)."""

STAND_SECONDS = 5.0
SETTLE_SECONDS = 0.5


def test_every_shipped_robot_has_a_stated_class():
    assert sorted(CLASSES) == shipped_robot_names()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_shipped_robot_mass_dof_and_height_are_in_its_class(name):
    robot, spec = load_robot(name), CLASSES[name]
    size = measure_robot(robot)
    assert spec.mass_kg[0] <= size.total_mass <= spec.mass_kg[1]
    assert spec.actuated[0] <= size.actuated <= spec.actuated[1]
    if spec.height_m is not None:
        assert spec.height_m[0] <= size.height <= spec.height_m[1]
    for site in spec.sites:
        robot.mj_model.site(site)


@pytest.mark.parametrize("name", [n for n in sorted(CLASSES) if CLASSES[n].symmetric])
def test_mirror_map_maps_the_default_pose_onto_itself_and_undoes_itself(name):
    robot = load_robot(name)
    index, signs = robot.mirror_index, robot.mirror_signs
    assert index is not None and sorted(index) == list(range(len(robot.joint_names)))
    pose = robot.default_pose
    np.testing.assert_array_equal(signs * pose[index], pose)
    any_pose = np.random.default_rng(0).normal(size=pose.size)
    mirrored = signs * any_pose[index]
    np.testing.assert_array_equal(signs * mirrored[index], any_pose)
    sides = [_side(n) for n in robot.joint_names]
    for i, j in enumerate(index):
        assert {sides[i], sides[j]} in ({None}, {"left", "right"}), (robot.joint_names[i], robot.joint_names[j])


def _side(joint: str) -> str | None:
    """``left``/``right`` from a joint name (FL_/RL_/left_ or FR_/RR_/right_), None for a centre joint."""
    if joint.startswith(("FL_", "RL_", "left_")):
        return "left"
    if joint.startswith(("FR_", "RR_", "right_")):
        return "right"
    return None


def _ground_contacts(model: mujoco.MjModel, data: mujoco.MjData, bodies: set[int]) -> list[str]:
    """Names of the given bodies that touch a world-body geom (the floor) now."""
    touching = []
    for contact in data.contact[: data.ncon]:
        pair = (model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2])
        for body, other in (pair, pair[::-1]):
            if body in bodies and other == 0:
                touching.append(model.body(body).name)
    return touching


@pytest.mark.parametrize("name", PD_ROBOTS)
def test_shipped_robot_stands_5_s_on_its_default_pose_under_its_own_pd(name):
    robot = load_robot(name)
    model = robot.mj_model
    sim = MujocoRobot(robot, model, seed=0)
    sim.reset(home_qpos(robot), np.zeros(model.nv))
    joints = robot.config.joints
    zeros = np.zeros(len(joints))
    hold = JointCommand(
        robot.default_pose, zeros, np.array([j.kp for j in joints]), np.array([j.kd for j in joints]), zeros
    )
    sim.send(hold, zeros)
    base = model.body(robot.config.base_body).id
    forbidden = {model.body(b).id for b in robot.config.termination_contact_bodies}
    steps = round(STAND_SECONDS / model.opt.timestep)
    settle = round(SETTLE_SECONDS / model.opt.timestep)
    heights, tilts = [], []
    for step in range(steps):
        sim.step(1)
        data = sim.data
        assert np.isfinite(data.qpos).all() and np.isfinite(data.qvel).all(), f"NaN at step {step}"
        assert not _ground_contacts(model, data, forbidden), f"{_ground_contacts(model, data, forbidden)} at {step}"
        if step >= settle:
            heights.append(data.xpos[base][2])
            tilts.append(np.arccos(np.clip(data.xmat[base].reshape(3, 3)[2, 2], -1.0, 1.0)))
    q, dq = sim.data.qpos[robot.qpos_adr], sim.data.qvel[robot.dof_adr]
    pose_tolerance = 0.1 if model.nq > len(joints) else 0.05
    assert np.abs(q - robot.default_pose).max() < pose_tolerance
    assert np.abs(dq).max() < 0.05
    assert np.ptp(heights) < 0.03
    assert max(tilts) < 0.1
    spec = CLASSES[name]
    if spec.standing_base_height_m is not None:
        assert spec.standing_base_height_m[0] <= np.mean(heights) <= spec.standing_base_height_m[1]
