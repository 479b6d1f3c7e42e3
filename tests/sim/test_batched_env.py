import jax
import jax.numpy as jnp
import numpy as np

from tests.conftest import SHORT_EPISODE


def _actions(steps, num_envs, seed=7):
    return jax.random.uniform(jax.random.PRNGKey(seed), (steps, num_envs, 1), minval=-1.0, maxval=1.0)


def test_auto_reset_keeps_the_final_observation_and_marks_truncation_at_the_time_limit(short_cartpole):
    c = short_cartpole
    rng = jax.random.PRNGKey(11)
    actions = _actions(SHORT_EPISODE + 3, c.batched.num_envs)

    # Hand-run env 0 with the key the batch gives it, one step at a time.
    hand = c.reset(jax.random.split(rng, c.batched.num_envs)[0])
    hand_obs, hand_rewards = [], []
    for t in range(SHORT_EPISODE):
        hand = c.step(hand, actions[t, 0])
        hand_obs.append(hand.obs)
        hand_rewards.append(float(hand.reward))
    assert float(hand.done) == 1.0 and float(hand.info["truncation"]) == 1.0

    state = c.batch_reset(rng)
    for t in range(SHORT_EPISODE):
        state = c.batch_step(state, actions[t])
        if t < SHORT_EPISODE - 1:
            assert not np.asarray(state.done).any()
            np.testing.assert_allclose(state.obs["actor"][0], hand_obs[t]["actor"], atol=1e-5)

    assert np.asarray(state.done).all() and np.asarray(state.info["truncation"]).all()
    for key in ("actor", "critic"):
        np.testing.assert_allclose(state.info["final_obs"][key][0], hand_obs[-1][key], atol=1e-5)
        assert not np.allclose(state.obs[key][0], hand_obs[-1][key]), "obs after auto-reset must be the new episode's"
    np.testing.assert_allclose(state.reward[0], hand_rewards[-1], atol=1e-5)
    np.testing.assert_allclose(state.info["last_episode_return"][0], sum(hand_rewards), rtol=1e-5)
    np.testing.assert_array_equal(state.info["last_episode_length"], SHORT_EPISODE)
    np.testing.assert_array_equal(state.info["step"], 0)
    np.testing.assert_array_equal(state.info["episode_return"], 0.0)

    state = c.batch_step(state, actions[SHORT_EPISODE])
    assert not np.asarray(state.done).any() and not np.asarray(state.info["truncation"]).any()
    np.testing.assert_array_equal(state.info["step"], 1)
    np.testing.assert_allclose(state.info["episode_return"], state.reward)


def test_nan_in_the_physics_ends_the_episode_as_a_failure_and_the_env_restarts_finite(short_cartpole):
    c = short_cartpole
    state = c.batch_reset(jax.random.PRNGKey(5))
    data = state.pipeline_state
    state = state.replace(pipeline_state=data.replace(qvel=data.qvel.at[1].set(jnp.nan)))
    state = c.batch_step(state, jnp.zeros((c.batched.num_envs, 1)))

    np.testing.assert_array_equal(state.done, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(state.info["truncation"], 0.0)
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(state.obs))
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(state.info["final_obs"]))
    assert np.isfinite(np.asarray(state.reward)).all()
    assert np.isfinite(np.asarray(state.pipeline_state.qpos)).all()
    assert np.isfinite(np.asarray(state.pipeline_state.qvel)).all()


def test_a_step_returns_the_same_types_it_takes_so_jit_never_recompiles(short_cartpole):
    c = short_cartpole
    before = jax.eval_shape(c.batched.reset, jax.random.PRNGKey(0))
    after = jax.eval_shape(c.batched.step, before, jax.ShapeDtypeStruct((c.batched.num_envs, 1), jnp.float32))
    assert jax.tree.structure(before) == jax.tree.structure(after)
    for x, y in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True):
        assert (x.shape, x.dtype, x.weak_type) == (y.shape, y.dtype, y.weak_type)
