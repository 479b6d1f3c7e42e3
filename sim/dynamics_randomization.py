"""Per-episode randomization of a legged robot's dynamics: a pure function of (model, parameters).

Every entry is drawn from ``U(low, high)`` at each reset (see :mod:`sim.randomization`); vectors draw
one value per body, joint or DoF independently. The model fields are rebuilt from the nominal model at
every step, so the parameters (a few dozen numbers) are what an env carries, and the privileged critic
can see them. Gains and motor strength are not model fields: the PD law (:mod:`sim.pd`) applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from pydantic import BaseModel, Field

from sim.mjx_import import mjx
from sim.randomization import UniformRange
from sim.robot import Robot
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG


class DynamicsRandomization(BaseModel):
    """Ranges of the per-episode dynamics randomization ([x, x] fixes a value; [1, 1] scales switch it off)."""

    model_config = FILE_MODEL_CONFIG

    friction: UniformRange = Field(
        (0.4, 1.0), description="Sliding friction of the ground and the feet (both set to it), U(low, high)."
    )
    link_mass_scale: UniformRange = Field(
        (0.9, 1.1), description="Mass (and inertia) factor of each body, U(low, high) per body."
    )
    base_added_mass: UniformRange = Field((-1.0, 1.0), description="Mass (kg) added to the base body, U(low, high).")
    base_com_offset: UniformRange = Field(
        (-0.05, 0.05), description="Shift (m) of the base's centre of mass, U(low, high) per axis."
    )
    kp_scale: UniformRange = Field((0.9, 1.1), description="PD stiffness factor, U(low, high) per joint.")
    kd_scale: UniformRange = Field((0.9, 1.1), description="PD damping factor, U(low, high) per joint.")
    motor_strength: UniformRange = Field(
        (0.9, 1.1), description="Delivered torque (and torque limit) factor, U(low, high) per joint."
    )
    armature_scale: UniformRange = Field(
        (1.0, 1.05), description="Rotor armature factor of each actuated joint, U(low, high) per joint."
    )
    damping_scale: UniformRange = Field(
        (0.9, 1.1), description="Passive joint damping factor of each actuated joint, U(low, high) per joint."
    )


@dataclass(frozen=True)
class DynamicsTargets:
    """The model ids the randomization touches."""

    bodies: np.ndarray
    """Every body but the world."""
    base: int
    """The base body."""
    friction_geoms: np.ndarray
    """The ground and the feet (empty for a robot without feet)."""
    dofs: np.ndarray
    """DoF of each actuated joint, in policy order."""

    @classmethod
    def of(cls, robot: Robot, model: mujoco.MjModel, ground: str | None) -> DynamicsTargets:
        """Ids on ``model`` (the robot's model, possibly with a terrain) by name; ``ground`` None: no friction."""
        feet = [model.geom(name).id for name in robot.config.foot_geoms]
        friction = [model.geom(ground).id, *feet] if ground is not None else []
        return cls(
            bodies=np.arange(1, model.nbody),
            base=model.body(robot.config.base_body).id,
            friction_geoms=np.array(friction, dtype=int),
            dofs=np.asarray(robot.dof_adr),
        )

    def sizes(self) -> dict[str, int]:
        """Entries drawn per parameter (the rest are scalars)."""
        joints = len(self.dofs)
        return {
            "link_mass_scale": len(self.bodies),
            "base_com_offset": 3,
            "kp_scale": joints,
            "kd_scale": joints,
            "motor_strength": joints,
            "armature_scale": joints,
            "damping_scale": joints,
        }


def randomize_dynamics(model: mjx.Model, params: dict[str, jax.Array], targets: DynamicsTargets) -> mjx.Model:
    """``model`` with this episode's draw of whichever of the :class:`DynamicsRandomization` entries ``params`` has.

    A body's inertia scales with its mass (the same shape, denser or lighter); mass added to the base
    scales the base's inertia by the same ratio. Gains and motor strength are left to the PD law.
    """
    bodies, base, dofs = targets.bodies, targets.base, targets.dofs
    fields: dict[str, jax.Array] = {}
    mass, inertia = model.body_mass, model.body_inertia
    if "link_mass_scale" in params:
        scale = jnp.ones(model.nbody).at[bodies].set(params["link_mass_scale"])
        mass, inertia = mass * scale, inertia * scale[:, None]
    if "base_added_mass" in params:
        added = jnp.maximum(mass[base] + params["base_added_mass"], 0.1 * mass[base])
        inertia = inertia.at[base].multiply(added / mass[base])
        mass = mass.at[base].set(added)
    if "link_mass_scale" in params or "base_added_mass" in params:
        fields.update(body_mass=mass, body_inertia=inertia)
    if "base_com_offset" in params:
        fields["body_ipos"] = model.body_ipos.at[base].add(params["base_com_offset"])
    if "friction" in params and targets.friction_geoms.size:
        fields["geom_friction"] = model.geom_friction.at[targets.friction_geoms, 0].set(params["friction"])
    if "armature_scale" in params:
        fields["dof_armature"] = model.dof_armature.at[dofs].multiply(params["armature_scale"])
    if "damping_scale" in params:
        fields["dof_damping"] = model.dof_damping.at[dofs].multiply(params["damping_scale"])
    return model.replace(**fields)
