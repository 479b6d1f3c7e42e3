"""A batch of envs under ``vmap`` with auto-reset and per-episode metrics.

``BatchedEnv.step`` is pure (jit it once). When an env finishes an episode (failure, NaN or the time
limit) it is reset in the same call with a fresh initial state, fresh randomization parameters and a
fresh delay (keeping the curriculum state its last episode left), while the transition's own reward,
done and truncation flag are kept, and
``info["final_obs"]`` holds the observation the episode ended on so time-outs can bootstrap. The reset
branch runs only on steps where at least one env finished (``lax.cond`` outside the ``vmap``).

Extra ``info`` entries this wrapper keeps per env:

- ``final_obs``: the observation reached by this step, before any reset (equals ``obs`` when not done);
- ``episode_return`` / ``episode_length``: running sums of the current episode;
- ``last_episode_return`` / ``last_episode_length``: figures of the most recently finished episode.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from brax.envs.base import State

from sim.env import MjxEnv

_EPISODE_KEYS = ("episode_return", "episode_length", "last_episode_return", "last_episode_length")


class BatchedEnv:
    """``num_envs`` copies of an env stepped together, each reset on its own when its episode ends."""

    def __init__(self, env: MjxEnv, num_envs: int) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.env = env
        self.num_envs = num_envs
        self._reset_each = jax.vmap(env.reset)
        self._step_each = jax.vmap(env.step)

    def reset(self, rng: jax.Array) -> State:
        """Reset every env; env ``i`` starts from ``env.reset(jax.random.split(rng, num_envs)[i])``."""
        state = self._reset_each(jax.random.split(rng, self.num_envs))
        zeros = jnp.zeros(self.num_envs)
        return state.replace(
            info={
                **state.info,
                "final_obs": state.obs,
                **{key: zeros for key in _EPISODE_KEYS},
            }
        )

    def step(self, state: State, action: jax.Array) -> State:
        """Step every env with its row of ``action``; finished envs are reset in the same call."""
        info = dict(state.info)
        episode = {key: info.pop(key) for key in _EPISODE_KEYS}
        info.pop("final_obs")
        stepped = self._step_each(state.replace(info=info), action)
        done = stepped.done > 0
        running_return = episode["episode_return"] + stepped.reward
        running_length = episode["episode_length"] + 1
        bookkeeping = {
            "final_obs": stepped.obs,
            "episode_return": jnp.where(done, 0.0, running_return),
            "episode_length": jnp.where(done, 0.0, running_length),
            "last_episode_return": jnp.where(done, running_return, episode["last_episode_return"]),
            "last_episode_length": jnp.where(done, running_length, episode["last_episode_length"]),
        }
        restarted = jax.lax.cond(jnp.any(done), self._reset_finished, lambda s, _: s, stepped, done)
        return restarted.replace(info={**restarted.info, **bookkeeping})

    def _reset_finished(self, stepped: State, done: jax.Array) -> State:
        """Replace the physics, observation and episode state of finished envs with fresh resets."""
        fresh = self._reset_each(stepped.info["rng"], stepped.info["curriculum"])

        def pick(new: jax.Array, old: jax.Array) -> jax.Array:
            return jnp.where(done.reshape(done.shape + (1,) * (old.ndim - 1)), new, old)

        info = jax.tree.map(pick, fresh.info, stepped.info)
        info["truncation"] = stepped.info["truncation"]
        return stepped.replace(
            pipeline_state=jax.tree.map(pick, fresh.pipeline_state, stepped.pipeline_state),
            obs=jax.tree.map(pick, fresh.obs, stepped.obs),
            info=info,
        )
