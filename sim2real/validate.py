"""``sim2real validate``: check robot and task YAML files, one line per problem."""

from __future__ import annotations

from pathlib import Path

from sim.errors import ConfigError, Problem
from sim.robot import load_robot
from sim.yaml_io import read_yaml_mapping


def validate_file(path: Path) -> tuple[str, list[Problem]]:
    """Validate one file (a task YAML if it has a ``task`` key, else a robot YAML): (summary, problems)."""
    try:
        keys = set(read_yaml_mapping(path))
        if "task" not in keys and not keys & {"mjcf", "joints"}:
            from tasks.registry import task_names

            message = f"a task YAML starts with 'task: NAME' (one of: {', '.join(task_names())}); add it"
            return "", [Problem(str(path), "task", message)]
        if "task" in keys:
            from tasks.registry import load_task_yaml

            spec, _ = load_task_yaml(path)
            return f"task YAML overriding {spec.name}", []
        robot = load_robot(path)
    except ConfigError as exc:
        return "", exc.problems
    joints = len(robot.joint_names)
    return f"robot {robot.name}: {joints} actuated joint{'s' * (joints != 1)}, {robot.total_mass:.2f} kg", []


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
