"""The Brax baselines' settings, per algorithm and task: brax ``train`` arguments, with their sources.

Keys are brax ``train`` arguments; ``network_factory`` holds keyword arguments of brax's network factory
(``make_ppo_networks`` / ``make_sac_networks``), brax's defaults otherwise. :data:`TASK_SETTINGS` says which
tasks each algorithm has settings for; a task it does not list is refused rather than trained with another
task's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CARTPOLE_PPO: dict[str, Any] = {
    "num_timesteps": 60_000_000,
    "num_evals": 10,
    "reward_scaling": 10.0,
    "episode_length": 1000,
    "normalize_observations": True,
    "action_repeat": 1,
    "unroll_length": 30,
    "num_minibatches": 32,
    "num_updates_per_batch": 16,
    "discounting": 0.995,
    "learning_rate": 1e-3,
    "entropy_cost": 1e-2,
    "num_envs": 2048,
    "batch_size": 1024,
    "num_resets_per_eval": 10,
}
"""MuJoCo Playground's ``brax_ppo_config`` for CartpoleBalance (playground 0.2.0)."""

CARTPOLE_SAC: dict[str, Any] = {
    "num_timesteps": 5_000_000,
    "num_evals": 10,
    "reward_scaling": 1.0,
    "episode_length": 1000,
    "normalize_observations": True,
    "action_repeat": 1,
    "discounting": 0.99,
    "learning_rate": 1e-3,
    "num_envs": 128,
    "batch_size": 512,
    "grad_updates_per_step": 8,
    "max_replay_size": 1_048_576 * 4,
    "min_replay_size": 8192,
    "network_factory": {"q_network_layer_norm": True},
    # Playground also sets num_resets_per_eval=10, which brax 0.14.2's sac.train rejects.
}
"""MuJoCo Playground's ``brax_sac_config`` for CartpoleBalance (playground 0.2.0)."""

CPU_SIZED_PPO: dict[str, Any] = {"num_envs": 256, "batch_size": 256, "num_minibatches": 8, "num_updates_per_batch": 4}
"""PPO changes for a small CPU: Playground's 2048 envs x unroll 30 do not reach a first evaluation within
25 minutes on a 2-core CPU; with these (otherwise Playground's settings) Brax PPO first evaluated >= 900
(996) after 295 s there."""

LOCOMOTION_PPO: dict[str, Any] = {
    "num_timesteps": 68_812_800,
    "num_evals": 401,
    "reward_scaling": 1.0,
    "episode_length": 1000,
    "normalize_observations": True,
    "action_repeat": 1,
    "unroll_length": 24,
    "num_minibatches": 4,
    "num_updates_per_batch": 5,
    "discounting": 0.97,
    "learning_rate": 1e-3,
    "entropy_cost": 5e-3,
    "num_envs": 1024,
    "batch_size": 256,
    "max_grad_norm": 1.0,
    "num_eval_envs": 16,
    "deterministic_eval": True,
    "network_factory": {"policy_hidden_layer_sizes": (128, 128), "value_hidden_layer_sizes": (256, 256)},
}
"""Brax PPO on a legged joystick task, sized for a CPU: physics-bound (MJX steps ~5K control steps/s on two cores
at 1024 envs) and learner-light, the regime of mjbatch's CPU PPO (1024 envs, 24-step unrolls, 5 epochs of 4
minibatches, 2x128 policy, lr 1e-3, entropy 0.005) with Playground's Go1 discount (0.97), gradient clip 1.0,
the value network on the privileged critic observation, and 16 deterministic evaluation episodes. An epoch is
7 updates of 24,576 env steps (172,032 steps between evaluations, about a minute on two cores)."""


@dataclass(frozen=True)
class TaskSettings:
    """One algorithm's settings for one task: the published ones, and what changes on a CPU."""

    settings: dict[str, Any]
    """brax ``train`` arguments (``network_factory``: the network factory's keyword arguments)."""
    cpu_changes: dict[str, Any] = field(default_factory=dict)
    """Replaced when there is no GPU (empty: the same settings on every device)."""
    bench_eval_every: int | None = None
    """Env steps between evaluations under ``bench learn`` (brax rounds to whole epochs); None keeps the
    settings' own ``num_evals``."""


_CARTPOLE_PPO = TaskSettings(CARTPOLE_PPO, CPU_SIZED_PPO, bench_eval_every=500_000)
_CARTPOLE_SAC = TaskSettings(CARTPOLE_SAC, bench_eval_every=50_000)
_LOCOMOTION_PPO = TaskSettings(LOCOMOTION_PPO)

TASK_SETTINGS: dict[str, dict[str, TaskSettings]] = {
    "brax_ppo": {
        "cartpole_balance": _CARTPOLE_PPO,
        "cartpole_swingup": _CARTPOLE_PPO,
        "quadruped_joystick_flat": _LOCOMOTION_PPO,
        "quadruped_joystick_rough": _LOCOMOTION_PPO,
        "humanoid_joystick_flat": _LOCOMOTION_PPO,
        "humanoid_joystick_rough": _LOCOMOTION_PPO,
    },
    "brax_sac": {"cartpole_balance": _CARTPOLE_SAC, "cartpole_swingup": _CARTPOLE_SAC},
}
"""Algorithm -> task -> its settings. Both cart-pole tasks take Playground's CartpoleBalance settings (the same
robot, episode length and reward scale; the swing-up's are not separately tuned here); the legged joystick
tasks take the CPU locomotion recipe. SAC has no legged settings: it is the cart-pole peer only."""
