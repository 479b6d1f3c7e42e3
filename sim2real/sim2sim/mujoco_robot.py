"""The robot in classic MuJoCo (C): PD at physics rate from runtime commands, sensors by joint name.

It stands where the hardware would: it takes :class:`~sim2real_runtime.state.JointCommand` rows (after
an optional latency), computes ``kp (q - q_m) + kd (dq - dq_m) + tau`` at every physics step, clips it
to each joint's effort limit and drives the joint's motor actuator; it reports every hinge and slide
joint by name plus the IMU (orientation and angular velocity of the IMU site), with optional uniform
sensor noise.
"""

from __future__ import annotations

import collections
import copy
from dataclasses import dataclass

import mujoco
import numpy as np

from sim.robot import Robot
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.state import ImuReading, JointCommand, RobotState

_ONE_DOF = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))


@dataclass(frozen=True)
class SensorNoise:
    """Half-widths of uniform noise on what the robot reports."""

    joint_position: float = 0.0
    """On joint positions (rad or m)."""
    joint_velocity: float = 0.0
    """On joint velocities (rad/s or m/s)."""
    angular_velocity: float = 0.0
    """On the IMU's angular velocity (rad/s)."""
    orientation: float = 0.0
    """On the IMU's orientation, as a rotation about a random axis (rad)."""


class MujocoRobot:
    """A robot model stepped by MuJoCo C under PD control from runtime commands."""

    def __init__(
        self,
        robot: Robot,
        model: mujoco.MjModel,
        latency_s: float = 0.0,
        noise: SensorNoise | None = None,
        seed: int = 0,
    ) -> None:
        self.robot = robot
        self.model = copy.deepcopy(model)
        self.nominal = copy.deepcopy(model)
        self.data = mujoco.MjData(self.model)
        self.noise = noise or SensorNoise()
        self.rng = np.random.default_rng(seed)
        self.latency_steps = round(latency_s / self.model.opt.timestep)
        joints = [j for j in range(self.model.njnt) if int(self.model.jnt_type[j]) in _ONE_DOF]
        self.joint_names = tuple(self.model.joint(j).name for j in joints)
        self._sensed_qpos = self.model.jnt_qposadr[joints]
        self._sensed_dof = self.model.jnt_dofadr[joints]
        self._qpos, self._dof = robot.qpos_adr, robot.dof_adr
        self._actuators = robot.actuator_ids
        self._check_motors()
        nominal_gain = self.model.actuator_gear[self._actuators, 0] * self.model.actuator_gainprm[self._actuators, 0]
        self._effort_per_ctrl = nominal_gain
        self.effort_limit = np.array([j.effort_limit for j in robot.config.joints])
        imu = robot.config.imu_site
        self._imu_site = self.model.site(imu).id if imu is not None else None
        self._base = self.model.body(robot.config.base_body).id
        free = [j for j in range(self.model.njnt) if self.model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
        self._free_dof = int(self.model.jnt_dofadr[free[0]]) if free else None
        self._changed: tuple[str, ...] = ()
        self.reset(self.model.qpos0, np.zeros(self.model.nv))

    def _check_motors(self) -> None:
        """PD efforts reach the joints through plain motors (fixed gain, no bias); refuse anything else."""
        fixed, none = int(mujoco.mjtGain.mjGAIN_FIXED), int(mujoco.mjtBias.mjBIAS_NONE)
        for joint, aid in zip(self.robot.joint_names, self._actuators, strict=True):
            gain = self.model.actuator_gainprm[aid, 0] * self.model.actuator_gear[aid, 0]
            if self.model.actuator_gaintype[aid] != fixed or self.model.actuator_biastype[aid] != none or gain == 0:
                name = self.model.actuator(int(aid)).name
                raise ConfigError.single(
                    self.robot.mjcf_path,
                    f"actuator '{name}'",
                    f"joint '{joint}' must be driven by a motor (fixed gain, no bias) so PD efforts apply as torques",
                )

    def reset(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Place the robot at ``(qpos, qvel)`` with no command pending (zero effort until one arrives)."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)
        zeros = np.zeros(len(self._actuators))
        self.active = JointCommand(zeros, zeros, zeros, zeros, zeros)
        self.active_action = zeros
        self.physics_steps = 0
        self._pending: collections.deque[tuple[int, JointCommand, np.ndarray]] = collections.deque()

    def set_model_fields(self, fields: dict[str, np.ndarray]) -> None:
        """Give model fields these values (this episode's randomization); every other field returns to nominal."""
        for name in self._changed:
            getattr(self.model, name)[...] = getattr(self.nominal, name)
        for name, value in fields.items():
            getattr(self.model, name)[...] = value
        self._changed = tuple(fields)

    def sense(self) -> RobotState:
        """What the robot's sensors report now: all hinge/slide joints by name, and the IMU."""
        position = self.data.qpos[self._sensed_qpos].copy()
        velocity = self.data.qvel[self._sensed_dof].copy()
        noise = self.noise
        if noise.joint_position:
            position += self.rng.uniform(-noise.joint_position, noise.joint_position, position.shape)
        if noise.joint_velocity:
            velocity += self.rng.uniform(-noise.joint_velocity, noise.joint_velocity, velocity.shape)
        return RobotState(self.joint_names, position, velocity, self._imu())

    def _imu(self) -> ImuReading | None:
        """Orientation and angular velocity of the IMU site (the frame as the last physics step left it)."""
        if self._imu_site is None:
            return None
        rotation = self.data.site_xmat[self._imu_site].reshape(3, 3)
        body = self.model.site_bodyid[self._imu_site]
        gyro = rotation.T @ self.data.cvel[body, :3]
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, rotation.reshape(-1))
        noise = self.noise
        if noise.angular_velocity:
            gyro = gyro + self.rng.uniform(-noise.angular_velocity, noise.angular_velocity, 3)
        if noise.orientation:
            axis = self.rng.normal(size=3)
            turn = np.empty(4)
            mujoco.mju_axisAngle2Quat(turn, axis / np.linalg.norm(axis), self.rng.uniform(0, noise.orientation))
            mujoco.mju_mulQuat(quat, quat, turn)
        return ImuReading(quat, gyro)

    def send(self, command: JointCommand, action: np.ndarray) -> None:
        """Queue a command; it takes effect after the latency (the one before it holds until then)."""
        self._pending.append((self.physics_steps + self.latency_steps, command, action))

    def push(self, planar_velocity: np.ndarray) -> None:
        """Add ``(vx, vy)`` (m/s, world frame) to the base's velocity: a shove (the base must be free)."""
        if not planar_velocity.any():
            return
        free = self._free_dof
        if free is None:
            raise ValueError(f"{self.robot.name} has no free base to push")
        self.data.qvel[free : free + 2] += planar_velocity

    def step(self, count: int) -> None:
        """Advance ``count`` physics steps, applying due commands and the PD law at every step."""
        for _ in range(count):
            while self._pending and self._pending[0][0] <= self.physics_steps:
                _, self.active, self.active_action = self._pending.popleft()
            q, dq = self.data.qpos[self._qpos], self.data.qvel[self._dof]
            effort = np.clip(self.active.effort(q, dq), -self.effort_limit, self.effort_limit)
            self.data.ctrl[self._actuators] = effort / self._effort_per_ctrl
            mujoco.mj_step(self.model, self.data)
            self.physics_steps += 1

    def base_velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Linear and angular velocity of the base body in its own frame."""
        velocity = np.empty(6)
        mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_BODY, self._base, velocity, 1)
        return velocity[3:], velocity[:3]
