"""The shipped walking policy drives the emulated quadruped from ``/cmd_vel``, over real rclpy/DDS.

The bridge and the emulator start as ``ros/launch/sim.launch.py`` starts them (its executables, parameter
files and overrides; the bridge stands and activates by itself, ``autostart``), in the test's own ROS
domain. The probe publishes ``/cmd_vel`` at 20 Hz and reads the emulator's ground-truth ``/odom`` (world
pose of the base body). Both tests need ``assets/policies/quadruped_joystick_flat.onnx``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.qos import qos_profile_sensor_data

from tests.ros.conftest import QUADRUPED_WALKING_POLICY, QUADRUPED_YAML

WALKING = {"robot": "quadruped", "robot_yaml": QUADRUPED_YAML, "policy": QUADRUPED_WALKING_POLICY}
CMD_VEL_PERIOD = 0.05  # 20 Hz, well inside cmd_timeout_s (0.5 s in config/quadruped.yaml)
DRIVE_SECONDS = 8.0


@dataclass
class Pose:
    """The base's planar pose from one ``/odom`` message."""

    x: float
    y: float
    yaw: float


def yaw_of(w: float, x: float, y: float, z: float) -> float:
    """Heading (rotation about world z) of a unit quaternion."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def record_odometry(probe) -> list[Pose]:
    """Every ``/odom`` pose the probe hears from now on, in arrival order."""
    poses: list[Pose] = []

    def on_odom(msg: Odometry) -> None:
        p, q = msg.pose.pose.position, msg.pose.pose.orientation
        poses.append(Pose(p.x, p.y, yaw_of(q.w, q.x, q.y, q.z)))

    probe.node.create_subscription(Odometry, "/odom", on_odom, qos_profile_sensor_data)
    return poses


def walking_quadruped(launch, probe):
    """Bridge (walking policy) and emulator as sim.launch.py starts them, the bridge ACTIVE by autostart."""
    assert QUADRUPED_WALKING_POLICY.is_file(), f"{QUADRUPED_WALKING_POLICY} is not shipped yet"
    bridge = launch("sim.launch.py", "policy_bridge", WALKING)
    assert probe.wait_for(lambda: probe.mode == "PASSIVE", 60), bridge.output()
    emulator = launch("sim.launch.py", "mujoco_robot", WALKING)
    assert probe.wait_for(lambda: probe.mode == "ACTIVE", 60), (probe.modes, bridge.output(), emulator.output())
    return bridge, emulator


def drive(probe, poses: list[Pose], twist: Twist) -> list[Pose]:
    """Publish ``twist`` on /cmd_vel at 20 Hz for DRIVE_SECONDS; the poses of that window, first one before it."""
    assert probe.wait_for(lambda: bool(poses), 10), "no /odom from the emulator"
    start = len(poses) - 1
    timer = probe.node.create_timer(CMD_VEL_PERIOD, lambda: probe.cmd_vel.publish(twist))
    probe.cmd_vel.publish(twist)
    probe.spin(DRIVE_SECONDS)
    probe.node.destroy_timer(timer)
    probe.spin(0.2)  # mode changes still in flight
    window = poses[start:]
    assert len(window) > 100 * DRIVE_SECONDS, len(window)  # 200 Hz, best effort
    return window


def modes_since_active(probe) -> list[str]:
    """Every mode the bridge announced from its first ACTIVE on."""
    modes = [mode for _, mode in probe.modes]
    return modes[modes.index("ACTIVE") :]


def fed_to_the_policy(probe, command: str) -> bool:
    """Whether the bridge's diagnostics showed ``command`` (vx vy yaw_rate, 4 decimals) fed fresh to the policy."""
    return any(d["policy_command"] == command and d["command_stale"] == "False" for d in probe.diagnostics)


def test_cmd_vel_forward_walks_the_quadruped_three_metres_along_its_heading_while_active(launch, probe):
    poses = record_odometry(probe)
    bridge, emulator = walking_quadruped(launch, probe)
    twist = Twist()
    twist.linear.x = 0.5
    window = drive(probe, poses, twist)
    first, last = window[0], window[-1]
    forward = (last.x - first.x) * math.cos(first.yaw) + (last.y - first.y) * math.sin(first.yaw)
    assert modes_since_active(probe) == ["ACTIVE"], (probe.modes, bridge.output()[-3000:])
    assert fed_to_the_policy(probe, "0.5000 0.0000 0.0000"), probe.diagnostics[-3:]
    assert forward >= 3.0, (forward, first, last, emulator.output()[-2000:])


def test_cmd_vel_yaw_rate_turns_the_quadruped_ninety_degrees_while_active(launch, probe):
    poses = record_odometry(probe)
    bridge, emulator = walking_quadruped(launch, probe)
    twist = Twist()
    twist.angular.z = 1.0
    window = drive(probe, poses, twist)
    yaw = np.unwrap([pose.yaw for pose in window])
    turned = yaw[-1] - yaw[0]
    assert modes_since_active(probe) == ["ACTIVE"], (probe.modes, bridge.output()[-3000:])
    assert fed_to_the_policy(probe, "0.0000 0.0000 1.0000"), probe.diagnostics[-3:]
    assert turned >= math.pi / 2, (math.degrees(turned), emulator.output()[-2000:])
