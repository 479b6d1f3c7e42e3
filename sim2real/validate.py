"""``sim2real validate``: check robot and task YAML files, one line per problem."""

from __future__ import annotations

from pathlib import Path

from sim.env import EnvConfig, MjxEnv
from sim.mjx_limits import to_mjx
from sim.robot import load_robot
from sim2real_runtime.errors import ConfigError, Problem
from sim2real_runtime.yaml_io import read_yaml_mapping
from tasks.registry import TaskSpec, load_task_yaml, task_names


def validate_file(path: Path) -> tuple[str, list[Problem]]:
    """Validate one file and return ``(summary, problems)``.

    A file with a ``task`` key is a task YAML; one with ``mjcf`` or ``joints`` is a robot YAML (its adapted
    model must also go onto MJX); anything else is reported as a task YAML missing its ``task`` line.
    """
    try:
        keys = set(read_yaml_mapping(path))
        if "task" not in keys and not keys & {"mjcf", "joints"}:
            message = f"a task YAML starts with 'task: NAME' (one of: {', '.join(task_names())}); add it"
            return "", [Problem(str(path), "task", message)]
        if "task" in keys:
            spec, config = load_task_yaml(path)
            env = _build_task(path, spec, config)
            return f"task YAML overriding {spec.name}, on robot {env.robot.name}", []
        robot = load_robot(path)
        to_mjx(robot.mj_model, "jax", robot.mjcf_path)
    except ConfigError as exc:
        return "", exc.problems
    joints = len(robot.joint_names)
    return f"robot {robot.name}: {joints} actuated joint{'s' * (joints != 1)}, {robot.total_mass:.2f} kg", []


def _build_task(path: Path, spec: TaskSpec, config: EnvConfig) -> MjxEnv:
    """Build the task's env on its robot; a problem of the robot is reported on the task YAML's ``robot`` field."""
    try:
        return spec.build(config)
    except ConfigError as exc:
        if config.robot is None:
            raise
        problems = [
            Problem(str(path), "robot", f"{p.file}: {p.message}" if p.field == "-" else str(p)) for p in exc.problems
        ]
        raise ConfigError(problems) from None


def validate_files(paths: list[Path]) -> tuple[list[str], list[Problem]]:
    """Validate several files; return the ``ok`` lines and every problem found."""
    ok, problems = [], []
    for path in paths:
        summary, found = validate_file(path)
        if found:
            problems.extend(found)
        else:
            ok.append(f"{path}: ok ({summary})")
    return ok, problems
