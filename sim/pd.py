"""Joint PD control at physics rate, with torque limits: what the motor drivers of a legged robot run.

The policy sets position targets once per control period; every physics step computes
``tau = clip(kp (q* - q) - kd dq, -effort, effort)`` from the joints' current state, as a robot's
motor driver does at 200 Hz-1 kHz. Holding one torque for the whole control period instead would be a
different (and softer) controller than the one the policy meets on hardware.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from sim.mjx_import import mjx
from sim.robot import Robot


@dataclass(frozen=True)
class JointPD:
    """Per-joint PD gains and limits of a robot, in policy order (nominal values from the robot YAML)."""

    qpos_adr: np.ndarray
    """Index into ``qpos`` of each actuated joint."""
    dof_adr: np.ndarray
    """Index into ``qvel`` of each actuated joint."""
    actuator_ids: np.ndarray
    """Motor (index into ``ctrl``) driving each actuated joint."""
    ctrl_size: int
    """Entries of ``ctrl`` (the model's actuator count)."""
    kp: np.ndarray
    """Stiffness."""
    kd: np.ndarray
    """Damping."""
    effort_limit: np.ndarray
    """Largest torque (or force) each motor applies."""
    effort_per_ctrl: np.ndarray
    """Joint torque per unit of ``ctrl`` (the motor's gear times gain)."""

    @classmethod
    def of(cls, robot: Robot) -> JointPD:
        """The robot YAML's gains and limits; its actuators must be plain motors."""
        model = robot.mj_model
        ids = robot.actuator_ids
        joints = robot.config.joints
        return cls(
            qpos_adr=np.asarray(robot.qpos_adr),
            dof_adr=np.asarray(robot.dof_adr),
            actuator_ids=np.asarray(ids),
            ctrl_size=model.nu,
            kp=np.array([j.kp for j in joints]),
            kd=np.array([j.kd for j in joints]),
            effort_limit=np.array([j.effort_limit for j in joints]),
            effort_per_ctrl=model.actuator_gear[ids, 0] * model.actuator_gainprm[ids, 0],
        )


def pd_torque(
    target: jax.Array, q: jax.Array, dq: jax.Array, kp: jax.Array, kd: jax.Array, effort_limit: jax.Array
) -> jax.Array:
    """``clip(kp (target - q) - kd dq, -effort_limit, effort_limit)``, per joint."""
    return jnp.clip(kp * (target - q) - kd * dq, -effort_limit, effort_limit)


def pd_physics(
    model: mjx.Model,
    data: mjx.Data,
    target: jax.Array,
    pd: JointPD,
    substeps: int,
    gain_scale: tuple[jax.Array, jax.Array, jax.Array],
) -> mjx.Data:
    """Step ``substeps`` physics steps toward ``target``, recomputing the PD torque before each one.

    ``gain_scale`` is ``(kp factor, kd factor, strength factor)`` per joint: this episode's randomization of
    the gains, and of the motor strength, which scales the delivered torque and so its limit too.
    """
    kp_scale, kd_scale, strength = gain_scale
    kp, kd = pd.kp * kp_scale, pd.kd * kd_scale
    blank = jnp.zeros(pd.ctrl_size)

    def one(_: int, d: mjx.Data) -> mjx.Data:
        tau = strength * pd_torque(target, d.qpos[pd.qpos_adr], d.qvel[pd.dof_adr], kp, kd, pd.effort_limit)
        return mjx.step(model, d.replace(ctrl=blank.at[pd.actuator_ids].set(tau / pd.effort_per_ctrl)))

    return jax.lax.fori_loop(0, substeps, one, data)
