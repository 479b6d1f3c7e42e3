"""The robot's joint table as the runtime needs it, read from the same robot YAML training used.

This reader checks only what the runtime relies on (names, finite numbers, ordered limits, non-negative
gains); ``sim2real validate`` checks the whole file against its MJCF. Reading YAML needs PyYAML, imported
only when a file is read, so ``import sim2real.runtime`` needs numpy and onnxruntime alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim2real.runtime.errors import RobotSpecError


@dataclass(frozen=True)
class JointSpec:
    """One actuated joint."""

    name: str
    """Joint name."""
    lower: float
    """Lower position limit."""
    upper: float
    """Upper position limit."""
    default: float
    """Default pose."""
    kp: float
    """PD stiffness."""
    kd: float
    """PD damping."""
    effort_limit: float
    """Largest effort the motor may apply."""
    velocity_limit: float
    """Largest joint speed."""


@dataclass(frozen=True)
class RobotSpec:
    """A robot: name, control mode, action scale, control period and the ordered joint table."""

    name: str
    """Robot name."""
    control: str
    """``torque`` or ``position``."""
    action_scale: float
    """Effort (torque control) or PD target offset (position control) per unit action."""
    control_dt: float | None
    """Policy period (s) the robot runs at, when the YAML states it."""
    has_imu: bool
    """Whether the robot YAML names an IMU site."""
    joints: tuple[JointSpec, ...]
    """Actuated joints in policy order."""
    source: str
    """Where the spec was read from (for messages)."""

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names in order."""
        return tuple(j.name for j in self.joints)

    def column(self, field: str) -> np.ndarray:
        """One field of every joint as an array, e.g. ``column("kp")``."""
        return np.array([getattr(j, field) for j in self.joints], dtype=np.float64)

    @classmethod
    def from_mapping(cls, data: Any, source: str) -> RobotSpec:
        """Read a parsed robot YAML; :class:`RobotSpecError` names the field at fault."""
        if not isinstance(data, dict):
            raise RobotSpecError(f"{source}: -: a robot YAML is a mapping of fields; see assets/robots/*/robot.yaml")
        rows = data.get("joints")
        if not isinstance(rows, list) or not rows:
            raise RobotSpecError(f"{source}: joints: list the actuated joints (name, range, default_pos, ...)")
        joints = tuple(_joint(row, f"joints[{i}]", source) for i, row in enumerate(rows))
        names = [j.name for j in joints]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise RobotSpecError(f"{source}: joints: {', '.join(twice)} listed more than once; list each joint once")
        control = data.get("control")
        if control not in ("torque", "position"):
            raise RobotSpecError(f"{source}: control: must be 'torque' or 'position', got {control!r}")
        dt = data.get("control_dt")
        prefix = f"{source}: "
        return cls(
            name=_text(data, "name", prefix),
            control=control,
            action_scale=_number(data, "action_scale", prefix, positive=True),
            control_dt=None if dt is None else _number(data, "control_dt", prefix, positive=True),
            has_imu=data.get("imu_site") is not None,
            joints=joints,
            source=source,
        )


def _text(data: dict, key: str, prefix: str) -> str:
    """A non-empty string field; ``prefix`` is ``"FILE: "`` or ``"FILE: joints[i]."``."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RobotSpecError(f"{prefix}{key}: give a non-empty name")
    return value


def _number(data: dict, key: str, prefix: str, positive: bool = False, default: float | None = None) -> float:
    """A finite, non-negative (or positive) number field."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RobotSpecError(f"{prefix}{key}: must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise RobotSpecError(f"{prefix}{key}: must be {'positive' if positive else 'non-negative'}, got {value}")
    return float(value)


def _joint(row: Any, field: str, source: str) -> JointSpec:
    """One row of the joint table."""
    if not isinstance(row, dict):
        raise RobotSpecError(f"{source}: {field}: each joint is a mapping (name, range, default_pos, ...)")
    where = f"{source}: {field}"
    limits = row.get("range")
    ok = isinstance(limits, list | tuple) and len(limits) == 2
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in limits)
    if not ok or limits[0] >= limits[1]:
        raise RobotSpecError(f"{where}.range: give [lower, upper] with lower < upper, got {limits!r}")
    default = row.get("default_pos")
    if isinstance(default, bool) or not isinstance(default, int | float) or not limits[0] <= default <= limits[1]:
        raise RobotSpecError(f"{where}.default_pos: must be a number inside range {list(limits)}, got {default!r}")
    prefix = f"{where}."
    if "effort_limit" not in row:
        raise RobotSpecError(
            f"{where}.effort_limit: not given; training took it from the MJCF actuator, which the runtime does not "
            "read: write the value `sim2real inspect robot` shows (and kp, kd for a servo) into the robot YAML"
        )
    return JointSpec(
        name=_text(row, "name", prefix),
        lower=float(limits[0]),
        upper=float(limits[1]),
        default=float(default),
        kp=_number(row, "kp", prefix, default=0.0),
        kd=_number(row, "kd", prefix, default=0.0),
        effort_limit=_number(row, "effort_limit", prefix, positive=True),
        velocity_limit=_number(row, "velocity_limit", prefix, positive=True),
    )


def load_robot_spec(path: str | Path) -> RobotSpec:
    """Read a robot YAML file (needs PyYAML); :class:`RobotSpecError` when it is missing or malformed."""
    path = Path(path)
    try:
        import yaml
    except ImportError:
        raise RobotSpecError(f"{path}: -: reading robot YAML needs PyYAML; pip install pyyaml") from None
    if not path.is_file():
        raise RobotSpecError(f"{path}: -: no such robot YAML; give the path of a robot.yaml")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" at line {line + 1}" if line is not None else ""
        raise RobotSpecError(f"{path}: -: not valid YAML{where}; fix the syntax") from None
    return RobotSpec.from_mapping(data, str(path))
