"""The task's own JAX code scores MuJoCo C states: same reset, randomization, reward, termination, observation.

sim2sim draws each episode with the task's ``reset`` (initial state, randomization parameters, commands),
copies the randomized model fields into the C model, and after every control period hands the C physics
state to the task's ``transition`` (see :meth:`sim.env.MjxEnv.transition`), so the return it reports is
the task's return, computed by the same code as in training.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import mujoco
import numpy as np
from brax.envs.base import State

from sim.env import MjxEnv


def _numeric_fields(jax_struct: Any, c_struct: Any) -> list[str]:
    """Top-level array fields present in both the MJX and the C struct (reshaped where MJX keeps 3x3)."""
    names = []
    for field in dataclasses.fields(jax_struct):
        c_value = getattr(c_struct, field.name, None)
        jax_value = getattr(jax_struct, field.name)
        if isinstance(c_value, np.ndarray) and hasattr(jax_value, "shape") and c_value.size == np.size(jax_value):
            names.append(field.name)
    return names


class TaskScorer:
    """Jitted pieces of a task that sim2sim runs on C physics states."""

    def __init__(self, env: MjxEnv) -> None:
        self.env = env
        c_data = mujoco.MjData(env.mj_model)
        blank = env.data_from({})
        self._data_fields = [n for n in _numeric_fields(blank, c_data) if n != "time"]
        self._data_shapes = {n: np.shape(getattr(blank, n)) for n in self._data_fields}
        self._model_fields = _numeric_fields(env.mjx_model, env.mj_model)
        self._nominal = {n: np.asarray(getattr(env.mjx_model, n)) for n in self._model_fields}
        self.reset = jax.jit(env.reset)
        self._randomized = jax.jit(
            lambda params: {n: getattr(env.randomized_model(params), n) for n in self._model_fields}
        )
        self._transition = jax.jit(self._score)
        self._clean = jax.jit(lambda state: env.actor_layout(state.pipeline_state, state.info))

    def randomized_fields(self, state: State) -> dict[str, np.ndarray]:
        """The C model fields this episode's randomization changes, with their values (C shapes)."""
        changed = {}
        for name, value in self._randomized(state.info["dr"]).items():
            value = np.asarray(value)
            if not np.array_equal(value, self._nominal[name]):
                changed[name] = value.reshape(getattr(self.env.mj_model, name).shape)
        return changed

    def mjx_data(self, data: mujoco.MjData) -> dict[str, np.ndarray]:
        """The C data's arrays, shaped and typed as the MJX data holds them."""
        return {
            name: np.asarray(getattr(data, name), dtype=np.float32).reshape(self._data_shapes[name])
            if np.issubdtype(getattr(data, name).dtype, np.floating)
            else np.asarray(getattr(data, name)).reshape(self._data_shapes[name])
            for name in self._data_fields
        } | {"time": np.float32(data.time)}

    def _score(
        self, state: State, fields: dict[str, jax.Array], applied: jax.Array, action: jax.Array
    ) -> tuple[State, jax.Array]:
        data = self.env.data_from(fields)
        stepped = self.env.transition(state, data, applied, action)
        return stepped, self.env.actor_layout(data, stepped.info)

    def transition(
        self, state: State, data: mujoco.MjData, applied: np.ndarray, action: np.ndarray
    ) -> tuple[State, np.ndarray]:
        """The task's step outcome for the C state ``data``, and its noise-free actor observation."""
        stepped, clean = self._transition(
            state, self.mjx_data(data), np.asarray(applied, np.float32), np.asarray(action, np.float32)
        )
        return stepped, np.asarray(clean)

    def clean_observation(self, state: State) -> np.ndarray:
        """The noise-free actor observation of a state (the task's formula)."""
        return np.asarray(self._clean(state))
