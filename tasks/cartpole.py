"""Cart-pole balance and swing-up: the DeepMind Control Suite tasks, with per-episode randomization.

Dynamics, observation and reward follow dm_control's cart-pole as MuJoCo Playground runs it in MJX
(CartpoleBalance / CartpoleSwingup): 10 ms control, 1000-step episodes, a per-step reward in [0, 1], so
returns compare directly. The two variants differ only in their start pose (the ``START_POSES`` table).

On top of the reference task, each episode draws the pole mass and length, the cart damping and the
actuator gain (``CartpoleRandomization``); the actor may see uniform observation noise and delayed
actions; the critic sees the clean state and the episode's randomization parameters.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, Field

from sim.env import EnvConfig, MirrorMap, MjxEnv, Observation
from sim.mjx_import import mjx
from sim.observation import ObservationTerm
from sim.randomization import UniformRange, as_vector
from sim.robot import Robot
from sim.task_goal import LearningGoal, TaskGoal
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG
from tasks.registry import TaskSpec, register
from tasks.shaping import tolerance


class CartpoleRandomization(BaseModel):
    """Per-episode randomization; each entry multiplies a model quantity by ``U(low, high)``."""

    model_config = FILE_MODEL_CONFIG

    pole_mass_scale: UniformRange = Field((0.8, 1.2), description="Pole mass factor, U(low, high).")
    pole_length_scale: UniformRange = Field(
        (0.9, 1.1), description="Pole length factor, U(low, high); moves its CoM and scales its inertia."
    )
    cart_damping_scale: UniformRange = Field((0.5, 2.0), description="Cart slider damping factor, U(low, high).")
    actuator_gain_scale: UniformRange = Field((0.9, 1.1), description="Motor gain factor, U(low, high).")


class CartpoleNoise(BaseModel):
    """Half-widths of the uniform noise on the actor's observation (the critic stays clean)."""

    model_config = FILE_MODEL_CONFIG

    cart_position: float = Field(0.0, ge=0.0, description="Cart position noise (m).")
    pole_angle: float = Field(0.0, ge=0.0, description="Noise on the pole angle's cosine and sine.")
    cart_velocity: float = Field(0.0, ge=0.0, description="Cart velocity noise (m/s).")
    pole_angular_velocity: float = Field(0.0, ge=0.0, description="Pole angular velocity noise (rad/s).")


class CartpoleConfig(EnvConfig):
    """Cart-pole task config (dm_control timing by default)."""

    sim_dt: float = Field(0.01, gt=0.0, description="Physics step in seconds (dm_control: 0.01).")
    control_dt: float = Field(0.01, gt=0.0, description="Control period in seconds (dm_control: 0.01).")
    episode_length: int = Field(1000, gt=0, description="Control steps per episode (dm_control: 1000).")
    start: Literal["upright", "hanging"] = Field(
        "upright", description="Start pose, a row of START_POSES: 'upright' (balance) or 'hanging' (swing-up)."
    )
    randomization: CartpoleRandomization = Field(
        default_factory=CartpoleRandomization, description="Per-episode domain randomization ranges."
    )
    obs_noise: CartpoleNoise = Field(default_factory=CartpoleNoise, description="Actor observation noise.")


class StartPose(NamedTuple):
    """How an episode's initial state is drawn."""

    cart: tuple[Literal["uniform", "normal"], float]
    """Cart position distribution: U(-w, w) or N(0, w^2)."""
    pole_center: float
    """Mean pole angle (0 is upright)."""
    pole: tuple[Literal["uniform", "normal"], float]
    """Pole angle spread around ``pole_center``."""


START_POSES: dict[str, StartPose] = {
    "upright": StartPose(cart=("uniform", 0.1), pole_center=0.0, pole=("uniform", 0.034)),
    "hanging": StartPose(cart=("normal", 0.01), pole_center=math.pi, pole=("normal", 0.01)),
}
"""Start distributions of the two dm_control tasks; initial velocities are N(0, 0.01^2) in both."""

_SLIDER, _HINGE, _POLE_BODY, _POLE_GEOM = "slider", "hinge", "pole", "pole"


def _spread(rng: jax.Array, kind: str, width: float) -> jax.Array:
    """A scalar drawn from U(-width, width) or N(0, width^2)."""
    if kind == "uniform":
        return jax.random.uniform(rng, (), minval=-width, maxval=width)
    return width * jax.random.normal(rng, ())


def upright(cos_angle: jax.Array) -> jax.Array:
    """1 with the pole straight up, 0 straight down."""
    return (cos_angle + 1.0) / 2.0


def centered(cart_position: jax.Array) -> jax.Array:
    """1 at the rail centre, falling to 0.55 two metres away."""
    return (1.0 + tolerance(cart_position, margin=2.0)) / 2.0


def small_control(force: jax.Array) -> jax.Array:
    """1 for no force, 0.8 at full force (quadratic)."""
    return (4.0 + tolerance(force, margin=1.0, value_at_margin=0.0, sigmoid="quadratic")) / 5.0


def small_velocity(angular_velocity: jax.Array) -> jax.Array:
    """1 for a still pole, 0.55 at 5 rad/s."""
    return (1.0 + tolerance(angular_velocity, margin=5.0)) / 2.0


class CartpoleEnv(MjxEnv):
    """Cart-pole: push the cart (one action in [-1, 1]) to bring or keep the pole upright."""

    config: CartpoleConfig
    GOAL: ClassVar[TaskGoal] = TaskGoal(learning=LearningGoal("return", 900.0))
    """No command; learned at a mean eval return of 900 (of 1000)."""

    @classmethod
    def reward_terms(cls) -> tuple[str, ...]:
        """The four factors of the reward."""
        return ("upright", "centered", "small_control", "small_velocity")

    def __init__(self, robot: Robot, config: CartpoleConfig) -> None:
        super().__init__(robot, config)
        model = self.mj_model
        try:
            slider, hinge = model.joint(_SLIDER), model.joint(_HINGE)
            self._pole_body, self._pole_geom = model.body(_POLE_BODY).id, model.geom(_POLE_GEOM).id
        except KeyError as exc:
            raise ConfigError.single(robot.mjcf_path, "-", f"the cart-pole task needs {exc} in the MJCF") from None
        self._slider_q, self._hinge_q = int(slider.qposadr[0]), int(hinge.qposadr[0])
        self._slider_v, self._hinge_v = int(slider.dofadr[0]), int(hinge.dofadr[0])
        self._actuator = int(robot.actuator_ids[0])
        self._gear = float(model.actuator_gear[self._actuator, 0])
        self._pole_axial = int(np.argmin(model.body_inertia[self._pole_body]))
        self._start = START_POSES[config.start]

    def initial_state(self, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Draw the start pose of ``config.start`` and small random velocities."""
        cart_key, pole_key, vel_key = jax.random.split(rng, 3)
        qpos = jnp.zeros(self.mj_model.nq)
        qpos = qpos.at[self._slider_q].set(_spread(cart_key, *self._start.cart))
        qpos = qpos.at[self._hinge_q].set(self._start.pole_center + _spread(pole_key, *self._start.pole))
        return qpos, 0.01 * jax.random.normal(vel_key, (self.mj_model.nv,))

    def control(self, action: jax.Array) -> jax.Array:
        """Motor input for the force ``action_scale * clip(action, -1, 1)`` on the cart (N), through the gear."""
        return jnp.clip(action, -1.0, 1.0) * self.robot.config.action_scale / self._gear

    def actor_terms(self) -> list[ObservationTerm]:
        """Cart position, cos/sin of the pole angle, then both velocities, each with its configured noise."""
        noise = self.config.obs_noise
        return [
            ObservationTerm("cart_position", "joint_pos", (_SLIDER,), noise=noise.cart_position),
            ObservationTerm("pole_angle", "joint_cos_sin", (_HINGE,), noise=noise.pole_angle),
            ObservationTerm("cart_velocity", "joint_vel", (_SLIDER,), noise=noise.cart_velocity),
            ObservationTerm("pole_angular_velocity", "joint_vel", (_HINGE,), noise=noise.pole_angular_velocity),
        ]

    def observe(self, data: mjx.Data, info: dict) -> Observation:
        """Actor: the terms of :meth:`actor_terms`; the critic adds the episode's DR parameters."""
        actor = self.actor_layout(data, info)
        return {"actor": actor, "critic": jnp.concatenate([actor, as_vector(info["dr"])])}

    def mirror_map(self) -> MirrorMap:
        """Reflecting the rail negates cart position, pole sine, both velocities and the force."""
        actor_sign = np.array([-1.0, 1.0, -1.0, -1.0, -1.0])
        critic_sign = np.concatenate([actor_sign, np.ones(len(self.randomization_ranges()))])
        return {
            "actor": (np.arange(actor_sign.size), actor_sign),
            "critic": (np.arange(critic_sign.size), critic_sign),
            "action": (np.zeros(1, dtype=int), -np.ones(1)),
        }

    def reward(self, data: mjx.Data, action: jax.Array, info: dict) -> tuple[jax.Array, dict[str, jax.Array]]:
        """dm_control's smooth reward: the product of four terms, each in [0, 1]."""
        del info
        terms = {
            "upright": upright(jnp.cos(data.qpos[self._hinge_q])),
            "centered": centered(data.qpos[self._slider_q]),
            "small_control": small_control(jnp.clip(action[0], -1.0, 1.0)),
            "small_velocity": small_velocity(data.qvel[self._hinge_v]),
        }
        return math.prod(terms.values()), terms

    def randomization_ranges(self) -> dict[str, tuple[float, float]]:
        """The ranges of ``config.randomization``, by name."""
        return self.config.randomization.model_dump()

    def randomized_model(self, params: dict[str, jax.Array]) -> mjx.Model:
        """Apply this episode's factors to the pole, the cart damping and the motor gain.

        The pole is treated as a thin rod for its inertia (transverse inertia scales with mass times
        length squared, axial with mass). The model's constant ``*_invweight0`` fields, which only set
        the softness of the slider's limit, keep their nominal values.
        """
        m = self.mjx_model
        mass, length = params["pole_mass_scale"], params["pole_length_scale"]
        transverse = jnp.ones(3).at[self._pole_axial].set(0.0)
        inertia_scale = mass * (1.0 + transverse * (length**2 - 1.0))
        pole, geom = self._pole_body, self._pole_geom
        return m.replace(
            body_mass=m.body_mass.at[pole].multiply(mass),
            body_inertia=m.body_inertia.at[pole].multiply(inertia_scale),
            body_ipos=m.body_ipos.at[pole].multiply(length),
            geom_pos=m.geom_pos.at[geom].multiply(length),
            geom_size=m.geom_size.at[geom, 1].multiply(length),
            dof_damping=m.dof_damping.at[self._slider_v].multiply(params["cart_damping_scale"]),
            actuator_gainprm=m.actuator_gainprm.at[self._actuator, 0].multiply(params["actuator_gain_scale"]),
        )


_VARIANTS = {
    "cartpole_balance": ("upright", "Keep the pole upright from a near-upright start (dm_control balance)."),
    "cartpole_swingup": ("hanging", "Swing the pole up from hanging and keep it up (dm_control swing-up)."),
}

for _name, (_start, _description) in _VARIANTS.items():
    register(
        TaskSpec(
            name=_name,
            description=_description,
            env_class=CartpoleEnv,
            config_class=CartpoleConfig,
            defaults={"start": _start},
            robot="cartpole",
        )
    )
