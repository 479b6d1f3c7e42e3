"""The evaluator plays any policy on plain arrays: numpy (an ONNX runner), JAX (Brax), torch through its adapter."""

import jax
import jax.numpy as jnp
import numpy as np
import torch

from policies.env_bridge import on_jax_arrays
from sim.evaluation import Evaluator


def test_a_numpy_a_jax_and_a_torch_policy_computing_the_same_actions_play_the_same_episodes(short_cartpole):
    evaluator = Evaluator(short_cartpole.batched)
    (size,) = short_cartpole.env.observation_size["actor"]
    weights = np.linspace(-1.5, 1.0, size, dtype=np.float32)[:, None]  # a fixed linear feedback
    rng = jax.random.PRNGKey(3)

    def numpy_policy(obs):
        assert isinstance(obs, jax.Array)
        return np.tanh(np.asarray(obs) @ weights)

    def jax_policy(obs):
        return jnp.tanh(obs @ jnp.asarray(weights))

    def torch_policy(obs):
        assert isinstance(obs, torch.Tensor) and not torch.is_grad_enabled()
        return torch.tanh(obs @ torch.from_numpy(weights))

    played = [
        evaluator.episodes(policy, rng)
        for policy in (numpy_policy, jax_policy, on_jax_arrays(torch_policy, torch.device("cpu")))
    ]
    for other in played[1:]:
        np.testing.assert_allclose(other.returns, played[0].returns, rtol=1e-5)
        np.testing.assert_array_equal(other.lengths, played[0].lengths)
    assert played[0].returns.shape == (short_cartpole.batched.num_envs,)
    assert np.ptp(played[0].returns) > 0  # the envs' draws differ: the episodes are real, not one copied
