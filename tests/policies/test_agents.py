import numpy as np
import pytest
import torch

from policies import c51
from policies.agent import AgentSpec, select_targets
from policies.fast_sac import FastSAC, FastSACConfig
from policies.fast_td3 import FastTD3, FastTD3Config
from policies.mirror import MirrorMap, SignedPermutation
from policies.replay import Batch

SMALL = {"actor_hidden": (32, 32), "critic_hidden": (32, 32), "batch_size": 64, "num_atoms": 11}


def test_clipped_double_q_gives_both_critics_the_lower_mean_distribution():
    support = c51.make_support(-1, 1, 3)
    low = torch.tensor([0.8, 0.2, 0.0])  # mean -0.8
    high = torch.tensor([0.0, 0.2, 0.8])  # mean +0.8
    projected = torch.stack([torch.stack([low, high]), torch.stack([high, low])])  # (critics, batch, atoms)
    chosen = select_targets(projected, support, "min")
    for critic in range(2):
        assert torch.equal(chosen[critic, 0], low) and torch.equal(chosen[critic, 1], low)
    assert torch.equal(select_targets(projected, support, "independent"), projected)


def random_batch(n=64, obs=5, critic=9, act=1):
    return Batch(
        torch.randn(n, obs),
        torch.randn(n, critic),
        torch.rand(n, act) * 2 - 1,
        torch.rand(n),
        torch.randn(n, obs),
        torch.randn(n, critic),
        torch.full((n,), 0.97),
    )


def spec(mirror=None):
    return AgentSpec(5, 9, torch.ones(1), 4, torch.device("cpu"), mirror=mirror)


@pytest.mark.parametrize("agent_class, config_class", [(FastTD3, FastTD3Config), (FastSAC, FastSACConfig)])
def test_updates_follow_the_policy_delay_and_move_every_network(agent_class, config_class):
    torch.manual_seed(0)
    agent = agent_class(spec(), config_class(**SMALL, policy_delay=2))
    before = {name: p.clone() for name, p in agent.named_parameters()}
    kinds = [set(agent.update(random_batch())) for _ in range(4)]
    assert ["actor" in k for k in kinds] == [True, False, True, False]
    moved = {name for name, p in agent.named_parameters() if not torch.equal(p, before[name])}
    assert any(n.startswith("actor.") for n in moved) and any(n.startswith("critic.") for n in moved)
    target_moved = [
        not torch.equal(a, b) for a, b in zip(agent.critic_target.parameters(), agent.critic.parameters(), strict=True)
    ]
    assert any(target_moved)  # soft update lags the online critic


def test_td3_exploration_noise_is_redrawn_per_env_only_when_its_episode_ends():
    config = FastTD3Config(**SMALL, exploration_std=(0.1, 0.3))
    agent = FastTD3(spec(), config)
    first = agent.noise_std.clone()
    assert ((first >= 0.1) & (first <= 0.3)).all()
    agent.episodes_ended(torch.tensor([True, False, False, True]))
    assert torch.equal(agent.noise_std[1:3], first[1:3]) and not torch.equal(agent.noise_std[[0, 3]], first[[0, 3]])
    actions = agent.explore(torch.randn(4, 5))
    assert (actions.abs() <= 1).all()


def test_mirror_augmentation_doubles_the_batch_with_its_mirror_image():
    sign = np.array([-1.0, 1.0, -1.0, -1.0, -1.0])
    mirror = MirrorMap(
        obs=SignedPermutation.from_numpy(np.arange(5), sign, "cpu"),
        critic_obs=SignedPermutation.from_numpy(np.arange(9), np.concatenate([sign, np.ones(4)]), "cpu"),
        action=SignedPermutation.from_numpy(np.zeros(1, int), -np.ones(1), "cpu"),
    )
    batch = random_batch(8)
    doubled = mirror.augment(batch)
    assert doubled.obs.shape[0] == 16
    torch.testing.assert_close(doubled.action[8:], -batch.action)
    torch.testing.assert_close(mirror.obs(doubled.obs[8:]), batch.obs)
    with pytest.raises(ValueError, match="own inverse"):
        SignedPermutation.from_numpy(np.array([1, 2, 0]), np.ones(3), "cpu")


def test_published_defaults_fill_unset_fields_and_user_values_win():
    td3, sac = FastTD3Config(), FastSACConfig(batch_size=512)
    assert (td3.batch_size, td3.critic_hidden, td3.target_reduction, td3.layer_norm) == (
        32768,
        (1024, 512, 256),
        "min",
        False,
    )
    assert (sac.batch_size, sac.critic_hidden, sac.target_reduction, sac.layer_norm) == (
        512,
        (768, 384, 192),
        "independent",
        True,
    )
    with pytest.raises(ValueError, match="v_min"):
        FastTD3Config(v_min=5.0, v_max=1.0)
