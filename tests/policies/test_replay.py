import pytest
import torch

from policies.replay import ReplayBuffer

GAMMA = 0.9


def filled_buffer(rewards, terminated, truncated, n_step, capacity=None):
    """One env; step t stores obs t, next obs t + 100 (so sources are traceable)."""
    steps = len(rewards)
    buffer = ReplayBuffer(1, capacity or steps, 1, 1, 1, n_step, GAMMA, "cpu")
    for t in range(steps):
        buffer.add(
            obs=torch.tensor([[float(t)]]),
            critic_obs=torch.tensor([[float(t)]]),
            action=torch.tensor([[0.0]]),
            reward=torch.tensor([rewards[t]]),
            next_obs=torch.tensor([[t + 100.0]]),
            next_critic_obs=torch.tensor([[t + 100.0]]),
            terminated=torch.tensor([float(terminated[t])]),
            truncated=torch.tensor([float(truncated[t])]),
        )
    return buffer


def by_start(batch):
    return {
        int(o): (float(r), float(n), float(b))
        for o, r, n, b in zip(batch.obs, batch.reward, batch.next_obs, batch.bootstrap, strict=True)
    }


def test_n_step_targets_match_hand_computation_across_terminations_and_truncations():
    rewards = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    terminated = [0, 0, 1, 0, 0, 0, 0, 0]  # episode A ends for real at t=2
    truncated = [0, 0, 0, 0, 1, 0, 0, 0]  # episode B times out at t=4
    buffer = filled_buffer(rewards, terminated, truncated, n_step=3)
    got = by_start(buffer.sample(4000, torch.Generator().manual_seed(0)))
    g = GAMMA
    expected = {
        0: (1 + g * 2 + g**2 * 3, 102.0, 0.0),  # runs into the termination at t=2: no bootstrap
        1: (2 + g * 3, 102.0, 0.0),
        2: (3.0, 102.0, 0.0),
        3: (4 + g * 5, 104.0, g**2),  # stops at the time-out, bootstraps from its final obs
        4: (5.0, 104.0, g),
        5: (6 + g * 7 + g**2 * 8, 107.0, g**3),  # a full window
    }
    assert set(got) == set(expected)  # starts 6 and 7 lack a full window yet
    for start, (ret, next_obs, bootstrap) in expected.items():
        assert got[start] == pytest.approx((ret, next_obs, bootstrap)), start


def test_one_step_targets_are_the_stored_transitions():
    buffer = filled_buffer([1.0, 2.0, 3.0], [0, 1, 0], [0, 0, 1], n_step=1)
    got = by_start(buffer.sample(500, torch.Generator().manual_seed(1)))
    expected = {0: (1.0, 100.0, GAMMA), 1: (2.0, 101.0, 0.0), 2: (3.0, 102.0, GAMMA)}
    assert set(got) == set(expected)
    for start, values in expected.items():
        assert got[start] == pytest.approx(values)


def test_windows_follow_time_order_after_the_ring_wraps():
    rewards = [float(t) for t in range(10)]
    buffer = filled_buffer(rewards, [0] * 10, [0] * 10, n_step=2, capacity=4)  # holds t = 6..9
    got = by_start(buffer.sample(500, torch.Generator().manual_seed(2)))
    assert set(got) == {6, 7, 8}
    for t in (6, 7, 8):
        assert got[t] == pytest.approx((t + GAMMA * (t + 1), t + 101.0, GAMMA**2))


def test_buffer_layout_is_env_by_time_by_dim_and_state_round_trips():
    buffer = ReplayBuffer(3, 5, 4, 6, 2, 1, 0.99, "cpu")
    assert buffer.data["obs"].shape == (3, 5, 4) and buffer.data["critic_obs"].shape == (3, 5, 6)
    for _ in range(7):
        buffer.add(
            obs=torch.randn(3, 4),
            critic_obs=torch.randn(3, 6),
            action=torch.randn(3, 2),
            reward=torch.randn(3),
            next_obs=torch.randn(3, 4),
            next_critic_obs=torch.randn(3, 6),
            terminated=torch.zeros(3),
            truncated=torch.zeros(3),
        )
    copy = ReplayBuffer(3, 5, 4, 6, 2, 1, 0.99, "cpu")
    copy.load_state_dict(buffer.state_dict())
    a = buffer.sample(16, torch.Generator().manual_seed(3))
    b = copy.sample(16, torch.Generator().manual_seed(3))
    assert torch.equal(a.obs, b.obs) and torch.equal(a.reward, b.reward) and copy.writes == 7
