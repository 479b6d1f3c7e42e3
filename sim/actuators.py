"""Actuators as makers write them, turned into the torque motors the robot YAML's PD law drives.

A joint actuator applies ``gear * (gain * ctrl + b0 + b1 * length + b2 * velocity)`` to its joint, where
``length = gear * q`` and ``velocity = gear * dq``. A position servo (``<position kp kv>``, or a ``general``
actuator with an affine bias) is a PD law of its own, with joint-space stiffness ``-b1 gear^2`` and damping
``-b2 gear^2``; feeding the stack's PD torque into it would apply two PD laws. So every actuator of the
joint table with a bias becomes a motor (gain 1, gear 1, no bias, ``ctrlrange`` the effort limit), and the
servo's gains and force range become the defaults of the joint's ``kp``, ``kd`` and ``effort_limit``.
What cannot be a joint torque at all (activation dynamics, a gain that depends on state, a muscle) is
refused. Plain motors (fixed gain, no bias) are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

_FIXED = int(mujoco.mjtGain.mjGAIN_FIXED)
_NO_BIAS = int(mujoco.mjtBias.mjBIAS_NONE)
_AFFINE = int(mujoco.mjtBias.mjBIAS_AFFINE)
_NO_DYNAMICS = int(mujoco.mjtDyn.mjDYN_NONE)


@dataclass(frozen=True)
class DriveDefaults:
    """What an actuator of the MJCF says about its joint's PD law, in joint space."""

    kp: float
    """Stiffness of a servo (N m/rad or N/m); 0 for a motor."""
    kd: float
    """Damping of a servo (N m s/rad or N s/m); 0 for a motor."""
    effort_limit: float | None
    """Largest joint effort from the force range, control range (motors) or the joint's actuator force range."""


def actuator_problem(model: mujoco.MjModel, actuator: int) -> str | None:
    """Why the actuator cannot carry a PD torque to its joint (with the fix), or None when it can."""
    dynamics = int(model.actuator_dyntype[actuator])
    if dynamics != _NO_DYNAMICS:
        kind = mujoco.mjtDyn(dynamics).name.removeprefix("mjDYN_").lower()
        return f"has activation dynamics ({kind}), which delay a PD torque; remove its timeconst/dyntype in the MJCF"
    gain = int(model.actuator_gaintype[actuator])
    if gain != _FIXED:
        kind = mujoco.mjtGain(gain).name.removeprefix("mjGAIN_").lower()
        return f"has a {kind} gain, which is no joint torque; drive the joint with <motor> or <position> in the MJCF"
    bias = int(model.actuator_biastype[actuator])
    if bias not in (_NO_BIAS, _AFFINE):
        kind = mujoco.mjtBias(bias).name.removeprefix("mjBIAS_").lower()
        return f"has a {kind} bias, which is no joint torque; drive the joint with <motor> or <position> in the MJCF"
    if model.actuator_gear[actuator, 0] == 0.0 or (bias == _NO_BIAS and model.actuator_gainprm[actuator, 0] == 0.0):
        return "has zero gain or gear, so no torque reaches the joint; fix its gear/gainprm in the MJCF"
    return None


def is_servo(model: mujoco.MjModel, actuator: int) -> bool:
    """Whether the actuator adds a state-dependent force of its own (an affine bias: a position or velocity servo)."""
    return int(model.actuator_biastype[actuator]) == _AFFINE


def drive_defaults(model: mujoco.MjModel, actuator: int, joint: int) -> DriveDefaults:
    """The joint-space gains and effort limit the actuator implies (see the module docstring)."""
    gear = float(model.actuator_gear[actuator, 0])
    servo = is_servo(model, actuator)
    kp = -float(model.actuator_biasprm[actuator, 1]) * gear * gear if servo else 0.0
    kd = -float(model.actuator_biasprm[actuator, 2]) * gear * gear if servo else 0.0
    effort = None
    if model.actuator_forcelimited[actuator]:
        effort = abs(gear) * float(np.abs(model.actuator_forcerange[actuator]).max())
    elif not servo and model.actuator_ctrllimited[actuator]:
        per_ctrl = abs(gear * float(model.actuator_gainprm[actuator, 0]))
        effort = per_ctrl * float(np.abs(model.actuator_ctrlrange[actuator]).max())
    elif model.jnt_actfrclimited[joint]:
        effort = float(np.abs(model.jnt_actfrcrange[joint]).max())
    return DriveDefaults(kp=max(kp, 0.0), kd=max(kd, 0.0), effort_limit=effort if effort else None)


def make_motor(actuator: mujoco.MjsActuator, effort_limit: float) -> None:
    """Turn a servo of an ``MjSpec`` into a torque motor: gain 1, gear 1, no bias, ``ctrlrange`` +-``effort_limit``."""
    actuator.gaintype = mujoco.mjtGain.mjGAIN_FIXED
    actuator.gainprm = np.eye(1, len(actuator.gainprm)).ravel()
    actuator.biastype = mujoco.mjtBias.mjBIAS_NONE
    actuator.biasprm = np.zeros(len(actuator.biasprm))
    actuator.gear = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    actuator.inheritrange = 0.0
    actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    actuator.ctrlrange = [-effort_limit, effort_limit]
    actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_FALSE
