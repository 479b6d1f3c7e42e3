import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from sim.mjx_import import mjx
from tasks.registry import make_env
from tests.conftest import SHORT_EPISODE


def _params(state):
    return {k: np.asarray(v) for k, v in state.info["dr"].items()}


def test_two_envs_get_different_parameters_within_their_ranges(short_cartpole):
    c = short_cartpole
    params = _params(c.batch_reset(jax.random.PRNGKey(0)))
    ranges = c.env.randomization_ranges()
    assert (
        set(params)
        == set(ranges)
        == {"pole_mass_scale", "pole_length_scale", "cart_damping_scale", "actuator_gain_scale"}
    )
    for name, values in params.items():
        low, high = ranges[name]
        assert ((low <= values) & (values <= high)).all(), name
        assert len(np.unique(values)) == len(values), f"{name}: envs share a value"


def test_an_env_draws_new_parameters_when_its_episode_restarts(short_cartpole):
    c = short_cartpole
    state = c.batch_reset(jax.random.PRNGKey(1))
    first = _params(state)
    zero = jnp.zeros((c.batched.num_envs, 1))
    for _ in range(SHORT_EPISODE - 1):
        state = c.batch_step(state, zero)
        for name, values in _params(state).items():
            np.testing.assert_array_equal(values, first[name], err_msg="parameters must hold within an episode")
    state = c.batch_step(state, zero)
    assert np.asarray(state.done).all()
    for name, values in _params(state).items():
        assert (values != first[name]).all(), f"{name} was not redrawn at reset"


def test_a_fixed_range_fixes_the_parameter():
    env = make_env("cartpole_balance", {"randomization": {"pole_mass_scale": [1.3, 1.3]}})
    params = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(0), 8)).info["dr"]
    np.testing.assert_allclose(params["pole_mass_scale"], 1.3)


def test_randomized_parameters_change_the_physics(short_cartpole):
    env = short_cartpole.env
    nominal = {name: jnp.array(1.0) for name in env.randomization_ranges()}
    data = mjx.make_data(env.mj_model, impl="jax").replace(
        qpos=jnp.array([0.0, 0.3]), qvel=jnp.array([0.1, 0.0]), ctrl=jnp.array([0.5])
    )
    qacc = jax.jit(lambda params: mjx.forward(env.randomized_model(params), data).qacc)
    base = qacc(nominal)
    np.testing.assert_allclose(jax.jit(mjx.forward)(env.mjx_model, data).qacc, base, rtol=1e-6)
    for name in nominal:
        changed = qacc({**nominal, name: jnp.array(1.5)})
        assert (np.asarray(changed) != np.asarray(base)).any(), f"{name} does not affect the dynamics"


def test_a_scaled_pole_moves_like_a_model_compiled_with_that_pole(short_cartpole):
    env = short_cartpole.env
    mass, length = 1.5, 1.2
    xml = env.robot.mjcf_path.read_text().replace(
        'fromto="0 0 0 0 0 1" size="0.045" mass="0.1"', f'fromto="0 0 0 0 0 {length}" size="0.045" mass="{0.1 * mass}"'
    )
    assert xml != env.robot.mjcf_path.read_text()
    reference_model = mujoco.MjModel.from_xml_string(xml)
    reference = mujoco.MjData(reference_model)
    reference.qpos[:], reference.qvel[:], reference.ctrl[:] = [0.2, 0.7], [0.3, -1.0], [0.4]
    mujoco.mj_forward(reference_model, reference)

    params = {name: jnp.array(1.0) for name in env.randomization_ranges()}
    params.update(pole_mass_scale=jnp.array(mass), pole_length_scale=jnp.array(length))
    data = mjx.make_data(env.mj_model, impl="jax").replace(
        qpos=jnp.array(reference.qpos, dtype=jnp.float32),
        qvel=jnp.array(reference.qvel, dtype=jnp.float32),
        ctrl=jnp.array(reference.ctrl, dtype=jnp.float32),
    )
    ours = jax.jit(lambda p: mjx.forward(env.randomized_model(p), data))(params)
    # The pole's inertia is scaled as a thin rod's; the capsule's end caps make the exact one differ by < 1%.
    np.testing.assert_allclose(ours.qacc, reference.qacc, rtol=1e-2)
