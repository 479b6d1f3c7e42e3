import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim import delay
from tests.conftest import MAX_DELAY


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_buffer_returns_the_action_commanded_exactly_k_steps_earlier(k):
    buffer = delay.empty_buffer(3, 2)
    actions = jnp.arange(1, 21, dtype=jnp.float32).reshape(10, 2)
    for t in range(10):
        buffer, applied = delay.push_and_read(buffer, actions[t], jnp.array(k))
        expected = actions[t - k] if t >= k else jnp.zeros(2)
        np.testing.assert_array_equal(applied, expected)


def test_env_applies_each_action_k_control_steps_late(short_cartpole):
    c = short_cartpole
    actions = np.linspace(-0.9, 0.9, 8, dtype=np.float32)
    for k in range(MAX_DELAY + 1):
        state = c.reset(jax.random.PRNGKey(k))
        state = state.replace(info={**state.info, "delay": jnp.array(k, dtype=state.info["delay"].dtype)})
        for t, a in enumerate(actions):
            state = c.step(state, jnp.array([a]))
            expected = actions[t - k] if t >= k else 0.0
            assert float(state.pipeline_state.ctrl[0]) == pytest.approx(expected, abs=1e-7), (k, t)


def test_each_episode_draws_its_delay_from_zero_to_the_configured_maximum(short_cartpole):
    keys = jax.random.split(jax.random.PRNGKey(0), 64)
    delays = jax.jit(jax.vmap(short_cartpole.env.reset))(keys).info["delay"]
    assert set(np.asarray(delays).tolist()) == set(range(MAX_DELAY + 1))
