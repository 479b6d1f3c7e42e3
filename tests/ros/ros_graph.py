"""Nodes started as real processes on an isolated ROS 2 domain, and an in-process probe node that talks to them."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger

from tests.ros.launch_reader import LaunchedNode

BIN = Path(sys.executable).parent
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def ros_environment(domain_id: int) -> dict[str, str]:
    """The environment of a process on ``domain_id``, discovering peers on this host only."""
    return {**os.environ, "ROS_DOMAIN_ID": str(domain_id), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}


class Launched:
    """A node process; its output goes to a log file that failures print."""

    def __init__(self, node: LaunchedNode, domain_id: int, log_dir: Path, extra: dict[str, Any] | None = None) -> None:
        self.log = log_dir / f"{node.name}.log"
        self.command = node.command(BIN, extra)
        handle = self.log.open("w")
        self.process = subprocess.Popen(
            self.command, stdout=handle, stderr=subprocess.STDOUT, env=ros_environment(domain_id)
        )

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text()

    def stop(self, timeout: float = 10.0) -> int:
        """SIGINT, then SIGKILL after ``timeout`` seconds; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class Probe:
    """A node in the test process: publishes what a robot or an operator would, records what the bridge sends."""

    def __init__(self, domain_id: int, bridge: str = "policy_bridge") -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = Node("probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.commands: list[tuple[float, np.ndarray]] = []
        self.modes: list[tuple[float, str]] = []
        self.states: list[tuple[float, JointState]] = []
        self.diagnostics: list[dict[str, str]] = []
        node = self.node
        node.create_subscription(Float64MultiArray, "/joint_commands", self._on_command, RELIABLE)
        node.create_subscription(String, f"/{bridge}/mode", self._on_mode, LATCHED)
        node.create_subscription(JointState, "/joint_states", self._on_state, qos_profile_sensor_data)
        node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, RELIABLE)
        self.joint_states = node.create_publisher(JointState, "/joint_states", qos_profile_sensor_data)
        self.imu = node.create_publisher(Imu, "/imu", qos_profile_sensor_data)
        self.cmd_vel = node.create_publisher(Twist, "/cmd_vel", RELIABLE)
        self.estop_topic = node.create_publisher(Bool, "/estop", RELIABLE)
        self.services = {
            name: node.create_client(Trigger, f"/{bridge}/{name}") for name in ("stand", "activate", "estop", "reset")
        }
        # A full collection of the test process's heap (JAX, torch and the rest) took 134 ms: long enough to
        # silence the robot the probe plays past the cart-pole's 50 ms state timeout. Frozen until close(), the
        # heap is left out of every collection; what the test makes meanwhile is still collected.
        gc.freeze()

    def _on_command(self, msg: Float64MultiArray) -> None:
        self.commands.append((time.monotonic(), np.asarray(msg.data).reshape(-1, 5)))

    def _on_mode(self, msg: String) -> None:
        self.modes.append((time.monotonic(), msg.data))

    def _on_state(self, msg: JointState) -> None:
        self.states.append((time.monotonic(), msg))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name == "policy_bridge":
                self.diagnostics.append({kv.key: kv.value for kv in status.values})

    @property
    def mode(self) -> str | None:
        """The bridge's last published mode."""
        return self.modes[-1][1] if self.modes else None

    def spin(self, seconds: float, every: Callable[[], None] | None = None, period: float = 0.005) -> None:
        """Process messages for ``seconds``, calling ``every`` about each ``period``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if every is not None:
                every()
            self.executor.spin_once(timeout_sec=period)

    def wait_for(self, condition: Callable[[], bool], timeout: float, every: Callable[[], None] | None = None) -> bool:
        """Spin until ``condition()`` holds or ``timeout`` passes; whether it held."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return True
            self.spin(0.01, every)
        return condition()

    def call(self, service: str, timeout: float = 10.0) -> Trigger.Response:
        """Call one of the bridge's Trigger services and wait for the answer."""
        client = self.services[service]
        assert client.wait_for_service(timeout_sec=timeout), f"service {service} not available"
        future = client.call_async(Trigger.Request())
        self.executor.spin_until_future_complete(future, timeout_sec=timeout)
        assert future.done(), f"service {service} did not answer"
        return future.result()

    def publish_state(self, names: list[str], position: np.ndarray, velocity: np.ndarray) -> None:
        """One /joint_states message."""
        msg = JointState(name=names, position=[float(v) for v in position], velocity=[float(v) for v in velocity])
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self.joint_states.publish(msg)

    def publish_imu(self, quaternion_wxyz: np.ndarray, gyro: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        """One /imu message."""
        msg = Imu()
        msg.orientation.w, msg.orientation.x, msg.orientation.y, msg.orientation.z = (float(v) for v in quaternion_wxyz)
        msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z = (float(v) for v in gyro)
        self.imu.publish(msg)

    def play_robot(self, names: list[str], position: np.ndarray, velocity: np.ndarray, rate_hz: float = 200.0) -> None:
        """Publish this joint state (and ``robot_imu`` when set) at ``rate_hz`` while ``robot_on`` holds."""
        self.robot_names, self.robot_position, self.robot_velocity = names, position, velocity
        self.robot_imu: np.ndarray | None = None
        self.robot_on = True
        self.last_state_sent = 0.0
        if not hasattr(self, "_robot_timer"):
            self._robot_timer = self.node.create_timer(1.0 / rate_hz, self._robot_tick)

    def _robot_tick(self) -> None:
        if not self.robot_on:
            return
        self.publish_state(self.robot_names, self.robot_position, self.robot_velocity)
        if self.robot_imu is not None:
            self.publish_imu(self.robot_imu)
        self.last_state_sent = time.monotonic()

    def close(self) -> None:
        """Tear the probe down (and let the collector see the whole heap again)."""
        gc.unfreeze()
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
