"""What flows through the runtime each tick: the robot's measured state and the per-joint command."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImuReading:
    """One IMU sample, in the IMU's own frame."""

    orientation_wxyz: np.ndarray
    """Orientation of the IMU frame in the world, as a quaternion (w, x, y, z); need not be normalized."""
    angular_velocity: np.ndarray
    """Angular velocity (rad/s) in the IMU frame."""


@dataclass(frozen=True)
class RobotState:
    """Measured joints (matched by NAME, in any order, extra joints ignored) and the IMU."""

    joint_names: tuple[str, ...]
    """Name of each measured joint."""
    position: np.ndarray
    """Joint positions (rad or m), one per name."""
    velocity: np.ndarray
    """Joint velocities (rad/s or m/s), one per name."""
    imu: ImuReading | None = None
    """The IMU sample, for robots that have one."""


@dataclass(frozen=True)
class JointCommand:
    """A PD command per actuated joint in robot-YAML order: effort ``kp (q - q_m) + kd (dq - dq_m) + tau``."""

    position: np.ndarray
    """Target positions ``q``."""
    velocity: np.ndarray
    """Target velocities ``dq``."""
    kp: np.ndarray
    """Position gains."""
    kd: np.ndarray
    """Velocity gains."""
    torque: np.ndarray
    """Feed-forward efforts ``tau``."""

    def as_rows(self) -> np.ndarray:
        """The command as a ``(joints, 5)`` array of ``q, dq, kp, kd, tau`` (the ROS message layout)."""
        return np.array((self.position, self.velocity, self.kp, self.kd, self.torque), dtype=np.float64).T

    def effort(self, position: np.ndarray, velocity: np.ndarray) -> np.ndarray:
        """The effort this command asks of each joint at the measured ``position`` and ``velocity``."""
        return self.kp * (self.position - position) + self.kd * (self.velocity - velocity) + self.torque
