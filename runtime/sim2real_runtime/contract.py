"""The policy contract: what an exported policy expects of the robot, stored as JSON inside the ONNX file.

The contract names the robot, its joints in policy order with default pose, action scale and bounds and
PD gains, the control period, the ordered observation terms (see ``sim.observation`` for their formulas)
and the command (its kind and ranges), plus where the policy came from (task, algorithm, config hash, git sha)
and, from schema 2 on, the robot files it was exported with (:class:`~sim2real_runtime.origin.PolicyOrigin`).
Consumers check it against the robot YAML with :meth:`PolicyContract.mismatches` and refuse to run on any
mismatch. Schema 1 contracts (no robot files) and schemas 1-2 (no command kind: it is read from the command's
observation term) still load.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sim2real_runtime.errors import ContractError
from sim2real_runtime.origin import PolicyOrigin
from sim2real_runtime.robot_spec import RobotSpec

CONTRACT_KEY = "sim2real.policy_contract"
"""The ``metadata_props`` key that holds the contract JSON."""
SCHEMA_VERSION = 3
"""Version of the contract layout this runtime writes (2 added ``origin``, 3 the command's ``kind``)."""
READABLE_SCHEMAS = (1, 2, 3)
"""Contract layouts this runtime reads."""
INPUT_NAME, OUTPUT_NAME = "obs", "action"
"""Names of the ONNX graph's input and output."""
IMU_KINDS = ("base_ang_vel", "projected_gravity")
"""Observation kinds that need an IMU."""
_FIXED_SIZES = {
    "base_ang_vel": 3,
    "projected_gravity": 3,
    "velocity_command": 3,
    "position_command": 3,
    "gait_phase": 2,
}
_JOINT_SIZES = {"joint_pos": 1, "joint_pos_rel": 1, "joint_cos_sin": 2, "joint_vel": 1}
TERM_KINDS = (*_JOINT_SIZES, *_FIXED_SIZES, "last_action")
"""Every observation kind this runtime can build."""
COMMAND_OBSERVATIONS = {"velocity": "velocity_command", "target_position": "position_command"}
"""Command kind -> the observation kind that feeds it to the policy."""
_FIX = "re-export the policy for this robot (sim2real export) or use the robot it was trained for"
SHOWN_MISMATCHES = 3
"""How many differences a refusal lists before counting the rest."""


@dataclass(frozen=True)
class ObservationTermSpec:
    """One block of the observation vector."""

    name: str
    """Label of the block."""
    kind: str
    """Formula (one of :data:`TERM_KINDS`)."""
    size: int
    """Entries it contributes."""
    joints: tuple[str, ...] = ()
    """Joints it reads, by name (joint kinds)."""
    scale: float = 1.0
    """Multiplies the raw value."""
    clip: float | None = None
    """Symmetric bound after scaling, or None."""
    noise: float = 0.0
    """Training noise half-width (documentation: the runtime adds no noise)."""
    period_steps: int | None = None
    """Gait period in control steps (``gait_phase``)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObservationTermSpec:
        """A term from its JSON form (joints as a list)."""
        return cls(**{**data, "joints": tuple(data.get("joints", ()))})

    def expected_size(self, action_size: int) -> int:
        """The size its kind and joints imply."""
        if self.kind in _JOINT_SIZES:
            return _JOINT_SIZES[self.kind] * len(self.joints)
        return action_size if self.kind == "last_action" else _FIXED_SIZES[self.kind]


@dataclass(frozen=True)
class CommandRanges:
    """The commands the policy was trained on: a velocity (vx, vy, yaw_rate) or a target position (x, y, z)."""

    kind: str
    """What the command is (one of :data:`COMMAND_OBSERVATIONS`): the task's declared command kind."""
    names: tuple[str, ...]
    """Command entries, e.g. ``vx, vy, yaw_rate``."""
    low: tuple[float, ...]
    """Lowest value of each entry."""
    high: tuple[float, ...]
    """Highest value of each entry."""


@dataclass(frozen=True)
class PolicyContract:
    """Everything a deployment must agree with before it feeds a policy."""

    robot: str
    """Robot name the policy was trained on."""
    task: str
    """Task name."""
    control: str
    """``torque`` (action -> effort) or ``position`` (action -> PD target around the default pose)."""
    joint_names: tuple[str, ...]
    """Actuated joints in policy (action) order."""
    default_pose: tuple[float, ...]
    """Default position of each joint."""
    action_scale: tuple[float, ...]
    """Per joint: effort or target offset per unit action."""
    action_low: tuple[float, ...]
    """Lowest action the policy outputs, per joint (the bounds folded into the network)."""
    action_high: tuple[float, ...]
    """Highest action the policy outputs, per joint."""
    kp: tuple[float, ...]
    """PD stiffness per joint the policy was trained with."""
    kd: tuple[float, ...]
    """PD damping per joint."""
    control_dt: float
    """Policy period in seconds."""
    observation_size: int
    """Entries of the observation vector (the ONNX input width)."""
    observation: tuple[ObservationTermSpec, ...]
    """Ordered observation terms."""
    commands: CommandRanges | None = None
    """Command ranges for commanded tasks, else None."""
    training: dict[str, Any] = field(default_factory=dict)
    """Provenance: algorithm, env steps, config SHA-256, git sha, run folder."""
    origin: PolicyOrigin | None = None
    """The robot files and task settings it was exported with (None in schema 1 contracts)."""
    schema_version: int = SCHEMA_VERSION
    """Layout version of this contract."""

    @property
    def command_size(self) -> int:
        """Entries of the command (3 when the contract names no command ranges)."""
        return len(self.commands.names) if self.commands else 3

    @property
    def needs_imu(self) -> bool:
        """Whether an observation term reads the IMU."""
        return any(term.kind in IMU_KINDS for term in self.observation)

    @property
    def action_size(self) -> int:
        """Entries of the action vector."""
        return len(self.joint_names)

    def array(self, name: str) -> np.ndarray:
        """A per-joint field as a float64 array, e.g. ``array("kp")``."""
        return np.asarray(getattr(self, name), dtype=np.float64)

    def to_json(self) -> str:
        """The contract as JSON (what export writes into ``metadata_props``)."""
        return json.dumps(asdict(self), sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str, source: str) -> PolicyContract:
        """Parse and check a contract; :class:`ContractError` names the problem and ``source``."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(f"{source}: policy contract is not valid JSON ({exc.msg}); {_FIX}") from None
        if not isinstance(data, dict):
            raise ContractError(f"{source}: policy contract is not a JSON object; {_FIX}")
        version = data.get("schema_version")
        if version not in READABLE_SCHEMAS:
            readable = " or ".join(map(str, READABLE_SCHEMAS))
            raise ContractError(
                f"{source}: policy contract schema {version!r} is not {readable}; re-export with this version"
            )
        try:
            terms = tuple(ObservationTermSpec.from_dict(t) for t in data["observation"])
            commands, origin = data.get("commands"), data.get("origin")
            contract = cls(
                **{
                    **data,
                    "observation": terms,
                    "commands": None if commands is None else _command_ranges(commands, terms),
                    "origin": None if origin is None else PolicyOrigin.from_dict(origin),
                    **_tuples({k: data[k] for k in (*_PER_JOINT, "joint_names")}),
                }
            )
        except (KeyError, TypeError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise ContractError(f"{source}: policy contract is malformed ({reason}); {_FIX}") from None
        problem = contract.inconsistency()
        if problem:
            raise ContractError(f"{source}: policy contract is inconsistent: {problem}; {_FIX}")
        return contract

    def inconsistency(self) -> str | None:
        """What makes the contract contradict itself (sizes, kinds, numbers), or None."""
        n = self.action_size
        for name in _PER_JOINT:
            values = getattr(self, name)
            if len(values) != n:
                return f"{name} has {len(values)} entries for {n} joints"
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
                return f"{name} holds a non-finite value"
        if min(self.kp + self.kd, default=0.0) < 0:
            return "a PD gain is negative"
        if self.control not in ("torque", "position"):
            return f"control {self.control!r} is neither 'torque' nor 'position'"
        if not (isinstance(self.control_dt, int | float) and self.control_dt > 0):
            return f"control_dt {self.control_dt!r} is not a positive number"
        for term in self.observation:
            if term.kind not in TERM_KINDS:
                return f"observation term '{term.name}' has unknown kind '{term.kind}'"
            if term.size != term.expected_size(n):
                return f"observation term '{term.name}' has size {term.size}, its kind gives {term.expected_size(n)}"
        total = sum(t.size for t in self.observation)
        if total != self.observation_size:
            return f"observation terms add up to {total} entries, observation_size says {self.observation_size}"
        if self.commands is not None:
            fed_by = COMMAND_OBSERVATIONS.get(self.commands.kind)
            if fed_by is None:
                return f"command kind {self.commands.kind!r} is not one of {', '.join(COMMAND_OBSERVATIONS)}"
            if all(term.kind != fed_by for term in self.observation):
                return f"the {self.commands.kind} command has no {fed_by} observation term"
        return None

    def mismatches(self, robot: RobotSpec) -> list[str]:
        """Every way this contract disagrees with ``robot``; empty when the policy may run on it."""
        problems: list[str] = []
        if self.robot != robot.name:
            problems.append(f"robot name differs: policy '{self.robot}', robot YAML '{robot.name}'")
        ours, theirs = list(self.joint_names), list(robot.joint_names)
        if set(ours) != set(theirs):
            only_policy = [j for j in ours if j not in theirs]
            only_robot = [j for j in theirs if j not in ours]
            problems.append(
                f"joint names differ: only in policy [{', '.join(only_policy)}], "
                f"only in robot [{', '.join(only_robot)}]"
            )
            return problems
        if ours != theirs:
            first = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
            problems.append(
                f"joint order differs from position {first}: policy [{', '.join(ours)}], robot [{', '.join(theirs)}]"
            )
            return problems
        if self.control != robot.control:
            problems.append(f"control mode differs: policy '{self.control}', robot YAML '{robot.control}'")
        if robot.control_dt is not None and not math.isclose(self.control_dt, robot.control_dt, rel_tol=1e-9):
            problems.append(f"control dt differs: policy {self.control_dt} s, robot YAML {robot.control_dt} s")
        for name, column in (("default_pose", "default"), ("kp", "kp"), ("kd", "kd")):
            problems += _per_joint_differences(name, self.array(name), robot.column(column), ours)
        problems += _per_joint_differences(
            "action_scale", self.array("action_scale"), np.full(len(ours), robot.action_scale), ours
        )
        if not robot.has_imu:
            needs_imu = [t.name for t in self.observation if t.kind in IMU_KINDS]
            if needs_imu:
                names = ", ".join(needs_imu)
                problems.append(f"observation term(s) {names} need an IMU; the robot YAML has no imu_site")
        return problems

    def check_robot(self, robot: RobotSpec, source: str, fix: str = _FIX) -> None:
        """Raise :class:`ContractError` unless the policy fits ``robot``: one line, the first mismatches, ``fix``."""
        problems = self.mismatches(robot)
        if problems:
            listed = "; ".join(problems[:SHOWN_MISMATCHES])
            more = len(problems) - SHOWN_MISMATCHES
            listed += f" (and {more} more)" if more > 0 else ""
            raise ContractError(f"{source}: does not fit {robot.source}: {listed}; {fix}")


_PER_JOINT = ("default_pose", "action_scale", "action_low", "action_high", "kp", "kd")


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    """Lists to tuples (JSON has no tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


def _command_ranges(data: dict[str, Any], terms: tuple[ObservationTermSpec, ...]) -> CommandRanges:
    """The command from its JSON form; schemas 1-2 name no kind, so it is the one the observation feeds."""
    if "kind" not in data:
        observed = {term.kind for term in terms}
        fed = [kind for kind, fed_by in COMMAND_OBSERVATIONS.items() if fed_by in observed]
        data = {**data, "kind": fed[0] if fed else "unknown"}
    return CommandRanges(**_tuples(data))


def _per_joint_differences(name: str, ours: np.ndarray, theirs: np.ndarray, joints: list[str]) -> list[str]:
    """One message per joint whose ``name`` value differs beyond rounding."""
    differ = ~np.isclose(ours, theirs, rtol=1e-6, atol=1e-9)
    return [
        f"{name} of {joints[i]} differs: policy {ours[i]:g}, robot YAML {theirs[i]:g}" for i in np.flatnonzero(differ)
    ]


def contract_of_session(session: Any, source: str) -> PolicyContract:
    """The contract in an open onnxruntime session's metadata."""
    text = session.get_modelmeta().custom_metadata_map.get(CONTRACT_KEY)
    if text is None:
        raise ContractError(
            f"{source}: carries no policy contract (metadata '{CONTRACT_KEY}'); export it with sim2real export"
        )
    return PolicyContract.from_json(text, source)
