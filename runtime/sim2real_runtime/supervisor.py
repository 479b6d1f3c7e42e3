"""What a robot-side control loop adds around the :class:`Controller`: modes, watchdogs and the stand-up ramp.

The ROS bridge feeds it messages as they arrive and calls :meth:`Supervisor.tick` from its control loop;
time is passed in (monotonic seconds), so every rule here is a plain function of its inputs. It holds no
lock: a caller that feeds it from one thread and ticks it from another serializes the calls itself.

Modes:

- ``PASSIVE``: the start. Damping only (kp 0), no fault. ``stand`` moves to ``STANDUP`` once a fresh
  state names every joint the policy drives or reads (``activate`` checks again).
- ``STANDUP``: the PD target ramps linearly from the pose measured at ``stand`` to the default pose over
  ``startup_duration_s``, at the robot's gains, then ``READY``. A torque-controlled policy (all kp zero)
  has nothing to ramp and is ``READY`` on the next tick.
- ``READY``: holds the default pose. ``activate`` hands the robot to the policy: ``ACTIVE``.
- ``ACTIVE``: the policy runs on the measured state and the latest command.
- ``DAMP``: a fault latched: stale state, a NaN or inf in any input or in the policy output, a tilt
  beyond the limit, a missing joint. Damping only, until ``reset``.
- ``ESTOP``: an e-stop latched. Damping only, until ``reset``.

Every command of ``STANDUP``, ``READY`` and ``ACTIVE`` goes through the :class:`SafetyFilter`; the
watchdogs run in those three modes (a ``PASSIVE`` robot is already limp). A command older than
``cmd_timeout_s`` is replaced by zeros; a fresh one is clipped into the ranges the policy was trained on.
"""

from __future__ import annotations

import collections
import enum
import math
from dataclasses import dataclass

import numpy as np

from sim2real_runtime.controller import Controller
from sim2real_runtime.errors import MissingInputError
from sim2real_runtime.joint_map import JointMap
from sim2real_runtime.state import ImuReading, JointCommand, RobotState


class Mode(enum.StrEnum):
    """The bridge's operating modes (see the module docstring)."""

    PASSIVE = "PASSIVE"
    STANDUP = "STANDUP"
    READY = "READY"
    ACTIVE = "ACTIVE"
    DAMP = "DAMP"
    ESTOP = "ESTOP"


_WATCHED = (Mode.STANDUP, Mode.READY, Mode.ACTIVE)
_LATCHED = (Mode.DAMP, Mode.ESTOP)

ARRIVAL_WINDOW_S = 1.0
"""A stale-state fault says how many messages of the topic arrived in this many seconds before it."""


class _Arrivals:
    """When the messages of one topic arrived, over the last :data:`ARRIVAL_WINDOW_S`."""

    def __init__(self) -> None:
        self.times: collections.deque[float] = collections.deque()

    def add(self, now: float) -> None:
        """One arrived at ``now``; those older than the window are forgotten."""
        times = self.times
        times.append(now)
        while now - times[0] > ARRIVAL_WINDOW_S:
            times.popleft()

    def within_window(self, now: float) -> int:
        """How many arrived in the :data:`ARRIVAL_WINDOW_S` before ``now``."""
        return sum(1 for moment in self.times if now - moment <= ARRIVAL_WINDOW_S)


@dataclass(frozen=True)
class SupervisorConfig:
    """Timing of the watchdogs and the stand-up (the ROS bridge exposes each as a parameter)."""

    state_timeout_s: float = 0.1
    """Largest age of the last joint state (and IMU sample, when the robot has an IMU) before DAMP."""
    cmd_timeout_s: float = 0.5
    """Largest age of the last velocity or position command before it is replaced by zeros."""
    startup_duration_s: float = 2.0
    """Seconds the stand-up ramp takes from the measured pose to the default pose."""
    autostart: bool = False
    """Stand up and activate without being asked, once state arrives (emulators and tests); any fault or
    e-stop turns it off for good."""

    def __post_init__(self) -> None:
        for name in ("state_timeout_s", "cmd_timeout_s", "startup_duration_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite, positive number of seconds, got {value!r}")


@dataclass(frozen=True)
class SupervisorTick:
    """What one control tick decided."""

    command: JointCommand
    """The command to publish, in robot-YAML joint order."""
    mode: Mode
    """The mode after this tick."""
    fault: str | None
    """Why the robot is in DAMP or ESTOP, or None."""
    inference_s: float
    """Seconds spent in onnxruntime (0 when the policy did not run)."""
    command_stale: bool
    """Whether the velocity/position command was older than ``cmd_timeout_s`` (and zeros were used)."""
    policy_command: np.ndarray | None
    """The velocity/position command this tick fed (or would feed) the policy; None for uncommanded policies."""
    state_age_s: float
    """Seconds since the last joint state arrived (inf before the first)."""


class Supervisor:
    """Modes, watchdogs and the stand-up ramp around a :class:`Controller`; see the module docstring."""

    def __init__(self, controller: Controller, config: SupervisorConfig | None = None) -> None:
        self.controller = controller
        self.config = config or SupervisorConfig()
        contract = controller.runner.contract
        self.needs_imu = contract.needs_imu
        observed = [joint for term in contract.observation for joint in term.joints]
        self.read_joints = JointMap(tuple(dict.fromkeys([*contract.joint_names, *observed])))
        self.default_pose = contract.array("default_pose")
        self.kp, self.kd = contract.array("kp"), contract.array("kd")
        ranges = contract.commands
        self.commanded = ranges is not None
        self.command_low = np.asarray(ranges.low if ranges else (), dtype=np.float64)
        self.command_high = np.asarray(ranges.high if ranges else (), dtype=np.float64)
        self.mode = Mode.PASSIVE
        self.fault: str | None = None
        self.autostart = self.config.autostart
        self._joints: tuple[float, tuple[str, ...], np.ndarray, np.ndarray] | None = None
        self._imu: tuple[float, ImuReading] | None = None
        self._command: tuple[float, np.ndarray] | None = None
        self._ramp: tuple[float, np.ndarray] | None = None
        self._arrivals = {"/joint_states": _Arrivals(), "/imu": _Arrivals()}

    # ---- inputs, as they arrive -------------------------------------------------------------------------

    def on_joint_state(self, now: float, names: tuple[str, ...], position: np.ndarray, velocity: np.ndarray) -> None:
        """A joint state message arrived at ``now`` (names in any order, extra joints ignored)."""
        self._joints = (now, tuple(names), np.asarray(position, dtype=np.float64), np.asarray(velocity, np.float64))
        self._arrivals["/joint_states"].add(now)

    def on_imu(self, now: float, imu: ImuReading) -> None:
        """An IMU sample arrived at ``now``."""
        self._imu = (now, imu)
        self._arrivals["/imu"].add(now)

    def on_command(self, now: float, command: np.ndarray) -> None:
        """A velocity (vx, vy, yaw rate) or target position command arrived at ``now``."""
        self._command = (now, np.asarray(command, dtype=np.float64))

    # ---- requests (the bridge's services) -----------------------------------------------------------------

    def stand(self, now: float) -> tuple[bool, str]:
        """PASSIVE -> STANDUP; refused (with why) in any other mode or without a fresh, complete state."""
        if self.mode is not Mode.PASSIVE:
            return False, f"stand works from PASSIVE, the bridge is {self.mode}"
        problem = self._state_problem(now)
        if problem is None:
            state = self._state()
            try:
                self.read_joints.indices(state.joint_names)
                position, _ = self.controller.runner.measured(state)
            except MissingInputError as exc:
                problem = str(exc)
        if problem is not None:
            return False, f"cannot stand: {problem}"
        self.controller.reset()
        self._ramp = (now, position.copy())
        self.mode = Mode.STANDUP
        return True, f"standing up over {self.config.startup_duration_s:g} s"

    def activate(self, now: float) -> tuple[bool, str]:
        """READY -> ACTIVE (the policy starts from a fresh memory); refused in any other mode."""
        if self.mode is not Mode.READY:
            return False, f"activate works from READY, the bridge is {self.mode}"
        try:
            self.read_joints.indices(self._state().joint_names)
        except MissingInputError as exc:
            return False, f"cannot activate: {exc}"
        self.controller.runner.reset()
        self.mode = Mode.ACTIVE
        return True, "policy active"

    def estop(self, reason: str) -> tuple[bool, str]:
        """Any mode -> ESTOP, latched until :meth:`reset` (the first reason is kept)."""
        self.autostart = False
        if self.mode is not Mode.ESTOP:
            self.mode = Mode.ESTOP
            self.fault = f"e-stop: {reason}"
            self.controller.safety.trip(self.fault)
        return True, self.fault or "e-stop"

    def reset(self, now: float) -> tuple[bool, str]:
        """ESTOP or DAMP -> PASSIVE (the fault latch cleared); refused in the other modes."""
        if self.mode not in _LATCHED:
            return False, f"reset works from ESTOP or DAMP, the bridge is {self.mode}"
        cleared = self.fault
        self.controller.reset()
        self.mode, self.fault, self._ramp = Mode.PASSIVE, None, None
        return True, f"cleared '{cleared}'; PASSIVE"

    # ---- the control tick ---------------------------------------------------------------------------------

    def tick(self, now: float, late_s: float = 0.0) -> SupervisorTick:
        """One control period: watchdogs, then the command of the current mode.

        ``late_s`` is how long after its deadline the caller's loop started this tick; a stale-state fault
        that the lateness alone explains (the state was fresh when the tick was due) blames the loop.
        """
        if self.autostart:
            self._advance_autostart(now)
        if self.mode in _WATCHED:
            problem = self._state_problem(now, late_s)
            if problem is not None:
                self._latch(problem)
        command, stale = self._command_now(now)
        inference_s = 0.0
        if self.mode is Mode.ACTIVE:
            tick = self.controller.tick(self._state(), command)
            outgoing, inference_s = tick.command, tick.inference_s
            if tick.fault is not None:
                self._latch(tick.fault)
        elif self.mode in (Mode.STANDUP, Mode.READY):
            outgoing = self._hold(now)
        else:
            outgoing = self.controller.safety.damping()
        if self.mode in _LATCHED:
            outgoing = self.controller.safety.damping()
        return SupervisorTick(outgoing, self.mode, self.fault, inference_s, stale, command, self.state_age(now))

    def rehearse(self, now: float) -> JointCommand | None:
        """In ACTIVE, rehearse the coming tick's controller work on the latest state (``Controller.rehearse``).

        Returns the rehearsed command, which nothing remembers; None outside ACTIVE.
        """
        if self.mode is not Mode.ACTIVE or self._joints is None:
            return None
        command, _ = self._command_now(now)
        return self.controller.rehearse(self._state(), command).command

    def state_age(self, now: float) -> float:
        """Seconds since the last joint state (inf before the first)."""
        return math.inf if self._joints is None else now - self._joints[0]

    def _advance_autostart(self, now: float) -> None:
        """Autostart: stand from PASSIVE as soon as it is allowed, activate as soon as READY."""
        if self.mode is Mode.PASSIVE:
            self.stand(now)
        elif self.mode is Mode.READY:
            self.activate(now)
            self.autostart = False

    def _latch(self, reason: str) -> None:
        """A fault: DAMP, latched until reset (an e-stop keeps its own mode)."""
        self.autostart = False
        self.controller.safety.trip(reason)
        if self.mode is not Mode.ESTOP:
            self.mode = Mode.DAMP
            self.fault = self.fault or reason

    def _state_problem(self, now: float, late_s: float = 0.0) -> str | None:
        """Why the latest state cannot be used now (missing or stale joints or IMU), or None."""
        if self._joints is None:
            return "no /joint_states received yet"
        problem = self._staleness("/joint_states", self._joints[0], now, late_s)
        if problem is None and self.needs_imu:
            if self._imu is None:
                return "no /imu received yet"
            problem = self._staleness("/imu", self._imu[0], now, late_s)
        return problem

    def _staleness(self, topic: str, arrived: float, now: float, late_s: float) -> str | None:
        """What made ``topic``'s last message (arrived at ``arrived``) too old at ``now``, or None if it is not."""
        timeout = self.config.state_timeout_s
        age = now - arrived
        if age <= timeout:
            return None
        if age - late_s <= timeout:
            return (
                f"control loop late: this tick started {1000 * late_s:.0f} ms after its deadline; {topic} was "
                f"{age - late_s:.3f} s old when the tick was due, {age:.3f} s when it ran "
                f"(state_timeout_s is {timeout:g})"
            )
        recent = self._arrivals[topic].within_window(now)
        return (
            f"stale {topic}: last one arrived {age:.3f} s ago, {recent} in the last {ARRIVAL_WINDOW_S:g} s; "
            f"state_timeout_s is {timeout:g}"
        )

    def _state(self) -> RobotState:
        """The latest joint state and IMU sample as one :class:`RobotState`."""
        assert self._joints is not None
        _, names, position, velocity = self._joints
        return RobotState(names, position, velocity, None if self._imu is None else self._imu[1])

    def _command_now(self, now: float) -> tuple[np.ndarray | None, bool]:
        """The command for the policy: the latest, clipped into the trained ranges; zeros if stale; None if unused."""
        if not self.commanded:
            return None, False
        size = self.command_low.size
        if self._command is None or now - self._command[0] > self.config.cmd_timeout_s:
            return np.zeros(size), True
        value = self._command[1]
        if value.shape != (size,) or not np.isfinite(value).all():
            return value, False
        return np.clip(value, self.command_low, self.command_high), False

    def _hold(self, now: float) -> JointCommand:
        """STANDUP's ramp toward the default pose (READY at its end), or READY's hold, through the safety filter."""
        state = self._state()
        try:
            position, velocity = self.controller.runner.measured(state)
        except MissingInputError as exc:
            self._latch(str(exc))
            return self.controller.safety.damping()
        safety = self.controller.safety
        safety.check_state(position, velocity, state.imu)
        if safety.latched:
            self._latch(safety.fault or "unsafe state")
            return safety.damping()
        target = self.default_pose
        if self.mode is Mode.STANDUP and self._ramp is not None:
            start_time, start = self._ramp
            progress = min(1.0, (now - start_time) / self.config.startup_duration_s)
            target = start + progress * (self.default_pose - start)
            if progress >= 1.0 or not self.kp.any():  # without stiffness (torque control) there is nothing to ramp
                self.mode = Mode.READY
        zeros = np.zeros_like(target)
        return safety.apply(JointCommand(target, zeros, self.kp.copy(), self.kd.copy(), zeros), position, velocity)
