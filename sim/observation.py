"""Actor observations as an ordered list of named terms: the formulas in JAX, the layout a policy contract records.

A task declares its actor observation as :class:`ObservationTerm` rows (a table, not code); the env
builds the vector with :class:`ObservationLayout`, and export writes the same rows into the policy
contract, where ``sim2real_runtime`` rebuilds the vector from robot sensors with numpy. The two
implementations of each kind are checked against each other by the tests, entry by entry.

Each term's value is ``clip(scale * raw, -clip, clip)`` (no clip when ``clip`` is None), where ``raw`` is:

========================  =====================  ==================================================
kind                      size                   raw value
========================  =====================  ==================================================
``joint_pos``             one per joint          joint position (rad or m)
``joint_pos_rel``         one per joint          joint position minus its default pose (actuated joints)
``joint_cos_sin``         two per joint          cos of every joint angle, then sin of every joint angle
``joint_vel``             one per joint          joint velocity
``base_ang_vel``          3                      IMU angular velocity in the IMU frame
``projected_gravity``     3                      unit gravity direction in the IMU frame
``velocity_command``      3                      commanded (vx, vy, yaw rate), ``info["command"]``
``position_command``      3                      commanded target (x, y, z) in the base frame, ``info["command"]``
``last_action``           one per action         the previous policy action, ``info["last_action"]``
``gait_phase``            2                      sin, cos of ``2 pi (step mod period_steps) / period_steps``
========================  =====================  ==================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from sim.mjx_import import mjx
from sim.robot import Robot
from sim2real_runtime.errors import ConfigError

JOINT_KINDS = ("joint_pos", "joint_pos_rel", "joint_cos_sin", "joint_vel")
"""Kinds that read the joints they list."""
IMU_KINDS = ("base_ang_vel", "projected_gravity")
"""Kinds that read the robot's IMU site."""
TERM_KINDS = (*JOINT_KINDS, *IMU_KINDS, "velocity_command", "position_command", "last_action", "gait_phase")
"""Every kind of observation term."""


@dataclass(frozen=True)
class ObservationTerm:
    """One named block of the actor observation."""

    name: str
    """Label of the block (unique within an observation), e.g. ``pole_angle``."""
    kind: str
    """Formula, one of :data:`TERM_KINDS`."""
    joints: tuple[str, ...] = ()
    """Joints read by the joint kinds, by MJCF name (passive joints allowed, except for ``joint_pos_rel``)."""
    scale: float = 1.0
    """Multiplies the raw value."""
    clip: float | None = None
    """Symmetric bound applied after scaling; None for none."""
    noise: float = 0.0
    """Half-width of the uniform noise training adds to each entry (observation units); deployment adds none."""
    period_steps: int | None = None
    """Gait period in control steps (``gait_phase`` only)."""

    def size(self, action_size: int) -> int:
        """Number of entries this term contributes."""
        if self.kind == "joint_cos_sin":
            return 2 * len(self.joints)
        if self.kind in JOINT_KINDS:
            return len(self.joints)
        if self.kind == "last_action":
            return action_size
        return 2 if self.kind == "gait_phase" else 3

    def as_dict(self, action_size: int) -> dict[str, Any]:
        """The term as the policy contract records it (with its size)."""
        return {**asdict(self), "joints": list(self.joints), "size": self.size(action_size)}


def _check_term(term: ObservationTerm, robot: Robot, joint_names: list[str]) -> str | None:
    """Why ``term`` cannot be built on ``robot``, or None when it can."""
    if term.kind not in TERM_KINDS:
        return f"unknown kind '{term.kind}' (kinds: {', '.join(TERM_KINDS)})"
    if term.kind in JOINT_KINDS and not term.joints:
        return "lists no joints"
    missing = [j for j in term.joints if j not in joint_names]
    if missing:
        return f"joint(s) {', '.join(missing)} not in the MJCF"
    if term.kind == "joint_pos_rel" and any(j not in robot.joint_names for j in term.joints):
        return "joint_pos_rel needs actuated joints (they have a default pose)"
    if term.kind in IMU_KINDS and robot.config.imu_site is None:
        return f"{term.kind} needs an imu_site in the robot YAML"
    if term.kind == "gait_phase" and (term.period_steps is None or term.period_steps < 1):
        return "gait_phase needs period_steps >= 1"
    return None


class ObservationLayout:
    """Builds the actor observation of a robot's MJX data from a list of terms."""

    def __init__(self, terms: list[ObservationTerm], robot: Robot, mj_model: mujoco.MjModel) -> None:
        joint_names = [mj_model.joint(i).name for i in range(mj_model.njnt)]
        names = [t.name for t in terms]
        for term in terms:
            problem = _check_term(term, robot, joint_names)
            if names.count(term.name) > 1:
                problem = "named twice; give each term its own name"
            if problem:
                raise ConfigError.single(robot.yaml_path, f"observation term '{term.name}'", problem)
        self.terms = tuple(terms)
        self.action_size = len(robot.joint_names)
        self._qpos = {j: int(mj_model.joint(j).qposadr[0]) for t in terms for j in t.joints}
        self._dof = {j: int(mj_model.joint(j).dofadr[0]) for t in terms for j in t.joints}
        self._default = dict(zip(robot.joint_names, robot.default_pose.tolist(), strict=True))
        imu = robot.config.imu_site
        self._imu_site = mj_model.site(imu).id if imu is not None else -1
        self._imu_body = int(mj_model.site_bodyid[self._imu_site]) if imu is not None else -1

    @property
    def size(self) -> int:
        """Entries of the whole observation."""
        return sum(t.size(self.action_size) for t in self.terms)

    def contract_terms(self) -> list[dict[str, Any]]:
        """The terms as the policy contract records them, in order."""
        return [t.as_dict(self.action_size) for t in self.terms]

    def noise_scale(self) -> np.ndarray | None:
        """Per-entry training noise half-widths, or None when every term is noise-free."""
        scale = np.concatenate([np.full(t.size(self.action_size), t.noise) for t in self.terms])
        return scale if scale.any() else None

    def __call__(self, data: mjx.Data, info: dict[str, Any]) -> jax.Array:
        """The noise-free observation vector of ``data`` (``info`` supplies command, last action, step)."""
        return jnp.concatenate([self._term(term, data, info) for term in self.terms])

    def joint_positions(self, data: mjx.Data, joints: tuple[str, ...]) -> jax.Array:
        """Positions of the named joints."""
        return jnp.stack([data.qpos[self._qpos[j]] for j in joints])

    def joint_velocities(self, data: mjx.Data, joints: tuple[str, ...]) -> jax.Array:
        """Velocities of the named joints."""
        return jnp.stack([data.qvel[self._dof[j]] for j in joints])

    def default_pose(self, joints: tuple[str, ...]) -> jax.Array:
        """Default pose of the named actuated joints."""
        return jnp.array([self._default[j] for j in joints])

    def imu_rotation(self, data: mjx.Data) -> jax.Array:
        """World-from-IMU rotation matrix."""
        return data.site_xmat[self._imu_site]

    def imu_body_angular_velocity(self, data: mjx.Data) -> jax.Array:
        """World-frame angular velocity of the body carrying the IMU."""
        return data.cvel[self._imu_body, :3]

    def _term(self, term: ObservationTerm, data: mjx.Data, info: dict[str, Any]) -> jax.Array:
        value = term.scale * FORMULAS[term.kind](self, term, data, info)
        return value if term.clip is None else jnp.clip(value, -term.clip, term.clip)


def _gait_phase(step: jax.Array, period_steps: int) -> jax.Array:
    """Sin and cos of the phase angle ``2 pi (step mod period) / period``."""
    phase = 2.0 * jnp.pi * jnp.mod(step, period_steps) / period_steps
    return jnp.stack([jnp.sin(phase), jnp.cos(phase)])


Formula = Callable[[ObservationLayout, ObservationTerm, mjx.Data, dict[str, Any]], jax.Array]

FORMULAS: dict[str, Formula] = {
    "joint_pos": lambda o, t, d, i: o.joint_positions(d, t.joints),
    "joint_pos_rel": lambda o, t, d, i: o.joint_positions(d, t.joints) - o.default_pose(t.joints),
    "joint_cos_sin": lambda o, t, d, i: jnp.concatenate(
        [jnp.cos(o.joint_positions(d, t.joints)), jnp.sin(o.joint_positions(d, t.joints))]
    ),
    "joint_vel": lambda o, t, d, i: o.joint_velocities(d, t.joints),
    "base_ang_vel": lambda o, t, d, i: o.imu_rotation(d).T @ o.imu_body_angular_velocity(d),
    "projected_gravity": lambda o, t, d, i: -o.imu_rotation(d)[2],
    "velocity_command": lambda o, t, d, i: i["command"],
    "position_command": lambda o, t, d, i: i["command"],
    "last_action": lambda o, t, d, i: i["last_action"],
    "gait_phase": lambda o, t, d, i: _gait_phase(i["step"], t.period_steps),
}
"""Raw value of each term kind, the table of the module docstring."""
