"""``mujoco_robot``: the robot in classic MuJoCo, in real time, speaking the hardware's topics.

It loads the same robot YAML as training, starts at the MJCF's ``home`` pose, applies ``/joint_commands``
(q, dq, kp, kd, tau rows in robot-YAML order) with the PD law at every physics step (the same
:class:`~sim2real.sim2sim.mujoco_robot.MujocoRobot` sim2sim uses), and publishes ``/joint_states``,
``/imu`` (robots with an IMU) and ground-truth ``/odom`` at ``state_rate_hz``. Physics follows the wall
clock: each publish first steps as many physics steps as the time elapsed holds. It publishes from a loop
thread of its own at real-time priority where permitted (:mod:`sim2real_ros.realtime`), as a robot's driver
would, so that under load it is not the emulated robot that goes silent; the executor thread only hands the
commands it receives to that loop. Parameters inject command latency, dropped state messages, uniform
sensor noise and a random start (``initial_joint_noise``: every hinge and slide joint moved by up to that
much from home). ``physics_dt`` sets the physics step: give it the task's ``sim_dt`` where that differs from
the MJCF's timestep (``sim2real inspect robot`` says which), so the emulator steps the physics the policy
was trained on; 0 keeps the MJCF's. With ``wait_for_commands`` the physics stays
frozen at the start until the first command arrives, as a robot on its stand waits for its controller.
"""

from __future__ import annotations

import collections
import copy
import math
import sys
import time

import numpy as np
from builtin_interfaces.msg import Time
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray

from sim2real_ros import realtime
from sim2real_ros.messages import command_rows, float_array
from sim2real_ros.node_main import StopRequest, run_node
from sim2real_ros.parameters import ParameterError, read_parameters
from sim2real_ros.qos import RELIABLE
from sim2real_runtime import JointCommand
from sim2real_runtime.errors import ConfigError

try:  # the emulator is a simulator: it needs the whole stack, which a robot computer does not install
    import mujoco

    from sim.robot import load_robot
    from sim.robot_pose import home_qpos
    from sim2real.sim2sim.mujoco_robot import MujocoRobot, SensorNoise
except ImportError as missing:
    _MISSING_STACK: ImportError | None = missing
else:
    _MISSING_STACK = None

PARAMETERS: dict[str, object] = {
    "robot": "",
    "state_rate_hz": 200.0,
    "latency_s": 0.0,
    "drop_probability": 0.0,
    "joint_position_noise": 0.0,
    "joint_velocity_noise": 0.0,
    "angular_velocity_noise": 0.0,
    "orientation_noise": 0.0,
    "initial_joint_noise": 0.0,
    "wait_for_commands": False,
    "seed": 0,
    "physics_dt": 0.0,
    **realtime.PARAMETERS,
}
"""Every parameter with its default (see the README)."""


def _check_parameters(values: dict[str, object]) -> None:
    """Refuse a missing robot, a non-positive rate, a probability outside [0, 1] or negative noise."""
    if not values["robot"]:
        raise ParameterError("parameter 'robot' is not set; give a robot.yaml path or a shipped robot name")
    rate = values["state_rate_hz"]
    if not (isinstance(rate, float | int) and math.isfinite(rate) and rate > 0):
        raise ParameterError(f"parameter 'state_rate_hz' is {rate!r}; give a positive rate in Hz")
    drop = values["drop_probability"]
    if not (isinstance(drop, float | int) and 0.0 <= drop <= 1.0):
        raise ParameterError(f"parameter 'drop_probability' is {drop!r}; give a probability in [0, 1]")
    for name in (
        "latency_s",
        "joint_position_noise",
        "joint_velocity_noise",
        "angular_velocity_noise",
        "orientation_noise",
        "initial_joint_noise",
        "physics_dt",
    ):
        value = values[name]
        if not (isinstance(value, float | int) and math.isfinite(value) and value >= 0):
            raise ParameterError(f"parameter '{name}' is {value!r}; give a finite, non-negative number")


def physics_model(model: mujoco.MjModel, physics_dt: float) -> tuple[mujoco.MjModel, str]:
    """The model to step and where its physics step comes from: ``physics_dt`` (the task's sim_dt) or the MJCF."""
    if not physics_dt:
        return model, "the MJCF's timestep"
    model = copy.deepcopy(model)
    model.opt.timestep = physics_dt
    return model, "physics_dt"


class MujocoRobotNode(Node):
    """The emulator node (see the module docstring)."""

    def __init__(self, stop: StopRequest) -> None:
        super().__init__("mujoco_robot")
        values = read_parameters(self, PARAMETERS)
        _check_parameters(values)
        scheduling = realtime.RealtimeSettings.from_parameters(values)
        try:
            robot = load_robot(str(values["robot"]))
        except ConfigError as exc:
            raise ParameterError(str(exc).splitlines()[0]) from None
        noise = SensorNoise(
            joint_position=float(values["joint_position_noise"]),
            joint_velocity=float(values["joint_velocity_noise"]),
            angular_velocity=float(values["angular_velocity_noise"]),
            orientation=float(values["orientation_noise"]),
        )
        model, step_source = physics_model(robot.mj_model, float(values["physics_dt"]))
        self.robot = MujocoRobot(robot, model, float(values["latency_s"]), noise, int(values["seed"]))
        self.rng = np.random.default_rng(int(values["seed"]))
        qpos = home_qpos(robot)
        spread = float(values["initial_joint_noise"])
        joints = [robot.mj_model.joint(name).qposadr[0] for name in self.robot.joint_names]
        qpos[joints] += self.rng.uniform(-spread, spread, len(joints))
        self.robot.reset(qpos, np.zeros(robot.mj_model.nv))
        self.joints = len(robot.joint_names)
        self.timestep = float(model.opt.timestep)
        self.drop_probability = float(values["drop_probability"])
        self.has_imu = robot.config.imu_site is not None
        self.base = robot.mj_model.body(robot.config.base_body).id

        self.received: collections.deque[tuple[float, JointCommand]] = collections.deque()
        """Commands as they arrived (monotonic seconds), waiting for the loop to apply them."""
        self.create_subscription(Float64MultiArray, "/joint_commands", self._on_command, RELIABLE)
        self.state_pub = self.create_publisher(JointState, "/joint_states", qos_profile_sensor_data)
        self.imu_pub = self.create_publisher(Imu, "/imu", qos_profile_sensor_data) if self.has_imu else None
        self.odom_pub = self.create_publisher(Odometry, "/odom", qos_profile_sensor_data)
        self.waiting = bool(values["wait_for_commands"])
        self.started = time.monotonic()
        period = 1.0 / float(values["state_rate_hz"])
        self.loop = realtime.PeriodicThread("state", period, self._tick, scheduling, self.get_logger().error, stop)
        how = self.loop.start()
        self.get_logger().info(
            f"{robot.name}: physics at {1.0 / self.timestep:g} Hz ({step_source}), state at "
            f"{values['state_rate_hz']:g} Hz ({how})"
        )

    def _on_command(self, msg: Float64MultiArray) -> None:
        rows = command_rows(msg, self.joints)
        if rows is None or not np.isfinite(rows).all():
            self.get_logger().warning(
                f"ignored a /joint_commands message of {len(msg.data)} values (want {self.joints} x 5 finite)",
                throttle_duration_sec=1.0,
            )
            return
        self.received.append((time.monotonic(), JointCommand(*(rows[:, i].copy() for i in range(5)))))

    def _tick(self, _due: float) -> None:
        """On the loop thread: apply the commands received, catch physics up with the clock, publish the state."""
        while self.received:
            arrived, command = self.received.popleft()
            if self.waiting:
                self.waiting = False
                self.started = arrived
            self.robot.send(command, np.zeros(self.joints))
        due = int((time.monotonic() - self.started) / self.timestep)
        if not self.waiting and due > self.robot.physics_steps:
            self.robot.step(due - self.robot.physics_steps)
        stamp = self.get_clock().now().to_msg()
        self._publish_odometry(stamp)
        if self.drop_probability and self.rng.random() < self.drop_probability:
            return
        sensed = self.robot.sense()
        state = JointState(
            name=list(sensed.joint_names), position=float_array(sensed.position), velocity=float_array(sensed.velocity)
        )
        state.header.stamp = stamp
        self.state_pub.publish(state)
        if self.imu_pub is not None and sensed.imu is not None:
            imu = Imu()
            imu.header.stamp = stamp
            w, x, y, z = sensed.imu.orientation_wxyz
            imu.orientation.w, imu.orientation.x, imu.orientation.y, imu.orientation.z = (
                float(w),
                float(x),
                float(y),
                float(z),
            )
            gx, gy, gz = sensed.imu.angular_velocity
            imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z = float(gx), float(gy), float(gz)
            self.imu_pub.publish(imu)

    def _publish_odometry(self, stamp: Time) -> None:
        """Ground truth: the base body's world pose and its velocity in its own frame."""
        data = self.robot.data
        odom = Odometry()
        odom.header.stamp = stamp
        odom.header.frame_id = "world"
        odom.child_frame_id = "base"
        x, y, z = data.xpos[self.base]
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, data.xmat[self.base])
        pose = odom.pose.pose
        pose.position.x, pose.position.y, pose.position.z = float(x), float(y), float(z)
        pose.orientation.w, pose.orientation.x, pose.orientation.y, pose.orientation.z = (float(v) for v in quat)
        linear, angular = self.robot.base_velocity()
        twist = odom.twist.twist
        twist.linear.x, twist.linear.y, twist.linear.z = (float(v) for v in linear)
        twist.angular.x, twist.angular.y, twist.angular.z = (float(v) for v in angular)
        self.odom_pub.publish(odom)

    def shut_down(self) -> None:
        """End the state loop (nothing is published once the node is being destroyed)."""
        self.loop.stop()


def main(args: list[str] | None = None) -> int:
    """Console script ``mujoco_robot``: exit 2 with one line naming the problem when it cannot start."""
    if _MISSING_STACK is not None:
        print(
            f"error: mujoco_robot simulates the robot and needs the whole stack ({_MISSING_STACK.name} is missing); "
            "run it where `pip install -e ./runtime -e .` installed it, not on the robot",
            file=sys.stderr,
        )
        return 2
    return run_node("mujoco_robot", MujocoRobotNode, (ParameterError,), MujocoRobotNode.shut_down, args)


if __name__ == "__main__":
    sys.exit(main())
