"""Robot loading: a robot YAML (the joint table) plus its MJCF, checked against each other."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import mujoco
import numpy as np
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from sim.actuators import actuator_problem, drive_defaults
from sim.assets import robot_yaml_path, shipped_robot_names
from sim.errors import ConfigError, Problem
from sim.menagerie import PREFIX as MENAGERIE_PREFIX
from sim.menagerie import menagerie_mjcf
from sim.model_adaptation import GroundEdit, adapt_model, read_mjcf
from sim.yaml_io import FILE_MODEL_CONFIG, LIST_AS_TUPLE, parse_model, read_yaml_mapping


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


@dataclass(frozen=True)
class Robot:
    """A validated robot: its config, compiled MuJoCo model and per-joint indices (policy order)."""

    config: RobotConfig
    """The parsed robot YAML."""
    yaml_path: Path
    """Where the robot YAML was read from."""
    mjcf_path: Path
    """The MJCF file the model was compiled from."""
    mj_model: mujoco.MjModel
    """The compiled, adapted MuJoCo model (timestep as written in the MJCF): what every engine runs."""
    joint_ids: np.ndarray
    """MJCF joint id of each actuated joint."""
    qpos_adr: np.ndarray
    """Index into ``qpos`` of each actuated joint."""
    dof_adr: np.ndarray
    """Index into ``qvel`` of each actuated joint."""
    actuator_ids: np.ndarray
    """MJCF actuator id driving each actuated joint."""
    notes: tuple[str, ...] = ()
    """What was converted, added or adapted to make the model from the MJCF (see :mod:`sim.model_adaptation`)."""
    ground_geom: str | None = None
    """The ground geom (the MJCF's, or the project's ``floor``); None for a fixed base without one."""

    @property
    def name(self) -> str:
        """Robot name."""
        return self.config.name

    @property
    def joint_names(self) -> list[str]:
        """Actuated joint names in policy order."""
        return [j.name for j in self.config.joints]

    @property
    def default_pose(self) -> np.ndarray:
        """Default position of each actuated joint."""
        return np.array([j.default_pos for j in self.config.joints])

    @property
    def mirror_index(self) -> np.ndarray | None:
        """Joint permutation of the mirror map (``mirrored[i] = sign[i] * q[index[i]]``), None without one."""
        mirror = self.config.mirror
        return None if mirror is None else np.array([self.joint_names.index(n) for n in mirror.joints])

    @property
    def mirror_signs(self) -> np.ndarray | None:
        """Signs of the mirror map, None without one."""
        mirror = self.config.mirror
        return None if mirror is None else np.array(mirror.signs, dtype=float)

    @property
    def total_mass(self) -> float:
        """Sum of all body masses (kg)."""
        return float(self.mj_model.body_mass.sum())


_ONE_DOF_JOINTS = {int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)}


def _mjcf_path(yaml_path: Path, config: RobotConfig) -> Path:
    """The MJCF file named by the robot YAML; raise naming the ``mjcf`` field when there is none."""
    if config.mjcf.startswith(MENAGERIE_PREFIX):
        mjcf_path = menagerie_mjcf(config.mjcf, yaml_path)
    else:
        mjcf_path = (yaml_path.parent / config.mjcf).resolve()
    if mjcf_path.is_dir():
        raise ConfigError.single(yaml_path, "mjcf", f"{mjcf_path} is a folder; name the MJCF file inside it")
    if not mjcf_path.is_file():
        raise ConfigError.single(yaml_path, "mjcf", f"MJCF file {mjcf_path} not found; fix the relative path")
    return mjcf_path


def _names(model: mujoco.MjModel, obj: mujoco.mjtObj, count: int) -> list[str]:
    """All names of one kind of MJCF object."""
    return [mujoco.mj_id2name(model, obj, i) or "" for i in range(count)]


_PLURAL = {"body": "bodies"}


def _check_named(problems: list[Problem], file: str, field: str, kind: str, name: str | None, known: list[str]) -> None:
    """Record a problem when ``name`` is set and absent from ``known``."""
    if name is not None and name not in known:
        listed = ", ".join(n for n in known if n) or "none"
        kinds = _PLURAL.get(kind, kind + "s")
        problems.append(Problem(file, field, f"{kind} '{name}' is not in the MJCF (its {kinds}: {listed})"))


def _actuator_for(model: mujoco.MjModel, joint_id: int) -> list[int]:
    """Ids of the actuators whose transmission is the given joint."""
    joint_trn = int(mujoco.mjtTrn.mjTRN_JOINT)
    return [
        a for a in range(model.nu) if model.actuator_trntype[a] == joint_trn and model.actuator_trnid[a, 0] == joint_id
    ]


def _check_joint(
    problems: list[Problem],
    file: str,
    index: int,
    joint: JointConfig,
    model: mujoco.MjModel,
    joint_names: list[str],
    actuator_names: list[str],
) -> tuple[int, int]:
    """Check one joint table row against the MJCF; return (joint id, actuator id), -1 where missing."""
    field = f"joints[{index}]"
    if joint.name not in joint_names:
        _check_named(problems, file, f"{field}.name", "joint", joint.name, joint_names)
        return -1, -1
    jid = joint_names.index(joint.name)
    if int(model.jnt_type[jid]) not in _ONE_DOF_JOINTS:
        problems.append(Problem(file, f"{field}.name", f"joint '{joint.name}' is not a hinge or slide joint"))
    if model.jnt_limited[jid]:
        lo, hi = (float(v) for v in model.jnt_range[jid])
        if joint.range[0] < lo - 1e-9 or joint.range[1] > hi + 1e-9:
            problems.append(
                Problem(
                    file,
                    f"{field}.range",
                    f"[{joint.range[0]}, {joint.range[1]}] exceeds the MJCF range [{lo}, {hi}]; narrow it",
                )
            )
    if joint.actuator is None:
        driving = _actuator_for(model, jid)
        if not driving:
            message = (
                f"0 MJCF actuators drive joint '{joint.name}' through a joint transmission (tendon, site and "
                f'slider-crank actuators cannot carry a joint torque); add <motor joint="{joint.name}"/> to the MJCF'
            )
            problems.append(Problem(file, f"{field}.actuator", message))
            return jid, -1
        if len(driving) > 1:
            message = f"{len(driving)} MJCF actuators drive joint '{joint.name}'; name the one to use"
            problems.append(Problem(file, f"{field}.actuator", message))
            return jid, -1
        aid = driving[0]
    elif joint.actuator not in actuator_names:
        _check_named(problems, file, f"{field}.actuator", "actuator", joint.actuator, actuator_names)
        return jid, -1
    else:
        aid = actuator_names.index(joint.actuator)
    if aid not in _actuator_for(model, jid):
        kind = mujoco.mjtTrn(int(model.actuator_trntype[aid])).name.removeprefix("mjTRN_").lower()
        problems.append(
            Problem(
                file,
                f"{field}.actuator",
                f"actuator '{joint.actuator}' does not drive joint '{joint.name}' (its transmission: {kind}); "
                f'name a joint actuator or add <motor joint="{joint.name}"/> to the MJCF',
            )
        )
        return jid, -1
    problem = actuator_problem(model, aid)
    if problem is not None:
        name = model.actuator(aid).name or f"#{aid}"
        problems.append(Problem(file, f"{field}.actuator", f"actuator '{name}' {problem}"))
        return jid, -1
    return jid, aid


def _with_drive_defaults(
    problems: list[Problem], file: str, model: mujoco.MjModel, config: RobotConfig, ids: list[tuple[int, int]]
) -> RobotConfig:
    """The config with each joint's omitted kp, kd and effort_limit taken from its MJCF actuator."""
    joints = []
    for i, (joint, (jid, aid)) in enumerate(zip(config.joints, ids, strict=True)):
        if aid < 0:
            joints.append(joint)
            continue
        defaults = drive_defaults(model, aid, jid)
        effort = joint.effort_limit if joint.effort_limit is not None else defaults.effort_limit
        if effort is None:
            name = model.actuator(aid).name or f"#{aid}"
            message = (
                f"not given, and actuator '{name}' has no forcerange or ctrlrange (nor the joint an "
                "actuatorfrcrange); give the joint's largest torque or force"
            )
            problems.append(Problem(file, f"joints[{i}].effort_limit", message))
        kp = joint.kp if joint.kp is not None else defaults.kp
        kd = joint.kd if joint.kd is not None else defaults.kd
        joints.append(joint.model_copy(update={"kp": kp, "kd": kd, "effort_limit": effort}))
    return config.model_copy(update={"joints": joints})


def load_robot(name_or_path: str | Path) -> Robot:
    """Load a shipped robot by name, or a robot YAML by path; raise :class:`ConfigError` if invalid.

    The model is the MJCF adapted for the stack (:func:`sim.model_adaptation.adapt_model`); joints that omit
    kp, kd or effort_limit get their MJCF actuator's values.
    """
    yaml_path = robot_yaml_path(name_or_path)
    if not yaml_path.is_file() and Path(name_or_path).suffix not in (".yaml", ".yml"):
        known = ", ".join(shipped_robot_names()) or "none"
        raise ConfigError.single(name_or_path, "-", f"no such robot (shipped robots: {known}) and no such file")
    config = parse_model(yaml_path, RobotConfig, read_yaml_mapping(yaml_path))
    mjcf_path = _mjcf_path(yaml_path, config)
    spec, model = read_mjcf(yaml_path, mjcf_path)
    file = str(yaml_path)
    problems: list[Problem] = []
    body_names = _names(model, mujoco.mjtObj.mjOBJ_BODY, model.nbody)
    _check_named(problems, file, "base_body", "body", config.base_body, body_names)
    _check_named(
        problems, file, "imu_site", "site", config.imu_site, _names(model, mujoco.mjtObj.mjOBJ_SITE, model.nsite)
    )
    for i, body in enumerate(config.termination_contact_bodies):
        _check_named(problems, file, f"termination_contact_bodies[{i}]", "body", body, body_names)
    geom_names = _names(model, mujoco.mjtObj.mjOBJ_GEOM, model.ngeom)
    for i, geom in enumerate(config.foot_geoms):
        _check_named(problems, file, f"foot_geoms[{i}]", "geom", geom, geom_names)
    joint_names = _names(model, mujoco.mjtObj.mjOBJ_JOINT, model.njnt)
    actuator_names = _names(model, mujoco.mjtObj.mjOBJ_ACTUATOR, model.nu)
    ids = [
        _check_joint(problems, file, i, joint, model, joint_names, actuator_names)
        for i, joint in enumerate(config.joints)
    ]
    config = _with_drive_defaults(problems, file, model, config, ids)
    if problems:
        raise ConfigError(problems)
    actuator_ids = np.array([aid for _, aid in ids], dtype=np.int32)
    limits = _effort_limits(config, actuator_ids)
    adapted = adapt_model(yaml_path, mjcf_path, limits, read=(spec, model), self_collision=config.self_collision)
    joint_ids = np.array([jid for jid, _ in ids], dtype=np.int32)
    return Robot(
        config=config,
        yaml_path=yaml_path,
        mjcf_path=mjcf_path,
        mj_model=adapted.model,
        joint_ids=joint_ids,
        qpos_adr=adapted.model.jnt_qposadr[joint_ids].astype(np.int32),
        dof_adr=adapted.model.jnt_dofadr[joint_ids].astype(np.int32),
        actuator_ids=actuator_ids,
        notes=adapted.notes,
        ground_geom=adapted.ground,
    )


def _effort_limits(config: RobotConfig, actuator_ids: np.ndarray) -> dict[int, float]:
    """Actuator id -> effort limit of the joint it drives."""
    return {int(a): float(j.effort_limit or 0.0) for a, j in zip(actuator_ids, config.joints, strict=True)}


def rebuilt_robot(robot: Robot, edit: GroundEdit) -> Robot:
    """The robot with its model rebuilt from the MJCF through the same adaptation, ``edit`` changing the ground.

    Joint and actuator indices are unchanged (a ground edit adds no joint or actuator); raises
    :class:`ConfigError` on what the edited model cannot simulate (a cylinder foot is adapted, for one).
    """
    limits = _effort_limits(robot.config, robot.actuator_ids)
    adapted = adapt_model(robot.yaml_path, robot.mjcf_path, limits, edit, self_collision=robot.config.self_collision)
    if adapted.model.nq != robot.mj_model.nq or adapted.model.nu != robot.mj_model.nu:
        raise ConfigError.single(robot.mjcf_path, "-", "changing the ground changed the joints or actuators")
    return dataclasses.replace(robot, mj_model=adapted.model, notes=adapted.notes, ground_geom=adapted.ground)
