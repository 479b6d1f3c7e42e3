"""Every registered task, compiled once: reset and step under jit, declared shapes, finite values, per-episode DR.

Each task is compiled as one jitted rollout (reset, then ``STEPS`` batched steps in a ``lax.scan``) with
``EPISODE``-step episodes, so each env plays several episodes and auto-resets inside the rollout. One compile
per task keeps this affordable (the legged tasks take 20-50 s each to compile on a 2-core CPU).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from brax.envs.base import Env
from brax.envs.wrappers import training

from sim.batched import BatchedEnv
from sim.env import MjxEnv
from sim.task_goal import LearningGoal, TaskGoal
from tasks.registry import get_task, make_env, register, task_names

NUM_ENVS = 3
EPISODE = 6
STEPS = 20


def rollout(env, num_envs: int, steps: int):
    """Reset and ``steps`` random-action steps in one jitted call; the per-step states' key fields stacked."""
    batched = BatchedEnv(env, num_envs)

    def run(key):
        state = batched.reset(key)

        def body(state, k):
            action = jax.random.uniform(k, (num_envs, env.action_size), minval=-1.0, maxval=1.0)
            state = batched.step(state, action)
            trace = {
                "obs": state.obs,
                "reward": state.reward,
                "done": state.done,
                "truncation": state.info["truncation"],
                "dr": state.info["dr"],
                "curriculum": state.info["curriculum"],
                "qpos": state.pipeline_state.qpos,
                "metrics": state.metrics,
            }
            return state, trace

        return jax.lax.scan(body, state, jax.random.split(key, steps))

    return jax.device_get(jax.jit(run)(jax.random.PRNGKey(0)))


SLOW_TO_COMPILE = {"humanoid_joystick_rough"}
"""Played in ``make test-slow`` only: 47 s of compiling, for code its flat twin and the rough quadruped cover."""


@pytest.fixture(
    scope="module",
    params=[pytest.param(name, marks=pytest.mark.slow) if name in SLOW_TO_COMPILE else name for name in task_names()],
)
def played(request):
    env = make_env(request.param, {"episode_length": EPISODE})
    first, trace = rollout(env, NUM_ENVS, STEPS)
    return env, first, trace


def test_every_task_resets_and_steps_under_jit_with_its_declared_shapes_and_finite_values(played):
    env, _, trace = played
    sizes = env.observation_size
    for key in ("actor", "critic"):
        assert trace["obs"][key].shape == (STEPS, NUM_ENVS, *sizes[key])
        assert np.isfinite(trace["obs"][key]).all()
    assert trace["reward"].shape == (STEPS, NUM_ENVS) and np.isfinite(trace["reward"]).all()
    assert np.isfinite(trace["qpos"]).all()
    assert all(np.isfinite(value).all() for value in trace["metrics"].values())
    weights = getattr(env.config, "reward_weights", None)
    assert trace["metrics"] and (weights is None or set(trace["metrics"]) == {f"reward/{n}" for n in weights})
    assert set(trace["metrics"]) <= {f"reward/{n}" for n in type(env).reward_terms()}


def survivors(trace) -> np.ndarray:
    """Envs whose first episode ran to the time limit (it ends at step EPISODE; the trace then shows the reset)."""
    done = trace["done"] > 0
    return ~done[: EPISODE - 1].any(axis=0) & done[EPISODE - 1] & (trace["truncation"][EPISODE - 1] > 0)


def test_every_task_ends_episodes_at_its_time_limit_and_flags_truncation(played):
    _, _, trace = played
    done, truncated = trace["done"] > 0, trace["truncation"] > 0
    assert survivors(trace).any(), "random actions for 0.06-0.12 s should not fail every env"
    assert (done | ~truncated).all(), "truncation only on a step that ends an episode"


def test_every_task_redraws_its_randomization_at_each_episode(played):
    env, _, trace = played
    assert env.randomization_ranges(), f"{type(env).__name__} randomizes nothing"
    alive = survivors(trace)
    for name, value in trace["dr"].items():
        low, high = env.randomization_ranges()[name]
        assert ((value >= low) & (value <= high)).all(), name
        if low < high:
            first, second = value[0][alive], value[EPISODE - 1][alive]
            assert np.allclose(value[0][alive], value[EPISODE - 2][alive]), f"{name} changed within an episode"
            assert not np.isclose(first, second).any(), f"{name} was not redrawn at the reset"


def test_every_task_carries_its_curriculum_from_one_episode_into_the_next(played):
    env, first, trace = played
    if not first.info["curriculum"]:
        assert type(env).initial_curriculum is MjxEnv.initial_curriculum, "a curriculum must show in info"
        return
    scale = trace["curriculum"]["penalty_scale"]
    alive = survivors(trace)
    rule = env.config.penalty_curriculum
    assert np.allclose(scale[0], rule.start)
    expected = min(rule.start + rule.step, 1.0)
    assert np.allclose(scale[EPISODE - 1][alive], expected), "a full-length episode raises the penalty scale"
    assert np.allclose(scale[EPISODE][alive], expected), "and the next episode keeps it"


def test_brax_training_wrappers_drive_our_env_unchanged():
    env = make_env("cartpole_balance")
    assert isinstance(env, Env)
    wrapped = training.wrap(env, episode_length=5, action_repeat=1)
    state = jax.jit(wrapped.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    step = jax.jit(wrapped.step)
    for _ in range(5):
        state = step(state, jnp.zeros((2, env.action_size)))
    assert np.asarray(state.info["truncation"]).all()
    assert state.obs["actor"].shape == (2, env.observation_size["actor"][0])


def test_unknown_task_names_the_known_ones():
    with pytest.raises(
        Exception, match="known tasks: arm_reach, cartpole_balance, cartpole_swingup, humanoid_joystick"
    ):
        get_task("cartpole_juggle")


def test_every_shipped_task_is_registered():
    assert task_names() == [
        "arm_reach",
        "cartpole_balance",
        "cartpole_swingup",
        "humanoid_joystick_flat",
        "humanoid_joystick_rough",
        "quadruped_joystick_flat",
        "quadruped_joystick_rough",
    ]


@pytest.mark.parametrize(
    ("goal", "refusal"),
    [
        (TaskGoal(tracking_terms=("moonwalk",)), "tracks moonwalk, not among its reward terms"),
        (TaskGoal(learning=LearningGoal("tracking", 0.8)), "has a tracking goal but no tracking terms"),
    ],
)
def test_a_goal_naming_terms_the_task_lacks_is_refused_at_registration(goal, refusal):
    spec = get_task("cartpole_balance")
    env_class = type("Declared", (spec.env_class,), {"GOAL": goal})
    with pytest.raises(ValueError, match=refusal):
        register(dataclasses.replace(spec, name="declared", env_class=env_class))
