"""One MJX physics step equals one MuJoCo C step, on every shipped robot, from 100 random states.

States (``sim.robot_pose.random_states``): actuated joints anywhere in their ranges, floating bases
tilted and resting with their lowest colliding geom 0-3 mm into the floor (so every legged state has
contacts), brisk velocities, random motor inputs over the full control range.

Tolerance: MJX runs in float32 and MuJoCo C in float64. After one step, positions agree to 1e-5 (m or
rad) and velocities to 1e-4 relative to the largest speed. Measured worst cases (2-core CPU, seed 0):
cart-pole 1.0e-7 / 3.7e-8, arm 2.3e-7 / 7.3e-7, quadruped 4.0e-7 / 2.7e-6, humanoid 5.9e-7 / 3.5e-6.
Two modelling choices keep the legged robots inside it: no joint dry friction, and frictionless
contacts on the bodies whose ground contact only signals a fall (the quadruped's trunk, hips and
thighs). With friction on those capsules and boxes, MuJoCo C and MJX orient the friction pyramid
differently, and one state in 100 (a thigh grazing the floor) differed by 1 rad/s after one step.
"""

import jax
import mujoco
import numpy as np
import pytest

from sim.assets import shipped_robot_names
from sim.mjx_import import mjx
from sim.robot import load_robot
from sim.robot_pose import random_states

STATES = 100
POSITION_TOLERANCE = 1e-5
VELOCITY_TOLERANCE = 1e-4


@pytest.mark.parametrize("name", shipped_robot_names())
def test_one_mjx_step_matches_one_mujoco_c_step_from_100_random_states(name):
    robot = load_robot(name)
    model = robot.mj_model
    rng = np.random.default_rng(0)
    qpos, qvel = random_states(robot, STATES, rng)
    low, high = model.actuator_ctrlrange.T
    ctrl = rng.uniform(
        np.where(model.actuator_ctrllimited, low, -1), np.where(model.actuator_ctrllimited, high, 1), (STATES, model.nu)
    )
    data = mujoco.MjData(model)
    c_qpos, c_qvel = np.empty_like(qpos), np.empty_like(qvel)
    for i in range(STATES):
        mujoco.mj_resetData(model, data)
        data.qpos[:], data.qvel[:], data.ctrl[:] = qpos[i], qvel[i], ctrl[i]
        mujoco.mj_step(model, data)
        c_qpos[i], c_qvel[i] = data.qpos, data.qvel
    mjx_model = mjx.put_model(model, impl="jax")
    blank = mjx.make_data(model, impl="jax")

    def step(q, v, u):
        stepped = mjx.step(mjx_model, blank.replace(qpos=q, qvel=v, ctrl=u))
        return stepped.qpos, stepped.qvel

    j_qpos, j_qvel = (np.asarray(x) for x in jax.jit(jax.vmap(step))(qpos, qvel, ctrl))
    velocity_scale = max(1.0, float(np.abs(c_qvel).max()))
    assert np.abs(j_qpos - c_qpos).max() < POSITION_TOLERANCE
    assert np.abs(j_qvel - c_qvel).max() / velocity_scale < VELOCITY_TOLERANCE
