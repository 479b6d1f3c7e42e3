"""Robot loading: a robot YAML (the joint table) plus its MJCF, checked against each other."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from sim.actuators import actuator_problem, drive_defaults
from sim.assets import robot_yaml_path, shipped_robot_names
from sim.menagerie import PREFIX as MENAGERIE_PREFIX
from sim.menagerie import menagerie_mjcf
from sim.model_adaptation import GroundEdit, adapt_model, read_mjcf
from sim2real_runtime.errors import ConfigError, Problem
from sim2real_runtime.robot_schema import JointConfig, RobotConfig, read_robot_config


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
    config = read_robot_config(yaml_path)
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
