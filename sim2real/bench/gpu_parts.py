"""The rows of ``sim2real bench gpu``: each measures one thing with an existing bench and returns its figures.

An env row is ``bench env`` at one batch size and MJX implementation; an update row is ``bench iteration`` at a
learner's preset with torch.compile and bf16 set; a learn row is ``bench learn``'s run to the task's goal within
its time. A row that cannot run on this machine raises, and the runner records why.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch

from policies.train_config import merge
from sim2real.bench.env_bench import run_env_bench
from sim2real.bench.gpu_plan import GpuBenchPlan, LearnRun
from sim2real.bench.iteration_bench import profile_iteration
from sim2real.bench.learn_bench import goal_for, train_to_goal


class RowSkippedError(Exception):
    """A row this machine or plan does not measure; the message says why."""


def measure_env(plan: GpuBenchPlan, task: str, num_envs: int, impl: str) -> dict[str, Any]:
    """Env and raw physics steps/s of ``task`` at ``num_envs`` with MJX's ``impl``."""
    result = run_env_bench(task, num_envs, plan.env_steps, plan.env_rounds, overrides={"mjx_impl": impl})
    fields = ("env_steps_per_s", "raw_steps_per_s", "env_over_raw", "jit_seconds", "steps", "backend")
    return {name: getattr(result, name) for name in fields}


def measure_updates(plan: GpuBenchPlan, algo: str, compile_on: bool, bf16: bool) -> dict[str, Any]:
    """Training iterations of ``algo`` at the plan's task preset with torch.compile and bf16 autocast as given."""
    if compile_on and plan.compile_skip_reason is not None:
        raise RowSkippedError(plan.compile_skip_reason)
    cuda = plan.train_overrides.get("device", "auto") != "cpu" and torch.cuda.is_available()
    if bf16 and not cuda:
        raise RowSkippedError("bf16 autocast runs on CUDA only (the agent ignores it on a CPU)")
    switches = {"compile": "on" if compile_on else "off", "bf16": "on" if bf16 else "off"}
    overrides = merge(plan.train_overrides, switches)
    profile = profile_iteration(plan.update_task, algo, overrides, plan.update_warmup, plan.update_iterations, 0)
    learner_ms = {name: profile.phase_ms.get(name, 0.0) for name in ("critic update", "actor update")}
    return {
        "updates_per_s": profile.updates_per_s,
        "env_steps_per_s": profile.env_steps_per_s,
        "iteration_ms": profile.iteration_ms,
        "critic_update_ms_per_iteration": learner_ms["critic update"],
        "actor_update_ms_per_iteration": learner_ms["actor update"],
        "num_envs": profile.num_envs,
        "batch_size": profile.batch_size,
        "updates_per_step": profile.updates_per_step,
        "critic_hidden": list(profile.critic_hidden),
    }


def measure_learning(plan: GpuBenchPlan, run: LearnRun, time_limit_s: float) -> dict[str, Any]:
    """Train ``run`` toward its task's ``bench learn`` goal for at most ``time_limit_s`` (checked at evaluations)."""
    if plan.learn_cap_s is not None:
        time_limit_s = min(time_limit_s, plan.learn_cap_s)
    goal = goal_for(run.task, None)
    overrides = merge(plan.train_overrides, plan.learn_overrides)
    result = train_to_goal(run.algo, run.task, goal, time_limit_s, 0, overrides)
    return {"goal": goal.describe(), "time_limit_s": time_limit_s, **asdict(result)}
