import jax
import numpy as np

from tests.conftest import SHORT_OVERRIDES


def test_actor_noise_stays_within_its_scale_while_the_critic_sees_the_clean_state(short_cartpole):
    c = short_cartpole
    state = c.reset(jax.random.PRNGKey(3))
    noise = SHORT_OVERRIDES["obs_noise"]
    scale = np.array(
        [
            noise["cart_position"],
            noise["pole_angle"],
            noise["pole_angle"],
            noise["cart_velocity"],
            noise["pole_angular_velocity"],
        ]
    )
    deviations = []
    for _ in range(10):
        state = c.step(state, jax.numpy.zeros(1))
        clean = np.asarray(state.obs["critic"][:5])
        deviations.append(np.asarray(state.obs["actor"]) - clean)
        np.testing.assert_allclose(clean, np.asarray(c.env.observe(state.pipeline_state, state.info)["critic"][:5]))
    deviations = np.abs(np.array(deviations))
    assert (deviations <= scale + 1e-6).all()
    assert (deviations.max(axis=0) > 0.2 * scale).all(), "noise should use its range, not be zero"
