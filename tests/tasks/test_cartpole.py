import math

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from sim.mjx_import import mjx
from tasks.registry import get_task, make_env
from tasks.shaping import tolerance


@pytest.fixture(scope="module")
def env():
    return make_env("cartpole_balance")


def _data(env, cart=0.0, angle=0.0, cart_vel=0.0, pole_vel=0.0):
    return mjx.make_data(env.mj_model, impl="jax").replace(
        qpos=jnp.array([cart, angle]), qvel=jnp.array([cart_vel, pole_vel])
    )


def test_tolerance_follows_the_control_suite_definition():
    assert float(tolerance(jnp.array(0.3), bounds=(0.0, 0.5))) == 1.0
    assert float(tolerance(jnp.array(0.6), bounds=(0.0, 0.5))) == 0.0
    assert float(tolerance(jnp.array(2.0), margin=2.0)) == pytest.approx(0.1)
    assert float(tolerance(jnp.array(-1.0), margin=2.0)) == pytest.approx(0.1**0.25)
    assert float(tolerance(jnp.array(0.5), margin=1.0, value_at_margin=0.0, sigmoid="quadratic")) == 0.75
    assert float(tolerance(jnp.array(1.0), margin=1.0, value_at_margin=0.0, sigmoid="quadratic")) == 0.0


def _reward(env, data, action):
    return jax.jit(env.reward)(data, action, {})


def test_upright_centred_still_pole_without_force_earns_the_maximum_reward_of_one(env):
    reward, terms = _reward(env, _data(env), jnp.zeros(1))
    assert float(reward) == 1.0
    assert {k: float(v) for k, v in terms.items()} == {
        "upright": 1.0,
        "centered": 1.0,
        "small_control": 1.0,
        "small_velocity": 1.0,
    }


@pytest.mark.parametrize(
    ("state", "action", "term", "value"),
    [
        ({"angle": math.pi}, 0.0, "upright", 0.0),
        ({"angle": math.pi / 2}, 0.0, "upright", 0.5),
        ({"cart": 2.0}, 0.0, "centered", 0.55),
        ({}, 1.0, "small_control", 0.8),
        ({}, -1.0, "small_control", 0.8),
        ({"pole_vel": 5.0}, 0.0, "small_velocity", 0.55),
    ],
)
def test_each_reward_term_takes_its_reference_value(env, state, action, term, value):
    reward, terms = _reward(env, _data(env, **state), jnp.array([action]))
    assert float(terms[term]) == pytest.approx(value, abs=1e-6)
    assert float(reward) == pytest.approx(math.prod(float(v) for v in terms.values()), rel=1e-6)


@pytest.mark.parametrize(
    ("task", "center", "cart_width", "pole_width"),
    [("cartpole_balance", 0.0, 0.1, 0.034), ("cartpole_swingup", math.pi, 0.05, 0.05)],
)
def test_the_start_pose_is_the_tasks(task, center, cart_width, pole_width):
    env = make_env(task)
    qpos = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(0), 256)).pipeline_state.qpos
    assert np.abs(np.asarray(qpos[:, 0])).max() <= cart_width
    assert np.abs(np.asarray(qpos[:, 1]) - center).max() <= pole_width


def test_the_model_has_the_control_suite_cartpole_physics(env):
    m = env.mj_model
    assert m.opt.timestep == 0.01
    assert m.opt.integrator == mujoco.mjtIntegrator.mjINT_EULER
    assert m.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_CONTACT
    assert m.body("cart").mass[0] == pytest.approx(1.0)
    assert m.body("pole").mass[0] == pytest.approx(0.1)
    assert m.geom("pole").size[1] == pytest.approx(0.5)
    assert list(m.jnt_range[m.joint("slider").id]) == pytest.approx([-1.8, 1.8])
    assert m.actuator_gear[0, 0] == 10.0
    assert list(m.dof_damping) == pytest.approx([5e-4, 2e-6])


def test_one_mjx_step_matches_one_mujoco_c_step(env):
    model = env.mj_model
    rng = np.random.default_rng(0)
    step = jax.jit(mjx.step)
    for _ in range(20):
        data = mujoco.MjData(model)
        data.qpos[:] = rng.uniform([-1.5, -math.pi], [1.5, math.pi])
        data.qvel[:] = rng.uniform(-3, 3, size=2)
        data.ctrl[:] = rng.uniform(-1, 1, size=1)
        ours = step(env.mjx_model, mjx.put_data(model, data, impl="jax"))
        mujoco.mj_step(model, data)
        np.testing.assert_allclose(ours.qpos, data.qpos, atol=1e-5)
        np.testing.assert_allclose(ours.qvel, data.qvel, atol=1e-4)


def test_cartpole_tasks_default_to_thousand_step_episodes_at_ten_ms():
    for task in ("cartpole_balance", "cartpole_swingup"):
        config = get_task(task).config()
        assert (config.episode_length, config.control_dt) == (1000, 0.01)
