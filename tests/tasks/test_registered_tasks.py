import jax
import jax.numpy as jnp
import numpy as np
import pytest
from brax.envs.base import Env
from brax.envs.wrappers import training

from tasks.registry import get_task, make_env, task_names
from tests.conftest import compile_env

NUM_ENVS = 3


@pytest.fixture(scope="module", params=task_names())
def compiled(request):
    return compile_env(make_env(request.param), NUM_ENVS)


def test_every_task_resets_and_steps_under_jit_with_its_declared_shapes_and_finite_values(compiled):
    env = compiled.env
    sizes = env.observation_size
    state = compiled.batch_reset(jax.random.PRNGKey(0))
    actions = jax.random.uniform(jax.random.PRNGKey(1), (25, NUM_ENVS, env.action_size), minval=-1, maxval=1)
    for action in actions:
        state = compiled.batch_step(state, action)
        for key in ("actor", "critic"):
            assert state.obs[key].shape == (NUM_ENVS, *sizes[key])
            assert np.isfinite(np.asarray(state.obs[key])).all()
        reward = np.asarray(state.reward)
        assert reward.shape == (NUM_ENVS,) and ((reward >= 0.0) & (reward <= 1.0)).all()
        assert np.isfinite(np.asarray(state.pipeline_state.qpos)).all()


def test_every_task_defaults_to_thousand_step_episodes_at_ten_ms(compiled):
    config = compiled.env.config
    assert (config.episode_length, config.ctrl_dt) == (1000, 0.01)


def test_brax_training_wrappers_drive_our_env_unchanged():
    env = make_env("cartpole_balance")
    assert isinstance(env, Env)
    wrapped = training.wrap(env, episode_length=5, action_repeat=1)
    state = jax.jit(wrapped.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    step = jax.jit(wrapped.step)
    for _ in range(5):
        state = step(state, jnp.zeros((2, env.action_size)))
    assert np.asarray(state.info["truncation"]).all()
    assert state.obs["actor"].shape == (2, env.observation_size["actor"][0])


def test_unknown_task_names_the_known_ones():
    with pytest.raises(Exception, match="known tasks: cartpole_balance, cartpole_swingup"):
        get_task("cartpole_juggle")
