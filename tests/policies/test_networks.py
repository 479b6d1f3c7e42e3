import math

import numpy as np
import torch

from policies.action_bounds import joint_limit_bounds
from policies.networks import DeterministicActor, GaussianActor, squashed_log_prob


def test_squashed_log_prob_matches_a_numerical_change_of_variables():
    torch.manual_seed(0)
    mean = torch.tensor([[0.3, -1.2, 2.0]], dtype=torch.float64)
    log_std = torch.tensor([[-0.5, 0.0, -2.0]], dtype=torch.float64)
    u = mean + log_std.exp() * torch.randn(1000, 3, dtype=torch.float64)
    got = squashed_log_prob(u, mean, log_std)
    h = 1e-6
    slope = (torch.tanh(u + h) - torch.tanh(u - h)) / (2 * h)  # numerical d tanh / du
    gaussian = torch.distributions.Normal(mean, log_std.exp()).log_prob(u)
    expected = (gaussian - slope.log()).sum(-1)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


def test_squashed_density_integrates_to_one_over_the_unit_interval():
    a = torch.linspace(-1 + 1e-7, 1 - 1e-7, 400_001, dtype=torch.float64).unsqueeze(-1)
    u = torch.atanh(a)
    density = squashed_log_prob(
        u, torch.tensor([[0.4]], dtype=torch.float64), torch.tensor([[-0.3]], dtype=torch.float64)
    ).exp()
    assert math.isclose(torch.trapezoid(density, a.squeeze(-1)).item(), 1.0, abs_tol=1e-4)


def test_gaussian_actor_starts_centred_with_log_std_inside_its_range():
    bound = torch.tensor([1.0, 2.5])
    actor = GaussianActor(7, bound, (32, 32), "silu", True, (-5.0, 0.0))
    obs = torch.randn(64, 7)
    mean, log_std = actor.distribution(obs)
    assert torch.equal(mean, torch.zeros_like(mean))
    torch.testing.assert_close(log_std, torch.full_like(log_std, -2.5))
    action, log_prob = actor.sample(obs)
    assert (action.abs() <= bound).all() and torch.isfinite(log_prob).all()
    assert torch.equal(actor(obs), torch.zeros(64, 2))


def test_deterministic_actor_outputs_stay_inside_per_joint_bounds():
    bound = torch.tensor([0.5, 3.0])
    actor = DeterministicActor(4, bound, (16,), "relu", False, init_std=10.0)
    out = actor(100 * torch.randn(256, 4))
    assert (out.abs() <= bound).all() and (out.abs().amax(0) > 0.9 * bound).all()


def test_joint_limit_bounds_reach_the_farther_limit():
    low, high, default = np.array([-1.0, -0.2]), np.array([0.5, 2.0]), np.array([0.0, 0.3])
    bounds = joint_limit_bounds(low, high, default, action_scale=0.25)
    np.testing.assert_allclose(bounds, [4.0, 6.8], rtol=1e-6)
    np.testing.assert_allclose(default + 0.25 * bounds, [1.0, 2.0], rtol=1e-6)
