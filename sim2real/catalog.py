"""``sim2real tasks`` and ``sim2real robots``: what ships with the stack."""

from __future__ import annotations

from sim.assets import shipped_robot_names
from sim.robot import load_robot


def robots_table() -> list[str]:
    """One line per shipped robot: name, actuated joints, control mode, mass, YAML path."""
    lines = [f"{'robot':<16}{'joints':>7}  {'control':<9}{'mass kg':>9}  file"]
    for name in shipped_robot_names():
        robot = load_robot(name)
        lines.append(
            f"{name:<16}{len(robot.joint_names):>7}  {robot.config.control:<9}{robot.total_mass:>9.2f}  "
            f"{robot.yaml_path}"
        )
    return lines


def tasks_table() -> list[str]:
    """One line per registered task: name, robot, description."""
    from tasks.registry import get_task, task_names

    lines = [f"{'task':<24}{'robot':<12}description"]
    for name in task_names():
        spec = get_task(name)
        lines.append(f"{name:<24}{spec.robot:<12}{spec.description}")
    return lines
