"""The observation vector from measured robot state, in numpy: the formulas of ``sim.observation``, again.

Joints are matched by NAME: the state may list them in any order and may carry joints the policy does
not read. A joint the policy reads but the state lacks raises :class:`MissingInputError`; an IMU term
without an IMU reading does too. Nothing here adds noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim2real_runtime.contract import ObservationTermSpec, PolicyContract
from sim2real_runtime.errors import MissingInputError
from sim2real_runtime.joint_map import JointMap
from sim2real_runtime.state import ImuReading, RobotState


@dataclass(frozen=True)
class ObservationInputs:
    """Everything one observation is built from."""

    state: RobotState
    """Measured joints and IMU."""
    position: np.ndarray
    """Positions of the joints the policy reads, in :attr:`ObservationBuilder.joints_read` order."""
    velocity: np.ndarray
    """Velocities of the same joints."""
    columns: dict[tuple[str, ...], np.ndarray]
    """Where each term's joints sit in ``position`` and ``velocity`` (fixed by the contract)."""
    default_pose: dict[tuple[str, ...], np.ndarray]
    """The default pose of each term's joints."""
    command: np.ndarray
    """The command: velocity (vx, vy, yaw rate) or target position (x, y, z), as the contract names it."""
    last_action: np.ndarray
    """The previous policy action."""
    step: int
    """Control steps since the policy started (drives the gait phase)."""

    def joint_positions(self, joints: tuple[str, ...]) -> np.ndarray:
        """Positions of the named joints."""
        return self.position[self.columns[joints]]

    def joint_velocities(self, joints: tuple[str, ...]) -> np.ndarray:
        """Velocities of the named joints."""
        return self.velocity[self.columns[joints]]


def _imu(inputs: ObservationInputs, term: ObservationTermSpec) -> ImuReading:
    if inputs.state.imu is None:
        raise MissingInputError(f"observation term '{term.name}' needs an IMU reading; the robot state has none")
    return inputs.state.imu


def _projected_gravity(q: np.ndarray) -> np.ndarray:
    """Gravity's direction in the body frame of a (w, x, y, z) quaternion (normalized first).

    It is minus the last row of the world-from-body rotation matrix, worked out in scalars.
    """
    w, x, y, z = np.asarray(q, dtype=np.float64).tolist()
    norm = math.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / norm, x / norm, y / norm, z / norm
    return np.array([-2 * (x * z - w * y), -2 * (y * z + w * x), -(1 - 2 * (x * x + y * y))])


def _gait_phase(inputs: ObservationInputs, term: ObservationTermSpec) -> np.ndarray:
    period = int(term.period_steps or 1)
    phase = 2.0 * math.pi * (inputs.step % period) / period
    return np.array([math.sin(phase), math.cos(phase)])


Formula = Callable[[ObservationInputs, ObservationTermSpec], np.ndarray]

FORMULAS: dict[str, Formula] = {
    "joint_pos": lambda i, t: i.joint_positions(t.joints),
    "joint_pos_rel": lambda i, t: i.joint_positions(t.joints) - i.default_pose[t.joints],
    "joint_cos_sin": lambda i, t: np.concatenate(
        [np.cos(i.joint_positions(t.joints)), np.sin(i.joint_positions(t.joints))]
    ),
    "joint_vel": lambda i, t: i.joint_velocities(t.joints),
    "base_ang_vel": lambda i, t: np.asarray(_imu(i, t).angular_velocity, dtype=np.float64),
    "projected_gravity": lambda i, t: _projected_gravity(_imu(i, t).orientation_wxyz),
    "velocity_command": lambda i, t: i.command,
    "position_command": lambda i, t: i.command,
    "last_action": lambda i, t: i.last_action,
    "gait_phase": _gait_phase,
}
"""Raw value of each term kind."""


class ObservationBuilder:
    """Builds a contract's observation vector from measured state, command, last action and step count.

    What the contract fixes is worked out once: where each term's joints sit among the joints read, and each
    entry's scale and clip (so a tick scales and clips the whole vector in one step).
    """

    def __init__(self, contract: PolicyContract) -> None:
        self.contract = contract
        self.terms = contract.observation
        self.joints_read = tuple(dict.fromkeys(j for t in self.terms for j in t.joints))
        self._joint_map = JointMap(self.joints_read)
        default = dict(zip(contract.joint_names, contract.default_pose, strict=True))
        where = {joint: i for i, joint in enumerate(self.joints_read)}
        self._columns = {t.joints: np.array([where[j] for j in t.joints], dtype=np.int64) for t in self.terms}
        self._default_pose = {
            t.joints: np.array([default[j] for j in t.joints]) for t in self.terms if t.kind == "joint_pos_rel"
        }
        self._scale = np.concatenate([np.full(t.size, t.scale) for t in self.terms])
        self._clip = np.concatenate([np.full(t.size, np.inf if t.clip is None else t.clip) for t in self.terms])

    def build(self, state: RobotState, command: np.ndarray | None, last_action: np.ndarray, step: int) -> np.ndarray:
        """The float32 observation vector (``command`` None means zero command)."""
        indices = self._joint_map.indices(state.joint_names)
        inputs = ObservationInputs(
            state=state,
            position=np.asarray(state.position, dtype=np.float64)[indices],
            velocity=np.asarray(state.velocity, dtype=np.float64)[indices],
            columns=self._columns,
            default_pose=self._default_pose,
            command=np.zeros(self.contract.command_size) if command is None else np.asarray(command, dtype=np.float64),
            last_action=np.asarray(last_action, dtype=np.float64),
            step=step,
        )
        raw = np.concatenate([FORMULAS[term.kind](inputs, term) for term in self.terms], dtype=np.float64)
        return np.clip(self._scale * raw, -self._clip, self._clip).astype(np.float32)
