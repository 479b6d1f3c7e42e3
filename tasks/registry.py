"""The task registry: names to (config class, env class, defaults), plus task YAML loading.

A task file registers its variants with :func:`register`; variants of one task differ only in the
config values of their registry entry (a table, not if/elif chains). Task YAML (``task: NAME`` plus
any config fields) overrides a registered task's defaults.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.assets import resolve_robot_reference, robot_yaml_path
from sim.env import EnvConfig, MjxEnv
from sim.robot import load_robot
from sim.task_goal import TaskGoal
from sim2real_runtime.errors import ConfigError, Problem
from sim2real_runtime.robot_schema import read_robot_config
from sim2real_runtime.yaml_io import parse_model, read_yaml_mapping

TASK_MODULES = ("tasks.cartpole", "tasks.quadruped_joystick", "tasks.humanoid_joystick", "tasks.arm_reach")
"""Modules that register tasks when imported."""


@dataclass(frozen=True)
class TaskSpec:
    """A registered task."""

    name: str
    """Registry name, e.g. ``cartpole_balance``."""
    description: str
    """One line for ``sim2real tasks``."""
    env_class: type[MjxEnv]
    """The env class (one task file)."""
    config_class: type[EnvConfig]
    """The task's typed config."""
    robot: str
    """Shipped robot the task runs on."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Config values that make this variant (e.g. the start pose)."""

    @property
    def goal(self) -> TaskGoal:
        """What the task declares to the layers above: its command, tracking terms and learning goal."""
        return self.env_class.GOAL

    def config(self, overrides: dict[str, Any] | None = None, source: str = "overrides") -> EnvConfig:
        """The variant's config with ``overrides`` applied; errors name ``source`` and the field.

        Besides the config's own checks, the task's (:meth:`sim.env.MjxEnv.config_problems`): every unknown
        reward term, say, is found here rather than when the env is built.
        """
        config = parse_model(source, self.config_class, {**self.defaults, **(overrides or {})})
        problems = self.env_class.config_problems(config, source)
        problems += control_period_problems(config, config.robot or self.robot, source)
        if problems:
            raise ConfigError(problems)
        return config

    def build(self, config: EnvConfig) -> MjxEnv:
        """The env of this task on ``config.robot`` (the task's own robot when unset)."""
        return self.env_class(load_robot(config.robot or self.robot), config)


def control_period_problems(config: EnvConfig, robot: str, source: str) -> list[Problem]:
    """The task's control period against the ``control_dt`` its robot YAML declares (none when they agree).

    One quantity: the period at which the robot's controller runs the policy. A task built on a robot whose
    YAML says otherwise would train a policy that robot cannot run. Only the robot YAML is read (its MJCF is
    checked when the robot loads); a robot YAML that does not parse is left to that load to report.
    """
    yaml_path = robot_yaml_path(robot)
    try:
        declared = read_robot_config(yaml_path).control_dt
    except ConfigError:
        return []
    if declared is None or math.isclose(declared, config.control_dt, rel_tol=1e-9):
        return []
    message = (
        f"{config.control_dt:g} s ({1 / config.control_dt:g} Hz), but robot YAML {yaml_path} declares control_dt "
        f"{declared:g} s ({1 / declared:g} Hz); make the two periods equal"
    )
    return [Problem(source, "control_dt", message)]


_REGISTRY: dict[str, TaskSpec] = {}


def register(spec: TaskSpec) -> None:
    """Add a task to the registry (names are unique; its goal names only reward terms the task has)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"task {spec.name!r} is registered twice")
    goal, terms = spec.goal, spec.env_class.reward_terms()
    unknown = [name for name in goal.tracking_terms if name not in terms]
    if unknown:
        raise ValueError(f"task {spec.name!r} tracks {', '.join(unknown)}, not among its reward terms {terms}")
    if goal.learning is not None and goal.learning.metric == "tracking" and not goal.tracking_terms:
        raise ValueError(f"task {spec.name!r} has a tracking goal but no tracking terms")
    _REGISTRY[spec.name] = spec


def _load_all() -> None:
    """Import every task module so that each registers its tasks."""
    for module in TASK_MODULES:
        importlib.import_module(module)


def task_names() -> list[str]:
    """All registered task names, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def get_task(name: str) -> TaskSpec:
    """The spec of a registered task; :class:`ConfigError` naming the known tasks otherwise."""
    _load_all()
    if name not in _REGISTRY:
        raise ConfigError.single("--task", name, f"unknown task; known tasks: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def make_env(name: str, overrides: dict[str, Any] | None = None) -> MjxEnv:
    """Build a registered task's env on its shipped robot, with optional config overrides."""
    spec = get_task(name)
    return spec.build(spec.config(overrides))


def make_evaluation_env(name: str, overrides: dict[str, Any] | None = None) -> MjxEnv:
    """Like :func:`make_env`, with the task's evaluation overrides on top (training curricula off)."""
    spec = get_task(name)
    merged = dict(overrides or {})
    for key, value in spec.env_class.evaluation_overrides().items():
        given = merged.get(key)
        merged[key] = {**given, **value} if isinstance(given, dict) and isinstance(value, dict) else value
    return spec.build(spec.config(merged))


def is_task_yaml(task: str) -> bool:
    """Whether a ``--task`` value names a task YAML file rather than a registered task."""
    return Path(task).suffix in (".yaml", ".yml")


def task_yaml_overrides(path: Path) -> tuple[TaskSpec, dict[str, Any]]:
    """A task YAML's task and its config overrides (a robot path made relative to the YAML), validated."""
    spec, config = load_task_yaml(path)
    return spec, config.model_dump(mode="json", include=config.model_fields_set)


def load_task_yaml(path: Path) -> tuple[TaskSpec, EnvConfig]:
    """Read a task YAML (``task: NAME`` plus config fields) and validate it against that task's config."""
    data = read_yaml_mapping(path)
    if isinstance(data.get("robot"), str):
        data["robot"] = resolve_robot_reference(data["robot"], path)
    name = data.pop("task", None)
    if not isinstance(name, str):
        raise ConfigError.single(path, "task", f"name the task to override (one of: {', '.join(task_names())})")
    try:
        spec = get_task(name)
    except ConfigError:
        known = ", ".join(task_names())
        raise ConfigError.single(path, "task", f"unknown task '{name}'; known tasks: {known}") from None
    return spec, spec.config(data, source=str(path))
