"""The one typed model of a robot YAML: the joint table, read by training (with its MJCF) and by the runtime.

``sim.robot`` checks the model against its MJCF and fills omitted drive values from the MJCF's actuators;
``sim2real_runtime.robot_spec`` uses it on the robot, where there is no MuJoCo. Nothing else reads a robot
YAML's fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG, LIST_AS_TUPLE, parse_model, read_yaml_mapping


def _ordered_range(value: tuple[float, float]) -> tuple[float, float]:
    """Check that a (lower, upper) pair is ordered."""
    if value[0] >= value[1]:
        raise ValueError(f"lower {value[0]} must be below upper {value[1]}; swap or fix the bounds")
    return value


JointRange = Annotated[tuple[float, float], LIST_AS_TUPLE, AfterValidator(_ordered_range)]
"""A (lower, upper) pair of finite numbers with lower < upper."""


class JointConfig(BaseModel):
    """One actuated joint of the robot, in policy order."""

    model_config = FILE_MODEL_CONFIG

    name: str = Field(min_length=1, description="Joint name in the MJCF (a hinge or slide joint).")
    actuator: str | None = Field(
        None, description="MJCF actuator that drives the joint; found from the MJCF transmission if omitted."
    )
    range: JointRange = Field(description="Position limits [lower, upper], inside the MJCF joint range.")
    default_pos: float = Field(description="Default (nominal) position, inside range: rad for hinges, m for slides.")
    kp: float | None = Field(
        None,
        ge=0.0,
        description="PD stiffness (N m/rad or N/m); 0 for pure torque control. Default: the MJCF servo's kp "
        "(0 for a motor).",
    )
    kd: float | None = Field(
        None, ge=0.0, description="PD damping (N m s/rad or N s/m). Default: the MJCF servo's kv (0 for a motor)."
    )
    effort_limit: float | None = Field(
        None,
        gt=0.0,
        description="Largest torque or force the motor may apply. Default: the MJCF actuator's forcerange (for a "
        "motor, ctrlrange x gear), else the joint's actuatorfrcrange.",
    )
    velocity_limit: float = Field(gt=0.0, description="Largest joint speed the motor reaches (rad/s or m/s).")

    @field_validator("default_pos")
    @classmethod
    def _default_inside_range(cls, value: float, info: ValidationInfo) -> float:
        joint_range = info.data.get("range")
        if joint_range is not None and not joint_range[0] <= value <= joint_range[1]:
            raise ValueError(f"{value} lies outside range [{joint_range[0]}, {joint_range[1]}]; move it inside")
        return value


class MirrorConfig(BaseModel):
    """Left/right mirror map of the joint table: ``mirrored_q[i] = signs[i] * q[index of joints[i]]``."""

    model_config = FILE_MODEL_CONFIG

    joints: list[str] = Field(
        description="For each joint of the table, in table order, the joint it mirrors onto (a permutation)."
    )
    signs: list[Literal[-1, 1]] = Field(description="Sign of each entry: -1 where mirroring reverses the axis.")


class RobotConfig(BaseModel):
    """A robot: its MJCF and the ordered table of actuated joints (``assets/robots/<name>/robot.yaml``)."""

    model_config = FILE_MODEL_CONFIG

    name: str = Field(min_length=1, description="Robot name, as tasks and policy contracts refer to it.")
    mjcf: str = Field(
        min_length=1,
        description="MJCF file relative to the robot YAML, or menagerie:NAME[/ENTRY] for a MuJoCo Menagerie model "
        "(the 'menagerie' extra).",
    )
    control: Literal["torque", "position"] = Field(
        description="How actions drive joints: 'torque' scales actions into motor inputs; 'position' makes "
        "PD targets around the default pose."
    )
    action_scale: float = Field(
        gt=0.0,
        description="Joint effort per unit action for 'torque' control (N m or N); PD target offset per unit "
        "action for 'position' control (rad or m).",
    )
    control_dt: float | None = Field(
        None,
        gt=0.0,
        description="Period (s) at which the robot's controller runs the policy; a policy contract must match it.",
    )
    base_body: str = Field(min_length=1, description="MJCF body the robot is measured from (trunk, cart).")
    imu_site: str | None = Field(None, description="MJCF site where the IMU sits, for robots that have one.")
    foot_geoms: list[str] = Field(default_factory=list, description="MJCF geoms of the feet (legged robots).")
    joints: list[JointConfig] = Field(min_length=1, description="Actuated joints, in policy order.")
    termination_contact_bodies: list[str] = Field(
        default_factory=list, description="MJCF bodies whose contact with the ground ends an episode (trunk, torso)."
    )
    mirror: MirrorConfig | None = Field(None, description="Left/right mirror map, for symmetric robots.")
    self_collision: bool = Field(
        True,
        description="Whether the robot's own parts collide with one another; false leaves only contacts with the "
        "world (the MJCF's ground and obstacles), which a legged task does not miss and MJX runs several times faster.",
    )

    @field_validator("joints")
    @classmethod
    def _unique_joints(cls, joints: list[JointConfig]) -> list[JointConfig]:
        names = [j.name for j in joints]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"joint(s) {', '.join(duplicated)} listed more than once; list each joint once")
        return joints

    @field_validator("mirror")
    @classmethod
    def _mirror_is_symmetric_permutation(cls, mirror: MirrorConfig | None, info: ValidationInfo) -> MirrorConfig | None:
        joints: list[JointConfig] | None = info.data.get("joints")
        if mirror is None or joints is None:
            return mirror
        problem = mirror_problem(mirror, joints)
        if problem is not None:
            raise ValueError(problem)
        return mirror


def mirror_problem(mirror: MirrorConfig, joints: list[JointConfig]) -> str | None:
    """What is wrong with a mirror map of this joint table, or None when it is sound.

    Sound means: one entry per joint; ``mirror.joints`` names every joint of the table exactly once (a
    permutation); applying the map twice gives the identity (an involution, signs included); and the
    default pose maps onto itself (otherwise mirrored actions, offsets around it, would not mirror).
    """
    names = [j.name for j in joints]
    if len(mirror.joints) != len(names) or len(mirror.signs) != len(names):
        return (
            f"has {len(mirror.joints)} joints and {len(mirror.signs)} signs for {len(names)} table joints; "
            "give one of each per joint"
        )
    unknown = [n for n in mirror.joints if n not in names]
    if unknown:
        return f"names {', '.join(unknown)}, not in the joint table; use the table's joint names"
    repeated = sorted({n for n in mirror.joints if mirror.joints.count(n) > 1})
    if repeated:
        missing = [n for n in names if n not in mirror.joints]
        return (
            f"is not a permutation: {', '.join(repeated)} listed more than once and {', '.join(missing)} never; "
            "name each joint exactly once"
        )
    index = [names.index(n) for n in mirror.joints]
    for i, j in enumerate(index):
        if index[j] != i or mirror.signs[i] != mirror.signs[j]:
            return (
                f"is not its own inverse at {names[i]} -> {names[j]} -> {names[index[j]]}; a joint and its "
                "mirror must point at each other with the same sign"
            )
    for i, j in enumerate(index):
        mirrored = mirror.signs[i] * joints[j].default_pos
        if abs(mirrored - joints[i].default_pos) > 1e-9:
            return (
                f"maps the default pose of {names[i]} ({joints[i].default_pos}) to {mirrored}; make the default "
                "pose symmetric or fix the signs"
            )
    return None


def read_robot_config(path: Path) -> RobotConfig:
    """Read and validate a robot YAML file; :class:`~sim2real_runtime.errors.ConfigError` names each bad field."""
    return parse_model(path, RobotConfig, read_yaml_mapping(path))
