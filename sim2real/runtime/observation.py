"""The observation vector from measured robot state, in numpy: the formulas of ``sim.observation``, again.

Joints are matched by NAME: the state may list them in any order and may carry joints the policy does
not read. A joint the policy reads but the state lacks raises :class:`MissingInputError`; an IMU term
without an IMU reading does too. Nothing here adds noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim2real.runtime.contract import ObservationTermSpec, PolicyContract
from sim2real.runtime.errors import MissingInputError
from sim2real.runtime.joint_map import JointMap
from sim2real.runtime.state import ImuReading, RobotState


@dataclass(frozen=True)
class ObservationInputs:
    """Everything one observation is built from."""

    state: RobotState
    """Measured joints and IMU."""
    positions: dict[str, float]
    """Joint positions by name."""
    velocities: dict[str, float]
    """Joint velocities by name."""
    command: np.ndarray
    """The command: velocity (vx, vy, yaw rate) or target position (x, y, z), as the contract names it."""
    last_action: np.ndarray
    """The previous policy action."""
    step: int
    """Control steps since the policy started (drives the gait phase)."""


def _imu(inputs: ObservationInputs, term: ObservationTermSpec) -> ImuReading:
    if inputs.state.imu is None:
        raise MissingInputError(f"observation term '{term.name}' needs an IMU reading; the robot state has none")
    return inputs.state.imu


def _rotation_wxyz(q: np.ndarray) -> np.ndarray:
    """World-from-body rotation matrix of a (w, x, y, z) quaternion (normalized first)."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _joint_values(values: dict[str, float], term: ObservationTermSpec) -> np.ndarray:
    return np.array([values[j] for j in term.joints])


def _gait_phase(inputs: ObservationInputs, term: ObservationTermSpec) -> np.ndarray:
    period = int(term.period_steps or 1)
    phase = 2.0 * np.pi * (inputs.step % period) / period
    return np.array([np.sin(phase), np.cos(phase)])


Formula = Callable[[ObservationInputs, ObservationTermSpec], np.ndarray]

FORMULAS: dict[str, Formula] = {
    "joint_pos": lambda i, t: _joint_values(i.positions, t),
    "joint_cos_sin": lambda i, t: np.concatenate(
        [np.cos(_joint_values(i.positions, t)), np.sin(_joint_values(i.positions, t))]
    ),
    "joint_vel": lambda i, t: _joint_values(i.velocities, t),
    "base_ang_vel": lambda i, t: np.asarray(_imu(i, t).angular_velocity, dtype=np.float64),
    "projected_gravity": lambda i, t: -_rotation_wxyz(_imu(i, t).orientation_wxyz)[2],
    "velocity_command": lambda i, t: i.command,
    "position_command": lambda i, t: i.command,
    "last_action": lambda i, t: i.last_action,
    "gait_phase": _gait_phase,
}
"""Raw value of each term kind (``joint_pos_rel`` is ``joint_pos`` minus the default pose, see below)."""


class ObservationBuilder:
    """Builds a contract's observation vector from measured state, command, last action and step count."""

    def __init__(self, contract: PolicyContract) -> None:
        self.contract = contract
        self.terms = contract.observation
        self.joints_read = tuple(dict.fromkeys(j for t in self.terms for j in t.joints))
        self._default = dict(zip(contract.joint_names, contract.default_pose, strict=True))
        self._joint_map = JointMap(self.joints_read)

    def build(self, state: RobotState, command: np.ndarray | None, last_action: np.ndarray, step: int) -> np.ndarray:
        """The float32 observation vector (``command`` None means zero command)."""
        indices = self._joint_map.indices(state.joint_names)
        position = np.asarray(state.position, dtype=np.float64)[indices]
        velocity = np.asarray(state.velocity, dtype=np.float64)[indices]
        inputs = ObservationInputs(
            state=state,
            positions=dict(zip(self.joints_read, position.tolist(), strict=True)),
            velocities=dict(zip(self.joints_read, velocity.tolist(), strict=True)),
            command=np.zeros(self.contract.command_size) if command is None else np.asarray(command, dtype=np.float64),
            last_action=np.asarray(last_action, dtype=np.float64),
            step=step,
        )
        return np.concatenate([self._term(term, inputs) for term in self.terms]).astype(np.float32)

    def _term(self, term: ObservationTermSpec, inputs: ObservationInputs) -> np.ndarray:
        if term.kind == "joint_pos_rel":
            raw = _joint_values(inputs.positions, term) - np.array([self._default[j] for j in term.joints])
        else:
            raw = np.asarray(FORMULAS[term.kind](inputs, term), dtype=np.float64)
        value = term.scale * raw
        return value if term.clip is None else np.clip(value, -term.clip, term.clip)
