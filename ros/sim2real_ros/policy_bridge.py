"""``policy_bridge``: runs an exported policy on a robot over ROS 2, every command through the safety filter.

The node only wires: the :class:`~sim2real_runtime.supervisor.Supervisor` (modes, watchdogs, stand-up)
around the runtime's :class:`~sim2real_runtime.Controller` (observation, ONNX inference, safety filter)
holds every rule. Topics, services and parameters are those of DESIGN.md's ROS interface; the README's
"Running on a robot" section lists them.

Two threads share the supervisor, one lock serializing them. The ROS executor (the main thread) only
stores inputs as they arrive, answers services and publishes diagnostics; the control loop runs on a
:class:`~sim2real_ros.realtime.PeriodicThread` of its own at the policy's rate (real-time priority where
permitted) and publishes every command. State topics are read newest-first (:mod:`sim2real_ros.qos`), so a
burst of states is never a queue between the driver and the tick.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Twist
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.node import Node
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger

from sim2real_ros import realtime
from sim2real_ros.messages import (
    command_message,
    imu_reading,
    joint_arrays,
    joint_state_message,
    point_command,
    position_message,
    twist_command,
)
from sim2real_ros.node_main import StopRequest, run_node
from sim2real_ros.parameters import ParameterError, read_parameters
from sim2real_ros.qos import LATCHED, LATEST_SENSOR_DATA, RELIABLE
from sim2real_runtime import (
    ContractError,
    Controller,
    JointCommand,
    PolicyRunner,
    RobotSpecError,
    SafetyConfig,
    SafetyFilter,
    load_robot_spec,
)
from sim2real_runtime.loop_stats import LoopStats
from sim2real_runtime.origin import exported_robot_yaml
from sim2real_runtime.supervisor import Mode, Supervisor, SupervisorConfig, SupervisorTick

COMMAND_INTERFACES = ("joint_commands", "forward_position", "joint_state")
"""What ``/joint_commands`` carries: q, dq, kp, kd, tau rows; only q (a ros2_control forward controller);
or a JointState of targets."""

PARAMETERS: dict[str, object] = {
    "policy": "",
    "robot": "",
    "autostart": False,
    "state_timeout_s": 0.1,
    "cmd_timeout_s": 0.5,
    "startup_duration_s": 2.0,
    "max_tilt_rad": 1.0,
    "position_margin": 0.02,
    "max_target_speed_scale": 1.0,
    "max_gain_scale": 1.0,
    "command_interface": "joint_commands",
    "diagnostics_period_s": 0.5,
    "stats_file": "",
    "rehearsal_lead_s": 0.001,
    **realtime.PARAMETERS,
}
"""Every parameter with its default (see the README for what each does)."""

ROBOT_FIX = (
    "set parameter 'robot' to the robot YAML the policy was trained on (unset, the policy's own is used) "
    "or re-export the policy for this robot (sim2real export)"
)
"""What to do about a policy that does not fit the robot YAML."""

DAMP_DELIVERY_TIMEOUT_S = 4.0
"""How long the stop waits for subscribers to acknowledge the final DAMP command before the node goes.

A reliable reader acknowledges when the writer's heartbeat asks it to; under Fast DDS's defaults that is
every 3 s, so the wait usually lasts up to 3 s. 4 s keeps the stop inside the 5 s ``ros2 launch`` allows
before it escalates to SIGTERM."""


def _check_parameters(values: dict[str, object]) -> None:
    """Refuse unset files, unknown interfaces and impossible periods or paths before anything is opened."""
    if not values["policy"]:
        raise ParameterError("parameter 'policy' is not set; give the .onnx written by sim2real export")
    if not values["diagnostics_period_s"] > 0:
        raise ParameterError(f"parameter 'diagnostics_period_s' is {values['diagnostics_period_s']}; give seconds > 0")
    stats = Path(str(values["stats_file"]))
    if values["stats_file"] and not stats.parent.is_dir():
        raise ParameterError(f"parameter 'stats_file': folder {stats.parent} does not exist; create it or change it")
    if not 0 <= values["rehearsal_lead_s"] < 0.5:
        raise ParameterError(
            f"parameter 'rehearsal_lead_s' is {values['rehearsal_lead_s']}; give 0 (off) or a lead of a few ms, "
            "such as 0.001 (above half the control period the rehearsal is off by itself)"
        )
    if values["command_interface"] not in COMMAND_INTERFACES:
        raise ParameterError(
            f"parameter 'command_interface' is {values['command_interface']!r}; "
            f"use one of {', '.join(COMMAND_INTERFACES)}"
        )


class PolicyBridge(Node):
    """The bridge node: subscriptions feed the supervisor, a loop thread at the control rate publishes commands."""

    def __init__(self, stop: StopRequest) -> None:
        super().__init__("policy_bridge")
        values = read_parameters(self, PARAMETERS)
        _check_parameters(values)
        scheduling = realtime.RealtimeSettings.from_parameters(values)
        policy = str(values["policy"])
        runner = PolicyRunner(policy)
        robot = load_robot_spec(str(values["robot"]) or self._exported_robot(runner, policy))
        runner.contract.check_robot(robot, policy, ROBOT_FIX)
        try:
            safety_config = SafetyConfig(
                position_margin=float(values["position_margin"]),
                max_target_speed_scale=float(values["max_target_speed_scale"]),
                max_gain_scale=float(values["max_gain_scale"]),
                max_tilt_rad=float(values["max_tilt_rad"]),
            )
            supervisor_config = SupervisorConfig(
                state_timeout_s=float(values["state_timeout_s"]),
                cmd_timeout_s=float(values["cmd_timeout_s"]),
                startup_duration_s=float(values["startup_duration_s"]),
                autostart=bool(values["autostart"]),
            )
        except ValueError as exc:
            raise ParameterError(f"parameter {exc}") from None
        contract = runner.contract
        self.period = contract.control_dt
        self.joint_names = robot.joint_names
        self.supervisor = Supervisor(
            Controller(runner, SafetyFilter(robot, self.period, safety_config)), supervisor_config
        )
        self.interface = str(values["command_interface"])
        self.stats_file = str(values["stats_file"])
        self.stats = LoopStats()
        self.lock = threading.Lock()
        """Held around every use of the supervisor and the mode publisher, by either thread."""

        self.create_subscription(JointState, "/joint_states", self._on_joint_state, LATEST_SENSOR_DATA)
        if contract.needs_imu:
            self.create_subscription(Imu, "/imu", self._on_imu, LATEST_SENSOR_DATA)
        if contract.commands is not None:
            message_type, topic, handler = {
                "velocity": (Twist, "/cmd_vel", self._on_twist),
                "target_position": (Point, "/goal_position", self._on_point),
            }[contract.commands.kind]
            self.create_subscription(message_type, topic, handler, RELIABLE)
        self.create_subscription(Bool, "/estop", self._on_estop_topic, RELIABLE)
        message_type = JointState if self.interface == "joint_state" else Float64MultiArray
        self.command_pub = self.create_publisher(message_type, "/joint_commands", RELIABLE)
        self.mode_pub = self.create_publisher(String, "~/mode", LATCHED)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", RELIABLE)
        for service, handler in (
            ("~/stand", self.supervisor.stand),
            ("~/activate", self.supervisor.activate),
            ("~/reset", self.supervisor.reset),
        ):
            self.create_service(Trigger, service, self._service(handler))
        self.create_service(Trigger, "~/estop", self._on_estop_service)
        self.last_tick: SupervisorTick | None = None
        self.last_period_s = float("nan")
        self._loop_message: Float64MultiArray | JointState | None = None
        self._rehearsal_message: Float64MultiArray | JointState | None = None
        self._published_mode: Mode | None = None
        self._last_tick_start: float | None = None
        self._publish_mode(self.supervisor.mode)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(float(values["diagnostics_period_s"]), self._publish_diagnostics, clock=steady)
        lead = float(values["rehearsal_lead_s"])
        rehearsing = 0 < lead <= self.period / 2  # a fast loop (1 kHz) has no idle time to go cold in
        self.loop = realtime.PeriodicThread(
            "control",
            self.period,
            self._tick,
            scheduling,
            self.get_logger().error,
            stop,
            self._rehearse if rehearsing else None,
            lead,
        )
        how = self.loop.start() + (f", each tick rehearsed {1000 * lead:g} ms ahead" if rehearsing else "")
        self.get_logger().info(
            f"{contract.task} policy for {robot.name} at {1.0 / self.period:g} Hz ({how}); mode {self.supervisor.mode}"
        )

    def _exported_robot(self, runner: PolicyRunner, policy: str) -> str:
        """The robot YAML the policy was exported with (parameter ``robot`` unset); changes since are logged."""
        try:
            path, changes = exported_robot_yaml(runner.contract.origin, policy)
        except ContractError as exc:
            raise ParameterError(f"parameter 'robot' is not set and {exc}; give the robot's robot.yaml") from None
        for change in changes:
            self.get_logger().warning(change)
        return str(path)

    @staticmethod
    def _now() -> float:
        """Monotonic seconds: every age and period is measured on this clock."""
        return time.monotonic()

    # ---- inputs -----------------------------------------------------------------------------------------

    # Each input is converted outside the lock; the lock covers only the supervisor's store of it.

    def _on_joint_state(self, msg: JointState) -> None:
        arrived = self._now()
        names, position, velocity = joint_arrays(msg)
        with self.lock:
            self.supervisor.on_joint_state(arrived, names, position, velocity)

    def _on_imu(self, msg: Imu) -> None:
        arrived = self._now()
        reading = imu_reading(msg)
        with self.lock:
            self.supervisor.on_imu(arrived, reading)

    def _on_twist(self, msg: Twist) -> None:
        arrived = self._now()
        command = twist_command(msg)
        with self.lock:
            self.supervisor.on_command(arrived, command)

    def _on_point(self, msg: Point) -> None:
        arrived = self._now()
        command = point_command(msg)
        with self.lock:
            self.supervisor.on_command(arrived, command)

    def _on_estop_topic(self, msg: Bool) -> None:
        if msg.data:
            self._estop("/estop is true")

    def _on_estop_service(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self._estop("~/estop service")
        return response

    def _estop(self, reason: str) -> tuple[bool, str]:
        """Latch ESTOP and publish its DAMP command at once, not at the next tick."""
        with self.lock:
            answer = self.supervisor.estop(reason)
            tick = self.supervisor.tick(self._now())
        self._publish_command(tick)
        return answer

    def _service(
        self, handler: Callable[[float], tuple[bool, str]]
    ) -> Callable[[Trigger.Request, Trigger.Response], Trigger.Response]:
        """A Trigger callback for ``handler(now) -> (success, message)``."""

        def serve(_request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
            with self.lock:
                response.success, response.message = handler(self._now())
                self._publish_mode(self.supervisor.mode)
            self.get_logger().info(response.message)
            return response

        return serve

    # ---- the control tick -------------------------------------------------------------------------------

    def _rehearse(self) -> None:
        """Rehearse the coming tick on the latest state, on the loop thread (see ``Controller.rehearse``).

        The rehearsed command fills a message of the rehearsal's own, never published, so that code is warm too.
        """
        with self.lock:
            command = self.supervisor.rehearse(self._now())
        if command is not None:
            self._rehearsal_message = self._message(command, self._rehearsal_message)

    def _tick(self, due: float) -> None:
        """One control period, on the loop thread: ``due`` is its deadline (monotonic seconds).

        The loop refills one message of its own every tick (never shared with the executor's e-stop path).
        """
        start = self._now()
        if self._last_tick_start is not None:
            self.last_period_s = start - self._last_tick_start
            self.stats.add("loop_period_s", self.last_period_s)
        self._last_tick_start = start
        with self.lock:
            tick = self.supervisor.tick(start, late_s=max(0.0, start - due))
        self._loop_message = self._message(tick.command, self._loop_message)
        handed = self._now()
        self.command_pub.publish(self._loop_message)
        done = self._now()
        self.stats.add("publish_s", done - handed)
        if tick.mode is Mode.ACTIVE:
            self.stats.add("state_to_command_s", done - start)
            self.stats.add("inference_s", tick.inference_s)
            self.stats.add("state_age_s", tick.state_age_s)
        self._report(tick)

    def _message(
        self, command: JointCommand, reuse: Float64MultiArray | JointState | None = None
    ) -> Float64MultiArray | JointState:
        """``command`` as the configured interface's message (``reuse``: one it returned before, refilled)."""
        if self.interface == "forward_position":
            return position_message(command, reuse)
        if self.interface == "joint_state":
            return joint_state_message(self.joint_names, command, self.get_clock().now().to_msg(), reuse)
        return command_message(command, reuse)

    def _publish_command(self, tick: SupervisorTick) -> None:
        """Publish the tick's command in a message of its own (the e-stop path, on the executor); report it."""
        self.command_pub.publish(self._message(tick.command))
        self._report(tick)

    def _report(self, tick: SupervisorTick) -> None:
        """Log the tick's fault if it is new; publish its mode if it changed."""
        if tick.fault and (self.last_tick is None or self.last_tick.fault != tick.fault):
            self.get_logger().error(f"{tick.mode}: {tick.fault}")
        self.last_tick = tick
        if tick.mode is not self._published_mode:
            with self.lock:
                self._publish_mode(tick.mode)

    def _publish_mode(self, mode: Mode) -> None:
        """Publish ``mode`` on ``~/mode`` and log the change, if it is one (call with :attr:`lock` held)."""
        if mode is not self._published_mode:
            self.mode_pub.publish(String(data=str(mode)))
            change = f"{self._published_mode} -> {mode}" if self._published_mode is not None else str(mode)
            self.get_logger().info(f"mode {change}")
            self._published_mode = mode

    def _publish_diagnostics(self) -> None:
        tick = self.last_tick
        status = DiagnosticStatus(name="policy_bridge", hardware_id=self.supervisor.controller.runner.contract.robot)
        with self.lock:
            mode, fault, state_age = self.supervisor.mode, self.supervisor.fault, self.supervisor.state_age(self._now())
        status.level = DiagnosticStatus.ERROR if mode in (Mode.DAMP, Mode.ESTOP) else DiagnosticStatus.OK
        status.message = f"{mode}" + (f": {fault}" if fault else "")
        values = {
            "mode": str(mode),
            "last_fault": fault or "",
            "loop_period_ms": f"{1000 * self.last_period_s:.3f}",
            "state_age_ms": f"{1000 * state_age:.3f}",
            "inference_ms": f"{1000 * (tick.inference_s if tick else 0.0):.3f}",
            "command_stale": str(bool(tick and tick.command_stale)),
            "policy_command": " ".join(f"{v:.4f}" for v in tick.policy_command)
            if tick and tick.policy_command is not None
            else "",
        }
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics_pub.publish(array)

    def shut_down(self) -> None:
        """End the control loop, leave the robot limp (one DAMP command, delivered) and write the loop statistics.

        The wait for every subscriber's acknowledgement is bounded by :data:`DAMP_DELIVERY_TIMEOUT_S`, so a
        subscriber that died unannounced cannot hold the stop; the one log line says whether it timed out.
        """
        self.loop.stop()
        self.command_pub.publish(self._message(self.supervisor.controller.safety.damping()))
        if self.command_pub.wait_for_all_acked(Duration(seconds=DAMP_DELIVERY_TIMEOUT_S)):
            self.get_logger().info("stopped; sent DAMP")
        else:
            self.get_logger().warning(
                f"stopped; sent DAMP, not acknowledged by every subscriber within {DAMP_DELIVERY_TIMEOUT_S:g} s"
            )
        if self.stats_file:
            Path(self.stats_file).write_text(json.dumps(self.stats.summary(), indent=1))


def main(args: list[str] | None = None) -> int:
    """Console script ``policy_bridge``: exit 2 with one line naming the problem when it cannot start.

    SIGINT and SIGTERM stop the loop; the last message sent is DAMP, and the bridge exits 0 once its
    subscribers have it (or after :data:`DAMP_DELIVERY_TIMEOUT_S`).
    """
    refusals = (ParameterError, ContractError, RobotSpecError)
    return run_node("policy_bridge", PolicyBridge, refusals, PolicyBridge.shut_down, args)


if __name__ == "__main__":
    sys.exit(main())
