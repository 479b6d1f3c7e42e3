"""The safety filter: every command that leaves the runtime passes here, whatever the policy or inputs do.

Per tick, on a command in robot-YAML joint order:

1. gains: ``kp`` and ``kd`` clipped into ``[0, max_gain_scale * robot gain]``; feed-forward effort into
   ``[-effort_limit, effort_limit]``; target velocity into ``[-velocity_limit, velocity_limit]``;
2. rate: the position target moves at most ``max_target_speed_scale * velocity_limit * dt`` from the last
   target (from the measured position on the first tick after a reset);
3. effort: the target is pulled toward the measured position until the estimated static effort
   ``kp (q - q_m) + tau`` is within the effort limit (moving toward the joint can only relax it);
4. limits: the target is clipped into ``[lower + margin, upper - margin]``; this holds always.

Faults latch DAMP (kp 0, kd > 0, no feed-forward) until :meth:`SafetyFilter.reset`: any NaN/inf in the
measured state or in the command, tilt beyond ``max_tilt_rad``, or a reason the caller reports with
:meth:`SafetyFilter.trip` (a missing joint, stale state, an e-stop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim2real_runtime.robot_spec import RobotSpec
from sim2real_runtime.state import ImuReading, JointCommand


@dataclass(frozen=True)
class SafetyConfig:
    """Tunable bounds of the filter (the ROS bridge exposes each as a parameter)."""

    position_margin: float = 0.02
    """Distance (rad or m) kept from each joint limit."""
    max_target_speed_scale: float = 1.0
    """Largest target speed as a multiple of each joint's velocity limit."""
    max_gain_scale: float = 1.0
    """Largest kp and kd as a multiple of the robot YAML's gains."""
    max_tilt_rad: float = 1.0
    """Largest angle between the IMU's z axis and the vertical before DAMP (when an IMU is read)."""
    damping_kd: tuple[float, ...] | None = None
    """kd per joint in DAMP; default: the robot's kd, or effort_limit / velocity_limit where that is 0."""

    def __post_init__(self) -> None:
        for name in ("position_margin", "max_target_speed_scale", "max_gain_scale", "max_tilt_rad"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"safety {name} must be a finite, non-negative number, got {value}")


def _between(value: np.ndarray, low: np.ndarray | float, high: np.ndarray | float) -> np.ndarray:
    """``np.clip(value, low, high)`` as two ufuncs, without np.clip's Python-level dispatch (microseconds a call)."""
    return np.minimum(np.maximum(value, low), high)


class SafetyFilter:
    """Bounds commands to a robot's limits and latches DAMP on faults."""

    def __init__(self, robot: RobotSpec, control_dt: float, config: SafetyConfig | None = None) -> None:
        if not (np.isfinite(control_dt) and control_dt > 0):
            raise ValueError(f"control_dt must be a finite, positive number of seconds, got {control_dt}")
        config = config or SafetyConfig()
        self.config = config
        self.lower = robot.column("lower") + config.position_margin
        self.upper = robot.column("upper") - config.position_margin
        squeezed = self.lower > self.upper
        middle = 0.5 * (robot.column("lower") + robot.column("upper"))
        self.lower[squeezed] = self.upper[squeezed] = middle[squeezed]
        self.max_step = config.max_target_speed_scale * robot.column("velocity_limit") * control_dt
        self.effort_limit = robot.column("effort_limit")
        self.velocity_limit = robot.column("velocity_limit")
        self.kp_max = config.max_gain_scale * robot.column("kp")
        self.kd_max = config.max_gain_scale * robot.column("kd")
        if config.damping_kd is not None:
            damping = np.asarray(config.damping_kd, dtype=np.float64)
            if damping.shape != self.lower.shape or not np.isfinite(damping).all() or (damping <= 0).any():
                raise ValueError(f"damping_kd needs {self.lower.size} finite, positive values, got {config.damping_kd}")
        else:
            kd = robot.column("kd")
            damping = np.where(kd > 0, kd, self.effort_limit / self.velocity_limit)
        self.damping_kd = damping
        self.rest = np.clip(robot.column("default"), self.lower, self.upper)
        self._previous: np.ndarray | None = None
        self.fault: str | None = None

    @property
    def latched(self) -> bool:
        """Whether a fault holds the filter in DAMP."""
        return self.fault is not None

    def trip(self, reason: str) -> None:
        """Latch DAMP with ``reason`` (the first reason is kept until :meth:`reset`)."""
        if self.fault is None:
            self.fault = reason

    def reset(self) -> None:
        """Clear the latch and forget the last target (the next one starts from the measured pose)."""
        self.fault = None
        self._previous = None

    def memory(self) -> tuple[str | None, np.ndarray | None]:
        """What a command changes in the filter (the latch and the last target), for :meth:`recall`."""
        return self.fault, self._previous

    def recall(self, memory: tuple[str | None, np.ndarray | None]) -> None:
        """Put back what :meth:`memory` returned, forgetting every command since."""
        self.fault, self._previous = memory

    def _measured_fault(self, position: np.ndarray, velocity: np.ndarray) -> str | None:
        """Why a measured joint state cannot be trusted, or None."""
        if np.shape(position) != self.lower.shape or np.shape(velocity) != self.lower.shape:
            return f"measured state has the wrong number of joints (expected {self.lower.size})"
        if not (np.isfinite(position).all() and np.isfinite(velocity).all()):
            return "non-finite joint state"
        return None

    def check_state(self, position: np.ndarray, velocity: np.ndarray, imu: ImuReading | None) -> None:
        """Latch DAMP on a malformed or non-finite measurement, or a tilt beyond the limit."""
        fault = self._measured_fault(position, velocity)
        if fault:
            self.trip(fault)
            return
        if imu is None:
            return
        quat = np.asarray(imu.orientation_wxyz, dtype=np.float64)
        finite = quat.shape == (4,) and np.isfinite(quat).all() and np.isfinite(imu.angular_velocity).all()
        w, x, y, z = quat.tolist() if finite else (0.0, 0.0, 0.0, 0.0)
        largest = max(abs(w), abs(x), abs(y), abs(z))
        if largest < 1e-6:
            self.trip("non-finite or degenerate IMU reading")
            return
        w, x, y, z = w / largest, x / largest, y / largest, z / largest  # so a huge quaternion's norm cannot overflow
        norm_squared = w * w + x * x + y * y + z * z
        up = min(1.0, max(-1.0, 1.0 - 2.0 * (x * x + y * y) / norm_squared))
        tilt = math.acos(up)
        if tilt > self.config.max_tilt_rad:
            self.trip(f"tilt {tilt:.2f} rad beyond max_tilt_rad {self.config.max_tilt_rad:.2f}")

    def damping(self) -> JointCommand:
        """The DAMP command: no stiffness, no feed-forward, damping toward zero velocity."""
        zeros = np.zeros_like(self.lower)
        hold = self._previous if self._previous is not None else self.rest
        return JointCommand(hold.copy(), zeros, zeros.copy(), self.damping_kd.copy(), zeros.copy())

    def apply(self, command: JointCommand, position: np.ndarray, velocity: np.ndarray) -> JointCommand:
        """The bounded version of ``command`` for the measured ``position`` and ``velocity`` (or DAMP)."""
        fields = (command.position, command.velocity, command.kp, command.kd, command.torque)
        if not all(np.shape(f) == self.lower.shape for f in fields):
            self.trip(f"command has the wrong number of joints (expected {self.lower.size})")
        elif not np.isfinite(np.concatenate(fields)).all():
            self.trip("non-finite command (policy output or gains)")
        elif measured_fault := self._measured_fault(position, velocity):
            self.trip(measured_fault)
        if self.latched:
            return self.damping()
        kp = _between(command.kp, 0.0, self.kp_max)
        kd = _between(command.kd, 0.0, self.kd_max)
        torque = _between(command.torque, -self.effort_limit, self.effort_limit)
        reference = _between(position, self.lower, self.upper) if self._previous is None else self._previous
        target = _between(command.position, reference - self.max_step, reference + self.max_step)
        stiff = kp > 0
        gain = np.where(stiff, kp, 1.0)
        low = np.where(stiff, position + (-self.effort_limit - torque) / gain, -np.inf)
        high = np.where(stiff, position + (self.effort_limit - torque) / gain, np.inf)
        target = _between(_between(target, low, high), self.lower, self.upper)
        self._previous = target
        speed = _between(command.velocity, -self.velocity_limit, self.velocity_limit)
        return JointCommand(target.copy(), speed, kp, kd, torque)
