"""Shared fixtures: JAX's persistent compilation cache, and envs compiled once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import pytest

from sim.batched import BatchedEnv
from sim.env import MjxEnv
from sim.jax_cache import enable_compilation_cache
from tasks.registry import make_env

enable_compilation_cache()

ONE_WORKER = ("tests/ros/", "tests/policies/test_distributed.py", "tests/sim2real/test_scale_bench.py")
"""Tests that start processes of their own (ROS nodes, torchrun ranks): under xdist they share one worker.

The ROS tests time real loops (50 ms state timeouts, one-period e-stops); two torchrun ranks beside them on
a 2-core machine starved the emulator past its timeout. Run one after the other, neither disturbs the other.
"""


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadscope``, schedule the :data:`ONE_WORKER` tests as one unit; other modes unchanged."""
    if config.getoption("dist", None) != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerForProcessTests(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "tests that start processes" if nodeid.startswith(ONE_WORKER) else super()._split_scope(nodeid)

    return OneWorkerForProcessTests(config, log)


SHORT_EPISODE = 20
MAX_DELAY = 3
SHORT_OVERRIDES = {
    "episode_length": SHORT_EPISODE,
    "action_delay_steps": MAX_DELAY,
    "obs_noise": {"cart_position": 0.05, "pole_angle": 0.05, "cart_velocity": 0.1, "pole_angular_velocity": 0.1},
}
"""A cart-pole with short episodes, action delay and observation noise: every env feature switched on."""


@dataclass
class Compiled:
    """An env with its jitted single and batched reset/step."""

    env: MjxEnv
    batched: BatchedEnv
    reset: Any
    step: Any
    batch_reset: Any
    batch_step: Any


def compile_env(env: MjxEnv, num_envs: int) -> Compiled:
    """Jit an env's functions once."""
    batched = BatchedEnv(env, num_envs)
    return Compiled(env, batched, jax.jit(env.reset), jax.jit(env.step), jax.jit(batched.reset), jax.jit(batched.step))


@pytest.fixture(scope="session")
def short_cartpole() -> Compiled:
    """cartpole_balance with 20-step episodes, delay up to 3 steps and noise, 4 envs."""
    return compile_env(make_env("cartpole_balance", SHORT_OVERRIDES), num_envs=4)


@pytest.fixture(scope="session")
def quadruped_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained FastSAC quadruped policy (its actions stay within about 1e-3 of zero), exported."""
    from tests.sim2real.conftest import export_fresh_agent

    folder = tmp_path_factory.mktemp("quadruped_policy")
    return export_fresh_agent("fastsac", folder, task="quadruped_joystick_flat", head_std=1e-3).path
