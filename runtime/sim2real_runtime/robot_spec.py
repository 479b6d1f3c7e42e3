"""The robot as the runtime drives it: the robot YAML's typed model, with the values the runtime needs present.

The YAML is read by :mod:`sim2real_runtime.robot_schema`, the same model training reads; this view adds
only what driving needs and the schema leaves optional: an ``effort_limit`` on every joint (training may
take it from the MJCF actuator, which the runtime does not read) and kp, kd of 0 where omitted (a motor's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim2real_runtime.errors import ConfigError, RobotSpecError
from sim2real_runtime.robot_schema import RobotConfig, read_robot_config

_COLUMNS = {
    "lower": lambda joint: joint.range[0],
    "upper": lambda joint: joint.range[1],
    "default": lambda joint: joint.default_pos,
    "kp": lambda joint: joint.kp or 0.0,
    "kd": lambda joint: joint.kd or 0.0,
    "effort_limit": lambda joint: joint.effort_limit,
    "velocity_limit": lambda joint: joint.velocity_limit,
}
"""Per-joint quantities by column name."""


@dataclass(frozen=True)
class RobotSpec:
    """A robot YAML the runtime can drive: its typed config and where it was read from."""

    config: RobotConfig
    """The robot YAML, as :class:`~sim2real_runtime.robot_schema.RobotConfig` reads it."""
    source: str
    """Where the config was read from (for messages)."""

    def __post_init__(self) -> None:
        for i, joint in enumerate(self.config.joints):
            if joint.effort_limit is None:
                raise RobotSpecError(
                    f"{self.source}: joints[{i}].effort_limit: not given; training took it from the MJCF actuator, "
                    "which the runtime does not read: write the value `sim2real inspect robot` shows (and kp, kd "
                    "for a servo) into the robot YAML"
                )

    @property
    def name(self) -> str:
        """Robot name."""
        return self.config.name

    @property
    def control(self) -> str:
        """``torque`` or ``position``."""
        return self.config.control

    @property
    def action_scale(self) -> float:
        """Effort (torque control) or PD target offset (position control) per unit action."""
        return self.config.action_scale

    @property
    def control_dt(self) -> float | None:
        """Policy period (s) the robot runs at, when the YAML states it."""
        return self.config.control_dt

    @property
    def has_imu(self) -> bool:
        """Whether the robot YAML names an IMU site."""
        return self.config.imu_site is not None

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Actuated joint names in policy order."""
        return tuple(joint.name for joint in self.config.joints)

    def column(self, field: str) -> np.ndarray:
        """One quantity of every joint as an array (``lower``, ``upper``, ``default``, ``kp``, ``kd``, ...)."""
        value = _COLUMNS[field]
        return np.array([value(joint) for joint in self.config.joints], dtype=np.float64)


def load_robot_spec(path: str | Path) -> RobotSpec:
    """Read a robot YAML file; :class:`RobotSpecError` (one line per problem) when it is missing or invalid."""
    try:
        config = read_robot_config(Path(path))
    except ConfigError as exc:
        raise RobotSpecError(str(exc)) from None
    return RobotSpec(config, str(path))
