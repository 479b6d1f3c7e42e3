"""Noise-free evaluation on envs separate from the training envs, on plain arrays.

A policy here maps a batch of actor observations (a JAX array) to actions (any array JAX takes: numpy, JAX):
an ONNX runner in sim2sim, a Brax network, or a torch module behind :func:`policies.env_bridge.on_jax_arrays`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from sim.batched import BatchedEnv

ArrayPolicy = Callable[[jax.Array], ArrayLike]
"""Actor observations ``(envs, obs)`` -> deterministic actions ``(envs, actions)``."""


@dataclass(frozen=True)
class Episodes:
    """One finished episode per eval env."""

    returns: np.ndarray
    """Each episode's return."""
    lengths: np.ndarray
    """Each episode's length in control steps."""
    term_means: dict[str, np.ndarray]
    """Per reward term (``metrics`` name without ``reward/``): each episode's mean value per step."""


class Evaluator:
    """Plays one episode in each of ``num_envs`` eval envs with a deterministic policy."""

    def __init__(self, batched: BatchedEnv) -> None:
        self.batched = batched
        self._reset = jax.jit(batched.reset)
        self._step = jax.jit(batched.step)
        self.max_steps = batched.env.config.episode_length

    def episodes(
        self,
        policy: ArrayPolicy,
        rng: jax.Array,
        on_step: Callable[[int], None] | None = None,
    ) -> Episodes:
        """Each env's first episode (episodes end by failure or the time limit): return, length, term means.

        ``on_step`` is called with the number of steps played after each step (progress reports).
        """
        num_envs = self.batched.num_envs
        state = self._reset(rng)
        finished = np.zeros(num_envs, dtype=bool)
        returns, lengths = np.zeros(num_envs), np.zeros(num_envs)
        sums = {name.removeprefix("reward/"): np.zeros(num_envs) for name in state.metrics}
        for step in range(self.max_steps):
            state = self._step(state, jnp.asarray(policy(state.obs["actor"])))
            if on_step is not None:
                on_step(step + 1)
            running = ~finished
            lengths += running
            for name, value in state.metrics.items():
                sums[name.removeprefix("reward/")] += np.where(running, np.asarray(value), 0.0)
            done = np.asarray(state.done) > 0
            newly = done & running
            returns[newly] = np.asarray(state.info["last_episode_return"])[newly]
            finished |= done
            if finished.all():
                break
        steps = np.maximum(lengths, 1)
        return Episodes(returns, lengths, {name: total / steps for name, total in sums.items()})

    def returns(self, policy: ArrayPolicy, rng: jax.Array) -> np.ndarray:
        """Each env's return over its first episode."""
        return self.episodes(policy, rng).returns
