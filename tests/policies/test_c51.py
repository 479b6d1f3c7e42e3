import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import c51


def brute_force_projection(next_probs, reward, bootstrap, support):
    """Each atom's mass moved to r + bootstrap * z, then split linearly between the two nearest atoms."""
    v_min, v_max = support[0], support[-1]
    delta = (v_max - v_min) / (len(support) - 1)
    out = np.zeros_like(next_probs)
    for i in range(next_probs.shape[0]):
        for j, z in enumerate(support):
            value = min(max(reward[i] + bootstrap[i] * z, v_min), v_max)
            for k, atom in enumerate(support):
                weight = max(0.0, 1.0 - abs(value - atom) / delta)
                out[i, k] += next_probs[i, j] * weight
    return out


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    atoms=st.integers(2, 21),
    bounds=st.tuples(st.floats(-30, 0), st.floats(0.5, 30)),
)
def test_c51_projection_matches_brute_force(seed, atoms, bounds):
    rng = np.random.default_rng(seed)
    support = np.linspace(bounds[0], bounds[1], atoms)
    batch = 6
    next_probs = rng.dirichlet(np.ones(atoms), size=batch)
    reward = rng.uniform(-15, 15, size=batch)
    reward[0] = 0.0
    bootstrap = rng.choice([0.0, 0.97, 0.97**3, 1.0], size=batch)
    expected = brute_force_projection(next_probs, reward, bootstrap, support)
    got = c51.project_target(
        torch.tensor(next_probs), torch.tensor(reward), torch.tensor(bootstrap), torch.tensor(support)
    )
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-9)
    np.testing.assert_allclose(got.sum(-1).numpy(), 1.0, atol=1e-9)


def test_projection_keeps_the_mean_when_the_target_stays_inside_the_support():
    support = c51.make_support(-10, 10, 101).double()
    probs = torch.softmax(torch.randn(4, 101, dtype=torch.float64), -1) * 0
    probs[:, 40:60] = 1 / 20
    reward = torch.tensor([0.3, -1.0, 2.5, 0.0], dtype=torch.float64)
    bootstrap = torch.tensor([0.97, 0.5, 0.0, 1.0], dtype=torch.float64)
    projected = c51.project_target(probs, reward, bootstrap, support)
    expected = reward + bootstrap * c51.expected_value(probs, support)
    torch.testing.assert_close(c51.expected_value(projected, support), expected)


def test_categorical_loss_is_minimal_at_the_target():
    target = torch.softmax(torch.randn(3, 11), -1)
    at_target = c51.categorical_loss(target.log(), target)
    elsewhere = c51.categorical_loss(torch.randn(3, 11), target)
    assert at_target < elsewhere
