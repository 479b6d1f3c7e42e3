"""``sim2real inspect robot NAME|PATH``: a robot's joint table, mirror map and totals."""

from __future__ import annotations

from typing import Any

from sim.robot import Robot
from sim.robot_pose import RobotSize, measure_robot

PHYSICS_STEP_NOTE = (
    "a task's sim_dt replaces this step in training, sim2sim and rollouts; give the ROS emulator the same "
    "step (its physics_dt parameter) where they differ"
)
"""How the physics step of a task relates to the MJCF's, as the report states it."""


def _mirror_column(robot: Robot) -> list[str]:
    """Per joint: the joint it mirrors onto, with the sign (empty without a mirror map)."""
    mirror = robot.config.mirror
    if mirror is None:
        return [""] * len(robot.joint_names)
    return [f"{'-' if sign < 0 else '+'}{name}" for name, sign in zip(mirror.joints, mirror.signs, strict=True)]


def describe_robot(robot: Robot, size: RobotSize) -> str:
    """The human-readable report: files, roles of named MJCF parts, the joint table and totals."""
    c = robot.config
    unit = "effort" if c.control == "torque" else "target offset"
    lines = [
        f"robot {c.name}: {robot.yaml_path}",
        f"  MJCF              {robot.mjcf_path}",
        f"  control           {c.control}, action scale {c.action_scale:g} ({unit} per unit of action)"
        + (f", every {c.control_dt * 1000:g} ms" if c.control_dt else ""),
        f"  base body         {c.base_body}",
        f"  IMU site          {c.imu_site or '-'}",
        f"  feet              {', '.join(c.foot_geoms) or '-'}",
        f"  terminate on      {', '.join(c.termination_contact_bodies) or '-'} (ground contact)",
        f"  ground            {robot.ground_geom or '-'}",
        f"  mirror map        {'yes' if c.mirror else 'no'}",
        "",
        f"  {'#':>2}  {'joint':<26}{'default':>9}{'lower':>9}{'upper':>9}{'kp':>8}{'kd':>7}{'effort':>8}"
        f"{'velocity':>10}  mirror",
    ]
    for i, (joint, mirror) in enumerate(zip(c.joints, _mirror_column(robot), strict=True)):
        row = (
            f"  {i:>2}  {joint.name:<26}{joint.default_pos:>9.3f}{joint.range[0]:>9.3f}{joint.range[1]:>9.3f}"
            f"{joint.kp:>8.1f}{joint.kd:>7.2f}{joint.effort_limit:>8.1f}{joint.velocity_limit:>10.2f}  {mirror}"
        )
        lines.append(row.rstrip())
    lines += [
        "",
        f"  total mass {size.total_mass:.2f} kg, height {size.height:.3f} m, base {size.base_height:.3f} m above "
        f"its lowest point (home pose)",
        f"  {size.actuated} actuated joints, {size.nv} DoF (nq {size.nq}), physics step "
        f"{robot.mj_model.opt.timestep * 1000:g} ms (the MJCF's timestep)",
        f"  {PHYSICS_STEP_NOTE}",
    ]
    if robot.notes:
        lines += ["", "  model as run (adapted from the MJCF):", *(f"  - {note}" for note in robot.notes)]
    return "\n".join(lines)


def robot_as_dict(robot: Robot, size: RobotSize) -> dict[str, Any]:
    """The report as a JSON-ready dict: the robot YAML's fields, resolved paths and the totals."""
    return {
        **robot.config.model_dump(mode="json"),
        "yaml_path": str(robot.yaml_path),
        "mjcf_path": str(robot.mjcf_path),
        "total_mass": size.total_mass,
        "height": size.height,
        "base_height": size.base_height,
        "nq": size.nq,
        "nv": size.nv,
        "actuated": size.actuated,
        "timestep": float(robot.mj_model.opt.timestep),
        "ground_geom": robot.ground_geom,
        "adaptations": list(robot.notes),
    }


def inspect_robot(robot: Robot) -> tuple[str, dict[str, Any]]:
    """The text report and the JSON dict of a loaded robot."""
    size = measure_robot(robot)
    return describe_robot(robot, size), robot_as_dict(robot, size)
