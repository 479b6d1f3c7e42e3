"""Noise-free evaluation on envs separate from the training envs."""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
import torch

from policies.env_bridge import to_jax, to_torch
from sim.batched import BatchedEnv


class Evaluator:
    """Plays one episode in each of ``num_envs`` eval envs with a deterministic policy."""

    def __init__(self, batched: BatchedEnv, device: torch.device) -> None:
        self.batched = batched
        self.device = device
        self._reset = jax.jit(batched.reset)
        self._step = jax.jit(batched.step)
        self.max_steps = batched.env.config.episode_length

    def returns(self, policy: Callable[[torch.Tensor], torch.Tensor], rng: jax.Array) -> np.ndarray:
        """Each env's return over its first episode (episodes end by failure or the time limit)."""
        num_envs = self.batched.num_envs
        state = self._reset(rng)
        finished = np.zeros(num_envs, dtype=bool)
        returns = np.zeros(num_envs)
        for _ in range(self.max_steps):
            action = policy(to_torch(state.obs["actor"], self.device))
            state = self._step(state, to_jax(action))
            done = np.asarray(state.done) > 0
            newly = done & ~finished
            returns[newly] = np.asarray(state.info["last_episode_return"])[newly]
            finished |= done
            if finished.all():
                break
        return returns
