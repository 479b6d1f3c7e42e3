"""The env sim2sim runs: a registered task by name, or a task YAML (``task: NAME`` plus overrides)."""

from __future__ import annotations

from pathlib import Path

from sim.env import MjxEnv
from tasks.registry import is_task_yaml, load_task_yaml, make_env


def task_env(task: str) -> tuple[str, MjxEnv]:
    """``(task name, env)`` for a registered task name or a task YAML path."""
    if is_task_yaml(task):
        spec, config = load_task_yaml(Path(task))
        return spec.name, spec.build(config)
    return task, make_env(task)
