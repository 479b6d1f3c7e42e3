"""Per-task training presets: what a task needs beyond the learners' published (GPU-sized) defaults.

The published FastTD3/FastSAC defaults size a run for a big GPU (1024-4096 envs, batches of 8-32K,
1024-wide critics). A small task meant for a laptop CPU carries a preset sized for it; a preset also
fits the C51 support to the task's return scale. Presets are data: one table, keyed by task.
"""

from __future__ import annotations

from typing import Any

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

TASK_PRESETS: dict[str, dict[str, Any]] = {
    "cartpole_balance": _CARTPOLE_CPU,
    "cartpole_swingup": _CARTPOLE_CPU,
}
"""Task name -> run settings, with per-algorithm learner settings under ``learner.<algo>``."""


def preset_for(task: str, algo: str) -> dict[str, Any]:
    """The task's preset as run-config overrides for ``algo`` (empty when the task has none)."""
    preset = dict(TASK_PRESETS.get(task, {}))
    learners = preset.pop("learner", {})
    if algo in learners:
        preset["learner"] = dict(learners[algo])
    return preset
