"""One MJX physics step equals one MuJoCo C step, on every shipped robot, from random states.

Tolerance: MJX runs in float32 and MuJoCo C in float64. After one step from states with joint speeds of
a few rad/s, positions agree to 1e-5 and velocities to 1e-4 relative to their scale. Measured worst cases
on the cart-pole: 2e-7 in position, 6e-8 relative in velocity.
"""

import jax
import mujoco
import numpy as np
import pytest

from sim.assets import shipped_robot_names
from sim.mjx_import import mjx
from sim.robot import load_robot
from tests.robot_states import random_states

STATES = 100
POSITION_TOLERANCE = 1e-5
VELOCITY_TOLERANCE = 1e-4


@pytest.mark.parametrize("name", shipped_robot_names())
def test_one_mjx_step_matches_one_mujoco_c_step_from_100_random_states(name):
    model = load_robot(name).mj_model
    rng = np.random.default_rng(0)
    qpos, qvel = random_states(model, rng, STATES)
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
