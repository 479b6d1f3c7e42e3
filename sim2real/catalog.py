"""``sim2real tasks`` and ``sim2real robots``: what ships with the stack."""

from __future__ import annotations

from sim.assets import shipped_robot_names
from sim.robot import load_robot
from sim.robot_pose import measure_robot


def robots_table() -> list[str]:
    """One line per shipped robot: name, actuated joints, DoF, control mode, mass, height, YAML path."""
    lines = [f"{'robot':<12}{'joints':>7}{'DoF':>5}  {'control':<9}{'mass kg':>8}{'height m':>10}  file"]
    for name in shipped_robot_names():
        robot = load_robot(name)
        size = measure_robot(robot)
        lines.append(
            f"{name:<12}{size.actuated:>7}{size.nv:>5}  {robot.config.control:<9}{size.total_mass:>8.2f}"
            f"{size.height:>10.3f}  {robot.yaml_path}"
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
