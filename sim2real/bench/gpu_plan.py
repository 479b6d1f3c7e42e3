"""What ``sim2real bench gpu`` measures, and at what sizes: the GPU plan and its CPU dry run, as two tables.

The two plans walk the same parts in the same order; only sizes differ (and the dry run skips torch.compile,
which takes minutes on a CPU). A section's share of the budget and a learning run's share of its section are
weights: each takes ``weight / (sum of the weights still to come)`` of the time left when it starts, so time
one leaves unused goes to the ones after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECTIONS = ("env", "updates", "learn")
"""The measuring sections, in the order they run (the system's identity is always read, first)."""

SWITCHES = ((False, False), (False, True), (True, False), (True, True))
"""(torch.compile, bf16) combinations of the update-throughput rows."""


@dataclass(frozen=True)
class LearnRun:
    """One time-to-goal run of the learn section."""

    task: str
    """Registered task; its ``bench learn`` goal is the target."""
    algo: str
    """fastsac or fasttd3."""
    weight: float
    """Its share of the learn section's time left when it starts, against the runs after it."""


@dataclass(frozen=True)
class GpuBenchPlan:
    """Every size of one ``bench gpu`` run."""

    env_tasks: tuple[str, ...]
    """Tasks whose env steps/s are measured."""
    env_sizes: tuple[int, ...]
    """Batch sizes of the env rows."""
    impls: tuple[str, ...]
    """MJX implementations tried for each env row."""
    env_steps: int
    """Control steps timed per env contender (random actions: falls and auto-resets happen within them)."""
    env_rounds: int
    """Alternating timing rounds the env steps are split into."""
    update_task: str
    """Task whose preset the update-throughput rows train."""
    update_algos: tuple[str, ...]
    """Learners of the update-throughput rows."""
    update_warmup: int
    """Iterations before timing (JIT, first updates, torch.compile)."""
    update_iterations: int
    """Timed training iterations per update row."""
    learn_runs: tuple[LearnRun, ...]
    """Time-to-goal runs, in order."""
    section_weights: dict[str, float]
    """Each section's weight in the budget."""
    train_overrides: dict[str, Any] = field(default_factory=dict)
    """Run fields laid over the task's preset in the update and learn rows."""
    learn_overrides: dict[str, Any] = field(default_factory=dict)
    """Run fields laid on top of those for the learn rows."""
    learn_cap_s: float | None = None
    """Longest any learning run may train, whatever its share (None: its share alone)."""
    compile_skip_reason: str | None = None
    """Why the torch.compile rows are not measured in this plan (None: they are)."""


_LEARN_RUNS = (
    LearnRun("quadruped_joystick_flat", "fastsac", 2.0),
    LearnRun("humanoid_joystick_flat", "fastsac", 3.0),
    LearnRun("quadruped_joystick_flat", "fasttd3", 1.0),
)
"""The quadruped (FastSAC), the humanoid (holosoma's FastSAC recipe), then FastTD3 on the quadruped with what is
left: a third of the learn section, three quarters of the rest, then all that remains."""

_SECTION_WEIGHTS = {"env": 3.0, "updates": 3.0, "learn": 4.0}

GPU_PLAN = GpuBenchPlan(
    env_tasks=("quadruped_joystick_flat", "humanoid_joystick_flat"),
    env_sizes=(4096, 16384),
    impls=("jax", "warp"),
    env_steps=300,
    env_rounds=3,
    update_task="quadruped_joystick_flat",
    update_algos=("fastsac", "fasttd3"),
    update_warmup=10,
    update_iterations=20,
    learn_runs=_LEARN_RUNS,
    section_weights=_SECTION_WEIGHTS,
    learn_overrides={"eval_every": 1_000_000},
)
"""One GPU at the tasks' GPU presets. Learning runs evaluate every 1M env steps (the preset: 2M) so that a run
stops within about one evaluation period of its share, with a point on its curve at each."""

_TINY_RUN: dict[str, Any] = {
    "device": "cpu",
    "num_envs": 8,
    "eval_envs": 2,
    "torch_threads": 1,
    "env": {"episode_length": 10},
    "learner": {
        "actor_hidden": (32, 32),
        "critic_hidden": (32, 32),
        "batch_size": 32,
        "buffer_steps": 64,
        "updates_per_step": 2,
        "learning_starts": 3,
        "num_atoms": 11,
    },
}
"""Sizes that run each code path in seconds on a CPU: 8 envs, 10-step episodes, 32-wide networks."""

DRY_RUN_PLAN = GpuBenchPlan(
    env_tasks=GPU_PLAN.env_tasks,
    env_sizes=(8,),
    impls=GPU_PLAN.impls,
    env_steps=10,
    env_rounds=2,
    update_task=GPU_PLAN.update_task,
    update_algos=GPU_PLAN.update_algos,
    update_warmup=2,
    update_iterations=3,
    learn_runs=_LEARN_RUNS,
    section_weights=_SECTION_WEIGHTS,
    train_overrides=_TINY_RUN,
    learn_overrides={"eval_every": 40},
    learn_cap_s=2.0,
    compile_skip_reason="not tried in a dry run: torch.compile takes minutes on a CPU",
)
"""The CPU check of every code path (``--dry-run``): tiny envs, a few updates, about two seconds of learning."""


def share(remaining_s: float, weights_left: list[float]) -> float:
    """The first of ``weights_left``'s share of ``remaining_s`` seconds (never negative)."""
    total = sum(weights_left)
    return max(0.0, remaining_s) * weights_left[0] / total if total > 0 else 0.0
