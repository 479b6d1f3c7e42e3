"""Per-task training presets: what a task needs beyond the learners' published (GPU-sized) defaults.

The published FastTD3/FastSAC defaults size a run for a big GPU (1024-4096 envs, batches of 8-32K,
1024-wide critics). A small task meant for a laptop CPU carries a preset sized for it; a preset also
fits the C51 support to the task's return scale. Presets are data: one table keyed by task, and a second
one (:data:`CPU_PRESETS`) that a run without a GPU lays on top: the sample-efficient regime of few envs and
many cheap updates per sample, not a shrunken copy of the GPU recipe.
"""

from __future__ import annotations

from typing import Any, Literal

_CARTPOLE_SIZES: dict[str, Any] = {
    "actor_hidden": (64, 64),
    "critic_hidden": (128, 128),
    "batch_size": 512,
    "updates_per_step": 2,
    "buffer_steps": 20_000,
    "n_step": 3,
    "gamma": 0.99,
    "learning_rate": 1e-3,
    "v_min": -10.0,
    "v_max": 110.0,
}

_CARTPOLE_CPU: dict[str, Any] = {
    "num_envs": 32,
    "total_steps": 400_000,
    "eval_every": 20_000,
    "eval_envs": 8,
    "checkpoint_every": 100_000,
    "log_every": 200,
    "torch_threads": 1,
    "learner": {
        "fasttd3": _CARTPOLE_SIZES,
        "fastsac": {**_CARTPOLE_SIZES, "policy_delay": 2},
    },
}
"""Cart-pole on a 2-core CPU: 10 ms control wants a longer horizon (gamma 0.99, 3-step returns); per-step
rewards in [0, 1] put returns in [0, 100]. One torch thread: a second one fights XLA for the two cores."""

_LOCOMOTION_RUN: dict[str, Any] = {
    "num_envs": 4096,
    "eval_every": 2_000_000,
    "eval_envs": 64,
    "checkpoint_every": 10_000_000,
    "save_replay": False,
}
"""One GPU: 4096 envs (holosoma's FastSAC); replays of 4096 x 1024 steps are GBs, so checkpoints skip them."""

_LOCOMOTION_TD3: dict[str, Any] = {"buffer_steps": 1024, "batch_size": 32768, "updates_per_step": 8}
"""FastTD3's Go1 settings (8 updates per step); 1024 steps per env, since 4096 envs x 10240 would not fit."""

_QUADRUPED: dict[str, Any] = {
    **_LOCOMOTION_RUN,
    "total_steps": 100_000_000,
    "learner": {
        "fasttd3": {**_LOCOMOTION_TD3, "exploration_std": (0.2, 0.8)},
        "fastsac": {"v_min": -10.0, "v_max": 10.0},
    },
}
"""Quadruped joystick: rewards are dt-scaled (at most 0.046 a step), so returns fit [-10, 10]; FastTD3 explores
with std U(0.2, 0.8) as on Playground's Go1."""

_HUMANOID: dict[str, Any] = {
    **_LOCOMOTION_RUN,
    "total_steps": 200_000_000,
    "learner": {
        "fasttd3": {**_LOCOMOTION_TD3, "v_min": -20.0, "v_max": 20.0},
        "fastsac": {},
    },
}
"""Humanoid joystick: the holosoma FastSAC recipe as published (C51 over [-20, 20], 8 updates, actor every 4th);
the alive bonus puts discounted returns near 12, so FastTD3 gets the same support."""

_ARM: dict[str, Any] = {
    "num_envs": 1024,
    "total_steps": 20_000_000,
    "eval_every": 1_000_000,
    "eval_envs": 32,
    "checkpoint_every": 5_000_000,
    "learner": {
        "fasttd3": {"v_min": -5.0, "v_max": 5.0},
        "fastsac": {"v_min": -5.0, "v_max": 5.0, "target_entropy_per_action": -0.5},
    },
}
"""Arm reach: a tracking task (FastSAC's target entropy -0.5 per action); returns stay below 1.5/(1 - gamma)."""

TASK_PRESETS: dict[str, dict[str, Any]] = {
    "cartpole_balance": _CARTPOLE_CPU,
    "cartpole_swingup": _CARTPOLE_CPU,
    "quadruped_joystick_flat": _QUADRUPED,
    "quadruped_joystick_rough": _QUADRUPED,
    "humanoid_joystick_flat": _HUMANOID,
    "humanoid_joystick_rough": _HUMANOID,
    "arm_reach": _ARM,
}
"""Task name -> run settings, with per-algorithm learner settings under ``learner.<algo>``."""


_LOCOMOTION_CPU_SIZES: dict[str, Any] = {
    "actor_hidden": (256, 256),
    "critic_hidden": (256, 256),
    "batch_size": 256,
    "updates_per_step": 8,
    "policy_delay": 2,
    "buffer_steps": 20_000,
    "n_step": 3,
    "tau": 0.05,
    "learning_starts": 20,
    "action_bounds": "unit",
}
"""The learner on a CPU, and why:

- 256-256 networks, batch 256 (512 after mirror doubling): an update costs ~20 ms on two cores, linear in
  batch x width (the profile in the README), so small batches buy more updates per second;
- 8 updates per step of 32 envs: 0.25 updates per transition (0.5 counting mirrored samples), where the
  learner takes ~90% of an iteration and physics the rest;
- 3-step returns and tau 0.05: faster credit assignment and target tracking for a run of ~100K updates
  instead of FastSAC's millions;
- replay of 20K steps per env (640K transitions): a run keeps all of its data;
- unit action bounds (+-action_scale around the default pose): the joint-limit bounds let an untrained
  policy throw a thigh anywhere in its 5 rad range, and a small run cannot afford the falls."""

_LOCOMOTION_CPU_RUN: dict[str, Any] = {
    "num_envs": 32,
    "total_steps": 2_000_000,
    "eval_every": 40_000,
    "eval_envs": 16,
    "checkpoint_every": 100_000,
    "log_every": 50,
    "torch_threads": 2,
    "save_replay": False,
    "env": {"command_curriculum": {"start": 0.3}},
}
"""A run on a CPU: 32 envs keep command and DR draws diverse; two torch threads (the env and the learner take
turns, so they never fight for the cores); commands start at 30% of their ranges and widen per env as its
episodes track (evaluation always uses the full ranges)."""

_QUADRUPED_CPU: dict[str, Any] = {
    **_LOCOMOTION_CPU_RUN,
    "learner": {
        "fastsac": {**_LOCOMOTION_CPU_SIZES, "v_min": -10.0, "v_max": 10.0, "target_entropy_per_action": -1.0},
        "fasttd3": {**_LOCOMOTION_CPU_SIZES, "v_min": -10.0, "v_max": 10.0, "exploration_std": (0.05, 0.3)},
    },
}

_HUMANOID_CPU: dict[str, Any] = {
    **_LOCOMOTION_CPU_RUN,
    "learner": {
        "fastsac": {**_LOCOMOTION_CPU_SIZES, "target_entropy_per_action": -1.0},
        "fasttd3": {**_LOCOMOTION_CPU_SIZES, "v_min": -20.0, "v_max": 20.0, "exploration_std": (0.05, 0.3)},
    },
}

CPU_PRESETS: dict[str, dict[str, Any]] = {
    "quadruped_joystick_flat": _QUADRUPED_CPU,
    "quadruped_joystick_rough": _QUADRUPED_CPU,
    "humanoid_joystick_flat": _HUMANOID_CPU,
    "humanoid_joystick_rough": _HUMANOID_CPU,
}
"""Task name -> what a run without a GPU lays over :data:`TASK_PRESETS`. FastSAC's target entropy is -1 per
action (standard SAC's -|A|) instead of holosoma's 0: 32 envs need less jitter to stay on their feet. A rough
task takes its flat twin's recipe (the learner's cost does not depend on the terrain), so a task YAML built on
it (``assets/tasks/quadruped_stairs.yaml``) trains on a CPU with a CPU-sized learner too."""

PresetDevice = Literal["cpu", "cuda"]
"""The device class a preset is picked for."""


def preset_for(task: str, algo: str, device: PresetDevice = "cuda") -> dict[str, Any]:
    """The task's preset as run-config overrides for ``algo`` on ``device`` (empty when the task has none)."""
    preset = dict(TASK_PRESETS.get(task, {}))
    if device == "cpu" and task in CPU_PRESETS:
        cpu = CPU_PRESETS[task]
        learners = {**preset.get("learner", {}), **cpu.get("learner", {})}
        preset = {**preset, **cpu, "learner": learners}
    learners = preset.pop("learner", {})
    if algo in learners:
        preset["learner"] = dict(learners[algo])
    return preset
