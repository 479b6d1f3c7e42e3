"""Conversions between ROS messages and the runtime's plain arrays (no logic beyond the layout)."""

from __future__ import annotations

import array

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Twist
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray, MultiArrayDimension

from sim2real_runtime import ImuReading, JointCommand

COMMAND_COLUMNS = ("q", "dq", "kp", "kd", "tau")
"""Columns of a ``/joint_commands`` row, one row per joint in robot-YAML order."""


def float_array(values: np.ndarray) -> array.array:
    """A float64 ``array.array`` of ``values`` (flattened): message fields take it without a per-element check."""
    return array.array("d", np.ascontiguousarray(values, dtype=np.float64).tobytes())


def joint_arrays(msg: JointState) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Names, positions and velocities of a JointState; a missing velocity list reads as NaN (a fault)."""
    names = tuple(msg.name)
    position = np.asarray(msg.position, dtype=np.float64)
    velocity = np.asarray(msg.velocity, dtype=np.float64)
    if position.shape != (len(names),):
        position = np.full(len(names), np.nan)
    if velocity.shape != (len(names),):
        velocity = np.full(len(names), np.nan)
    return names, position, velocity


def imu_reading(msg: Imu) -> ImuReading:
    """The IMU sample in the runtime's convention (quaternion w, x, y, z)."""
    q = msg.orientation
    w = msg.angular_velocity
    return ImuReading(np.array([q.w, q.x, q.y, q.z]), np.array([w.x, w.y, w.z]))


def twist_command(msg: Twist) -> np.ndarray:
    """A velocity command (vx, vy, yaw rate) from a Twist, in the robot's base frame."""
    return np.array([msg.linear.x, msg.linear.y, msg.angular.z])


def point_command(msg: Point) -> np.ndarray:
    """A target position command (x, y, z)."""
    return np.array([msg.x, msg.y, msg.z])


def command_message(command: JointCommand, reuse: Float64MultiArray | None = None) -> Float64MultiArray:
    """``/joint_commands``: a (joints x 5) row-major array of q, dq, kp, kd, tau with its layout named.

    ``reuse``: a message this function returned before, refilled in place (a robot's layout never changes),
    which spares a control tick the building of one.
    """
    rows = command.as_rows()
    if reuse is not None:
        reuse.data = float_array(rows)
        return reuse
    msg = Float64MultiArray()
    joints, columns = rows.shape
    msg.layout.dim = [
        MultiArrayDimension(label="joints", size=joints, stride=joints * columns),
        MultiArrayDimension(label=",".join(COMMAND_COLUMNS), size=columns, stride=columns),
    ]
    msg.data = float_array(rows)
    return msg


def command_rows(msg: Float64MultiArray, joints: int) -> np.ndarray | None:
    """The (joints x 5) rows of a ``/joint_commands`` message, or None when its size does not fit."""
    data = np.asarray(msg.data, dtype=np.float64)
    if data.size != joints * len(COMMAND_COLUMNS):
        return None
    return data.reshape(joints, len(COMMAND_COLUMNS))


def position_message(command: JointCommand, reuse: Float64MultiArray | None = None) -> Float64MultiArray:
    """The ``forward_position`` interface: only the position targets, for a ros2_control forward controller.

    ``reuse``: a message this function returned before, refilled in place.
    """
    msg = Float64MultiArray() if reuse is None else reuse
    msg.data = float_array(command.position)
    return msg


def joint_state_message(
    names: tuple[str, ...], command: JointCommand, stamp: Time, reuse: JointState | None = None
) -> JointState:
    """The ``joint_state`` interface: targets as a JointState (position, velocity, effort = feed-forward).

    ``reuse``: a message this function returned before for the same ``names``, refilled in place.
    """
    msg = reuse if reuse is not None else JointState(name=list(names))
    msg.header.stamp = stamp
    msg.position = float_array(command.position)
    msg.velocity = float_array(command.velocity)
    msg.effort = float_array(command.torque)
    return msg
