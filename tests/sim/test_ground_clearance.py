"""Lowest points of colliding geoms, from their poses: equal to the exact per-type extents of MuJoCo C states."""

from types import SimpleNamespace

import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from sim.ground_clearance import GroundClearance, colliding_geoms, flat_ground
from sim.robot import load_robot
from sim.robot_pose import _geom_z_extent, random_states


@pytest.mark.parametrize("name", ["quadruped", "humanoid"])
def test_lowest_points_equal_the_exact_geom_extents_on_random_states(name):
    robot = load_robot(name)
    model = robot.mj_model
    geoms = colliding_geoms(model, [*robot.config.termination_contact_bodies])
    feet = np.array([model.geom(g).id for g in robot.config.foot_geoms])
    ids = np.concatenate([geoms, feet])
    clearance = GroundClearance(model, ids)
    data = mujoco.MjData(model)
    qpos, _ = random_states(robot, 50, np.random.default_rng(0))
    worst = 0.0
    for q in qpos:
        data.qpos[:] = q
        mujoco.mj_forward(model, data)
        pose = SimpleNamespace(
            geom_xpos=jnp.asarray(data.geom_xpos), geom_xmat=jnp.asarray(data.geom_xmat).reshape(-1, 3, 3)
        )
        got = np.asarray(clearance.clearance(pose, flat_ground))
        expected = np.array([_geom_z_extent(model, data, int(g))[0] for g in ids])
        worst = max(worst, float(np.abs(got - expected).max()))
    assert worst < 1e-5


def test_geoms_without_a_supported_shape_are_refused():
    model = mujoco.MjModel.from_xml_string(
        '<mujoco><compiler angle="radian"/><worldbody><body name="b"><freejoint/>'
        '<geom name="egg" type="ellipsoid" size="0.1 0.2 0.3"/></body></worldbody></mujoco>'
    )
    with pytest.raises(ValueError, match=r"geom egg has type ellipsoid; .* \(body b\)"):
        colliding_geoms(model, ["b"])
