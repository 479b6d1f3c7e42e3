"""The env contract: a pure, brax-compatible single-instance env over an MJX model.

``reset(rng) -> State`` and ``step(State, action) -> State``; ``State.obs`` is a dict with ``actor`` and
``critic`` arrays. A task subclasses :class:`MjxEnv` and fills in its hooks (initial state, control
mapping, observation, reward terms, termination, randomization); this class owns what every task shares:
physics sub-stepping, per-episode domain randomization, the action-delay buffer, observation noise, NaN
termination, the time limit and the truncation flag. Batching and auto-reset live in
:mod:`sim.batched`.

A curriculum is state an env carries from one episode to the next (a terrain level, a penalty scale):
``info["curriculum"]``, updated by the task when an episode ends and handed to the next ``reset``.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Iterable, Mapping
from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np
from brax.envs.base import Env, State
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from sim import delay
from sim.mjx_import import mjx
from sim.mjx_limits import to_mjx
from sim.noise import add_uniform_noise
from sim.observation import ObservationLayout, ObservationTerm
from sim.randomization import sample_uniform_params
from sim.robot import Robot
from sim.task_goal import TaskGoal
from sim2real_runtime.errors import Problem
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG

Observation = dict[str, jax.Array]
"""An observation: ``{"actor": ..., "critic": ...}``."""

MirrorMap = dict[str, tuple[np.ndarray, np.ndarray]]
"""Left/right mirror of ``actor``, ``critic`` and ``action``: ``(index, sign)``, ``y[i] = sign[i] * x[index[i]]``."""


class EnvConfig(BaseModel):
    """Settings every task shares; a task's config extends it."""

    model_config = FILE_MODEL_CONFIG

    robot: str | None = Field(
        None,
        description="Robot to run on: a shipped robot name or a robot YAML path (in a YAML file, relative to that "
        "file); default: the task's own robot.",
    )
    sim_dt: float = Field(gt=0.0, description="Physics step in seconds (replaces the MJCF timestep).")
    control_dt: float = Field(gt=0.0, description="Control period in seconds; a whole multiple of sim_dt.")
    episode_length: int = Field(gt=0, description="Control steps per episode; reaching it truncates.")
    action_delay_steps: int = Field(
        0, ge=0, le=20, description="Largest action delay in control steps; each episode draws U{0..k}."
    )
    mjx_impl: Literal["jax", "warp"] = Field(
        "jax",
        description="MJX implementation: jax (any device) or warp (NVIDIA Warp kernels; needs the warp-lang "
        "package, as mujoco-mjx[warp] installs it, and a CUDA GPU to be worth it).",
    )

    @field_validator("control_dt")
    @classmethod
    def _control_multiple_of_sim(cls, control_dt: float, info: ValidationInfo) -> float:
        sim_dt = info.data.get("sim_dt")
        if sim_dt is not None:
            ratio = control_dt / sim_dt
            if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-6:
                raise ValueError(f"{control_dt} is not a whole multiple of sim_dt {sim_dt}; make it one")
        return control_dt


def unknown_reward_terms(source: str, weights: Mapping[str, float], known: Iterable[str]) -> list[Problem]:
    """One problem per term of a ``reward_weights`` table that is not in ``known``, naming the known terms."""
    terms = sorted(known)
    message = f"unknown reward term; known terms: {', '.join(terms)}"
    return [Problem(source, f"reward_weights.{term}", message) for term in weights if term not in terms]


def placed(model: mjx.Model, data: mjx.Data) -> mjx.Data:
    """``data`` with every body's, geom's and site's pose and velocity computed from its ``qpos`` and ``qvel``.

    What a new episode's first observation reads, at a tenth of ``mjx.forward``'s cost (no contacts, no
    constraint solve: the first ``mjx.step`` computes those from ``qpos`` and ``qvel`` anyway). Batched
    envs reset on almost every step at scale, so this is most of an auto-reset's cost.
    """
    return mjx.com_vel(model, mjx.com_pos(model, mjx.kinematics(model, data)))


class MjxEnv(Env):
    """Base class of every task: the shared reset/step template around the task's hooks."""

    GOAL: ClassVar[TaskGoal] = TaskGoal()
    """The task's command, tracking terms and learning goal (see :mod:`sim.task_goal`); none by default."""

    def __init__(self, robot: Robot, config: EnvConfig) -> None:
        self.robot = robot
        self.config = config
        mj_model = copy.deepcopy(robot.mj_model)
        mj_model.opt.timestep = config.sim_dt
        self.mj_model = mj_model
        self.mjx_model, self._blank_data = to_mjx(mj_model, config.mjx_impl, robot.mjcf_path)
        self.n_substeps = round(config.control_dt / config.sim_dt)
        self.actor_layout = ObservationLayout(self.actor_terms(), robot, mj_model)
        self._noise_scale = self.actor_layout.noise_scale()

    # ---- hooks a task implements -------------------------------------------------------------------
    @abc.abstractmethod
    def initial_state(self, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Draw the episode's initial ``(qpos, qvel)``."""

    def start_episode(
        self, rng: jax.Array, curriculum: dict[str, jax.Array]
    ) -> tuple[jax.Array, jax.Array, dict[str, jax.Array]]:
        """Initial ``(qpos, qvel)`` and extra ``info`` entries of an episode (commands, timers, spawn point)."""
        del curriculum
        return (*self.initial_state(rng), {})

    def initial_curriculum(self, rng: jax.Array) -> dict[str, jax.Array]:
        """Curriculum state of an env's first episode; empty for tasks without a curriculum."""
        del rng
        return {}

    @classmethod
    def config_problems(cls, config: EnvConfig, source: str) -> list[Problem]:
        """What in ``config`` (read from ``source``) only the task can refuse, e.g. reward terms it lacks; none here."""
        del config, source
        return []

    @classmethod
    def reward_terms(cls) -> tuple[str, ...]:
        """Names of every reward term the task can weigh and report (``reward/<name>`` metrics); none here."""
        return ()

    @classmethod
    def evaluation_overrides(cls) -> dict:
        """Config overrides of the env that evaluates a policy (training curricula off); empty by default."""
        return {}

    def update_info(
        self, info: dict, data: mjx.Data, applied: jax.Array, terminated: jax.Array, truncated: jax.Array
    ) -> dict:
        """``info`` after a transition, before the observation is taken (resampled commands, the curriculum)."""
        del data, applied, terminated, truncated
        return info

    def advance(self, model: mjx.Model, data: mjx.Data, applied: jax.Array, info: dict) -> mjx.Data:
        """One control period of physics driven by the (delayed) action; default: hold ``control(applied)``."""
        del info
        return self.physics_step(model, data, self.control(applied))

    @abc.abstractmethod
    def control(self, action: jax.Array) -> jax.Array:
        """Map a policy action (after delay) to the MJX ``ctrl`` vector."""

    @abc.abstractmethod
    def actor_terms(self) -> list[ObservationTerm]:
        """The actor observation as ordered terms (what a deployed policy is fed; see :mod:`sim.observation`)."""

    @abc.abstractmethod
    def observe(self, data: mjx.Data, info: dict) -> Observation:
        """Noise-free observation ``{"actor", "critic"}``; the actor part is ``self.actor_layout(data, info)``."""

    @abc.abstractmethod
    def reward(self, data: mjx.Data, action: jax.Array, info: dict) -> tuple[jax.Array, dict[str, jax.Array]]:
        """Return ``(reward, {term name: value})`` for the transition that produced ``data``."""

    def terminated(self, data: mjx.Data, info: dict) -> jax.Array:
        """Task-specific failure (a fall, a forbidden contact); NaN termination is handled here."""
        del data, info
        return jnp.array(False)

    def randomization_ranges(self) -> dict[str, tuple[float, float]]:
        """Named ``U(low, high)`` ranges drawn per episode; empty for no randomization."""
        return {}

    def randomization_sizes(self) -> dict[str, int]:
        """Entries drawn for each named range (independently); ranges not listed draw one scalar."""
        return {}

    def randomized_model(self, params: dict[str, jax.Array]) -> mjx.Model:
        """The MJX model with this episode's randomization parameters applied (pure)."""
        del params
        return self.mjx_model

    def command_ranges(self) -> dict[str, tuple[float, float]] | None:
        """Range of each entry of ``info["command"]``, in order, for commanded tasks; None for none."""
        return None

    def mirror_map(self) -> MirrorMap | None:
        """The task's left/right symmetry, when it has one (learners may mirror-augment with it)."""
        return None

    # ---- brax Env API -------------------------------------------------------------------------------
    @property
    def observation_size(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the ``actor`` and ``critic`` observations."""
        obs = jax.eval_shape(self.reset, jax.random.PRNGKey(0)).obs
        return {key: tuple(value.shape) for key, value in obs.items()}

    @property
    def action_size(self) -> int:
        """Number of action entries: one per actuated joint."""
        return len(self.robot.joint_names)

    @property
    def backend(self) -> str:
        """Physics backend name, as brax expects."""
        return "mjx"

    @property
    def dt(self) -> float:
        """Control period in seconds."""
        return self.config.control_dt

    def reset(self, rng: jax.Array, curriculum: dict[str, jax.Array] | None = None) -> State:
        """Start an episode: new initial state, new randomization parameters, new delay.

        ``curriculum`` is the state the env's previous episode left (None for a first episode).
        """
        rng, init_key, dr_key, delay_key, noise_key, curriculum_key = jax.random.split(rng, 6)
        if curriculum is None:
            curriculum = self.initial_curriculum(curriculum_key)
        params = sample_uniform_params(dr_key, self.randomization_ranges(), self.randomization_sizes())
        qpos, qvel, extra = self.start_episode(init_key, curriculum)
        data = placed(self.randomized_model(params), self._blank_data.replace(qpos=qpos, qvel=qvel))
        zero_action = jnp.zeros(self.action_size)
        info = {
            "rng": rng,
            "step": jnp.array(0, dtype=jnp.int32),
            "dr": params,
            "last_action": zero_action,
            "truncation": jnp.zeros((), jnp.float32),
            "curriculum": curriculum,
            **extra,
        }
        max_delay = self.config.action_delay_steps
        if max_delay:
            info["delay"] = delay.sample_delay(delay_key, max_delay)
            info["action_buffer"] = delay.empty_buffer(max_delay, self.action_size)
        _, terms = self.reward(data, zero_action, info)
        return State(
            pipeline_state=data,
            obs=self._noisy(noise_key, self.observe(data, info)),
            reward=jnp.zeros((), jnp.float32),
            done=jnp.zeros((), jnp.float32),
            metrics={f"reward/{name}": jnp.zeros_like(value) for name, value in terms.items()},
            info=info,
        )

    def step(self, state: State, action: jax.Array) -> State:
        """Advance one control period; marks ``done`` on failure, NaN or the time limit."""
        info = dict(state.info)
        applied = action
        if self.config.action_delay_steps:
            info["action_buffer"], applied = delay.push_and_read(info["action_buffer"], action, info["delay"])
        data = self.advance(self.randomized_model(info["dr"]), state.pipeline_state, applied, info)
        return self.transition(state.replace(info=info), data, applied, action)

    def transition(self, state: State, data: mjx.Data, applied: jax.Array, action: jax.Array) -> State:
        """Everything after the physics of a step: reward, termination, truncation, observation, info.

        ``data`` is the physics state one control period after ``state``, ``applied`` the action that
        drove it (after any delay) and ``action`` the policy's output. sim2sim calls this with data
        stepped by MuJoCo C, so both engines are scored by the same code.
        """
        info = dict(state.info)
        reward, terms = self.reward(data, applied, info)
        finite = jnp.isfinite(data.qpos).all() & jnp.isfinite(data.qvel).all()
        terminated = self.terminated(data, info) | ~finite
        step = info["step"] + 1
        truncated = (step >= self.config.episode_length) & ~terminated
        noise_key = None
        if self._noise_scale is not None:
            info["rng"], noise_key = jax.random.split(info["rng"])
        info.update(step=step, truncation=truncated.astype(jnp.float32))
        info = self.update_info(info, data, applied, terminated, truncated)
        info["last_action"] = action
        obs = self._noisy(noise_key, self.observe(data, info))
        return state.replace(
            pipeline_state=data,
            obs=jax.tree.map(lambda x: jnp.where(finite, x, 0.0), obs),
            reward=jnp.where(finite, reward, 0.0),
            done=(terminated | truncated).astype(jnp.float32),
            metrics={f"reward/{name}": jnp.where(finite, value, 0.0) for name, value in terms.items()},
            info=info,
        )

    # ---- shared pieces ------------------------------------------------------------------------------
    def data_from(self, fields: dict[str, jax.Array]) -> mjx.Data:
        """MJX data holding ``fields`` (arrays named as in ``mjx.Data``) and zeros elsewhere."""
        return self._blank_data.replace(**fields)

    def physics_step(self, model: mjx.Model, data: mjx.Data, ctrl: jax.Array) -> mjx.Data:
        """Hold ``ctrl`` for one control period of ``n_substeps`` physics steps."""
        data = data.replace(ctrl=ctrl)
        if self.n_substeps == 1:
            return mjx.step(model, data)
        return jax.lax.fori_loop(0, self.n_substeps, lambda _, d: mjx.step(model, d), data)

    def _noisy(self, rng: jax.Array | None, obs: Observation) -> Observation:
        """Add the actor's observation noise (the critic stays clean)."""
        if self._noise_scale is None or rng is None:
            return obs
        return {**obs, "actor": add_uniform_noise(rng, obs["actor"], self._noise_scale)}
