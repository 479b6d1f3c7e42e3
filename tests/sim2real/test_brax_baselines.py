import itertools
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import onnxruntime
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sim2real.baselines.brax_agents import (
    BRAX_ALGOS,
    BRAX_BASELINES,
    CONFIG_FILE,
    PARAMS_FILE,
    BraxRun,
    _EvalRecorder,
    _StopTrainingError,
    _train_kwargs,
    brax_settings,
    brax_start,
    load_brax_policy,
    save_brax_run,
    train_brax,
    wrap_for_brax,
)
from sim2real.export import export_run
from sim2real_runtime.errors import ConfigError
from tasks.registry import make_env

EPISODE = 50
TINY = {
    "brax_ppo": {
        "num_timesteps": 640,
        "num_evals": 3,
        "episode_length": EPISODE,
        "num_envs": 8,
        "batch_size": 8,
        "num_minibatches": 2,
        "unroll_length": 10,
        "num_updates_per_batch": 1,
        "num_eval_envs": 8,
        "normalize_observations": True,
        "reward_scaling": 10.0,
        "network_factory": {"policy_hidden_layer_sizes": (16, 16), "value_hidden_layer_sizes": (16, 16)},
    },
    "brax_sac": {
        "num_timesteps": 1000,
        "num_evals": 3,
        "episode_length": EPISODE,
        "num_envs": 8,
        "batch_size": 32,
        "grad_updates_per_step": 1,
        "min_replay_size": 64,
        "max_replay_size": 2000,
        "num_eval_envs": 8,
        "normalize_observations": True,
        "network_factory": {"hidden_layer_sizes": (16, 16), "q_network_layer_norm": True},
    },
}
"""Settings small enough for a test: a few hundred env steps, 8 envs, 50-step episodes."""


@pytest.fixture(scope="module")
def env():
    return make_env("cartpole_balance", {"episode_length": EPISODE})


@pytest.fixture(scope="module", params=BRAX_ALGOS)
def trained(request, env):
    """(algo, run, the points on_eval saw) of a complete tiny run."""
    seen = []
    run = train_brax(request.param, env, TINY[request.param], seed=0, on_eval=seen.append)
    return request.param, run, seen


def test_training_records_every_eval_with_finite_returns_and_increasing_env_steps(trained):
    algo, run, seen = trained
    steps = [p.env_steps for p in run.points]
    assert len(run.points) == TINY[algo]["num_evals"]
    assert steps[0] == 0 and all(b > a for a, b in itertools.pairwise(steps))
    assert steps[-1] >= TINY[algo]["num_timesteps"]
    assert all(math.isfinite(p.eval_return) and 0.0 <= p.eval_return <= EPISODE for p in run.points)
    assert all(b.seconds > a.seconds > 0.0 for a, b in itertools.pairwise(run.points))
    assert seen == run.points
    assert run.reached is None and run.params is not None


def test_threshold_stops_training_at_the_first_eval_that_reaches_it(env):
    # PPO only: the stop is the same callback for both algos, and each SAC run pays ~7 s to recompile
    # its env reset (brax's SAC pmaps it without an axis name, so the persistent cache never hits).
    run = train_brax("brax_ppo", env, TINY["brax_ppo"], seed=1, threshold=0.0)
    assert len(run.points) == 1
    assert run.reached == run.points[0] and run.reached.env_steps == 0
    assert run.params is None  # stopped at brax's step-0 eval, before it handed over any params


def test_time_limit_stops_at_the_first_eval_past_it_and_threshold_picks_the_first_point_reaching_it():
    seen = []
    recorder = _EvalRecorder(threshold=5.0, time_limit_s=10.0, on_eval=seen.append, start=time.perf_counter())
    recorder.progress(0, {"eval/episode_reward": 1.0})
    recorder.progress(100, {"training/sps": 1.0})  # not an evaluation: ignored
    recorder.start -= 20.0
    with pytest.raises(_StopTrainingError):
        recorder.progress(200, {"eval/episode_reward": 2.0})
    assert [p.env_steps for p in recorder.points] == [0, 200] and seen == recorder.points
    assert recorder.points[1].seconds >= 20.0 and recorder.reached is None
    with pytest.raises(_StopTrainingError):
        recorder.progress(300, {"eval/episode_reward": 6.0})
    assert recorder.reached == recorder.points[2]


def test_saved_run_reloads_as_a_deterministic_policy_with_bounded_actions(trained, env, tmp_path):
    algo, run, _ = trained
    save_brax_run(tmp_path, algo, "cartpole_balance", TINY[algo], 0, run)
    assert (tmp_path / PARAMS_FILE).is_file() and (tmp_path / CONFIG_FILE).is_file()
    policy = load_brax_policy(tmp_path, env)
    obs = 3.0 * jax.random.normal(jax.random.PRNGKey(0), (7, env.observation_size["actor"][0]))
    actions = np.asarray(policy(obs))
    assert actions.shape == (7, env.action_size)
    assert np.isfinite(actions).all() and (np.abs(actions) <= 1.0).all()
    np.testing.assert_array_equal(actions, np.asarray(policy(obs)))
    direct = run.make_policy(run.params, deterministic=True)
    expected = direct({"actor": obs} if algo == "brax_ppo" else obs, jax.random.PRNGKey(5))[0]
    np.testing.assert_allclose(actions, np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_saved_run_logs_eval_return_and_seconds_to_tensorboard_at_env_steps(trained, tmp_path):
    algo, run, _ = trained
    save_brax_run(tmp_path, algo, "cartpole_balance", TINY[algo], 0, run)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert {"eval/return_mean", "eval/seconds"} <= set(events.Tags()["scalars"])
    returns = events.Scalars("eval/return_mean")
    assert [e.step for e in returns] == [p.env_steps for p in run.points]
    np.testing.assert_allclose([e.value for e in returns], [p.eval_return for p in run.points], rtol=1e-6)


def test_corrupt_params_file_is_a_one_line_config_error(env, tmp_path):
    save_brax_run(tmp_path, "brax_ppo", "cartpole_balance", TINY["brax_ppo"], 0, BraxRun([], None, {"w": 1}, None))
    (tmp_path / PARAMS_FILE).write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(ConfigError, match=PARAMS_FILE) as err:
        load_brax_policy(tmp_path, env)
    assert len(str(err.value).splitlines()) == 1


def test_run_without_params_loads_as_a_config_error_that_says_so(env, tmp_path):
    save_brax_run(tmp_path, "brax_sac", "cartpole_balance", TINY["brax_sac"], 0, BraxRun([], None, None, None))
    assert not (tmp_path / PARAMS_FILE).exists()
    with pytest.raises(ConfigError, match="no params saved"):
        load_brax_policy(tmp_path, env)


def test_playground_settings_are_accepted_by_brax_and_cpu_sizing_changes_only_ppo():
    ppo = brax_settings("brax_ppo", "cartpole_balance", cpu_sized=False)
    small_ppo = brax_settings("brax_ppo", "cartpole_balance", cpu_sized=True)
    assert (ppo["num_envs"], ppo["unroll_length"], ppo["batch_size"]) == (2048, 30, 1024)
    changed = {key for key in ppo if ppo[key] != small_ppo[key]}
    assert changed == {"num_envs", "batch_size", "num_minibatches", "num_updates_per_batch"}
    assert (small_ppo["num_envs"], small_ppo["batch_size"], small_ppo["num_minibatches"]) == (256, 256, 8)
    sac = brax_settings("brax_sac", "cartpole_balance", cpu_sized=False)
    assert sac == brax_settings("brax_sac", "cartpole_balance", cpu_sized=True)
    assert "num_resets_per_eval" not in sac
    sac["num_envs"] = 1
    assert brax_settings("brax_sac", "cartpole_balance", cpu_sized=False)["num_envs"] == 128


def test_every_task_of_the_baselines_table_has_settings_brax_accepts_for_its_env():
    envs = {}
    for algo, baseline in BRAX_BASELINES.items():
        for task in baseline.tasks:
            env = envs.setdefault(task, make_env(task))
            for cpu_sized in (False, True):
                settings = brax_settings(algo, task, cpu_sized=cpu_sized)
                kwargs = _train_kwargs(baseline, env, settings)
                assert kwargs == {k: v for k, v in settings.items() if k != "network_factory"}


@pytest.mark.parametrize(
    ("algo", "extra", "message"),
    [
        ("brax_sac", {"num_resets_per_eval": 10}, "num_resets_per_eval"),
        ("brax_ppo", {"episode_length": 1000}, "episode_length"),
        ("brax_ppo", {"progress_fn": print}, "progress_fn"),
    ],
)
def test_settings_brax_would_reject_or_that_disagree_with_the_env_fail_before_training(algo, extra, message, env):
    with pytest.raises(ValueError, match=message):
        train_brax(algo, env, {**TINY[algo], **extra}, seed=0)


def test_unknown_algo_is_refused():
    with pytest.raises(ValueError, match="brax_ppo, brax_sac"):
        brax_settings("brax_td3", "cartpole_balance", cpu_sized=False)


def test_brax_wrapping_restarts_episodes_fully_and_flags_time_outs_as_truncation():
    env = make_env("cartpole_balance", {"episode_length": 5})
    wrapped = wrap_for_brax(env, episode_length=5)
    state = jax.jit(wrapped.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    step = jax.jit(wrapped.step)
    done, truncation, env_step = [], [], []
    for _ in range(12):
        state = step(state, jnp.zeros((2, env.action_size)))
        done.append(np.asarray(state.done))
        truncation.append(np.asarray(state.info["truncation"]))
        env_step.append(np.asarray(state.info["step"]))
    ends = [i + 1 for i, d in enumerate(done) if d.all()]
    assert ends == [5, 10] and not any(d.any() for i, d in enumerate(done) if i + 1 not in ends)
    assert all(truncation[i - 1].all() for i in ends)
    assert env_step[4].tolist() == [0, 0] and env_step[5].tolist() == [1, 1]  # our env's own counter restarts


@pytest.mark.parametrize("trained", ["brax_ppo"], indirect=True)
def test_a_brax_ppo_run_exports_to_onnx_matching_brax_to_1e5_with_its_contract(trained, env, tmp_path):
    algo, run, _ = trained
    save_brax_run(tmp_path, algo, "cartpole_balance", TINY[algo], 0, run)
    path, contract = export_run(tmp_path, tmp_path / "ppo.onnx")
    assert contract.task == "cartpole_balance" and contract.training["algo"] == "brax_ppo"
    assert contract.training["env_steps"] == run.points[-1].env_steps
    obs = 3.0 * jax.random.normal(jax.random.PRNGKey(0), (7, env.observation_size["actor"][0]))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    actions = session.run(None, {session.get_inputs()[0].name: np.asarray(obs, np.float32)})[0]
    expected = run.make_policy(run.params, deterministic=True)({"actor": obs}, jax.random.PRNGKey(5))[0]
    np.testing.assert_allclose(actions, np.asarray(expected), atol=1e-5)


@pytest.mark.parametrize("trained", ["brax_ppo"], indirect=True)
def test_a_ppo_run_started_from_saved_params_trains_on_from_them_and_counts_on_from_their_steps(trained, env, tmp_path):
    algo, run, _ = trained
    save_brax_run(tmp_path, algo, "cartpole_balance", TINY[algo], 0, run)
    start, parent = brax_start(tmp_path, "cartpole_balance", TINY[algo])
    assert parent["run_dir"] == str(tmp_path) and parent["env_steps"] == run.points[-1].env_steps
    handed = []
    child = train_brax(algo, env, TINY[algo], seed=1, start=start, on_params=handed.append)
    for restored, saved in zip(jax.tree.leaves(handed[0]), jax.tree.leaves(run.params), strict=True):
        np.testing.assert_array_equal(np.asarray(restored), np.asarray(saved))  # the first eval is the parent's policy
    steps = [p.env_steps for p in child.points]
    assert steps[0] == run.points[-1].env_steps and steps[-1] >= steps[0] + TINY[algo]["num_timesteps"]
    assert child.points[0].seconds > run.points[-1].seconds
    save_brax_run(tmp_path / "child", algo, "cartpole_balance", TINY[algo], 1, child, scalars=False, init_from=parent)
    _, contract = export_run(tmp_path / "child", tmp_path / "child.onnx")
    assert contract.training["env_steps"] == steps[-1]
    assert contract.training["init_from"]["env_steps"] == run.points[-1].env_steps  # provenance covers the chain


@pytest.mark.parametrize("trained", ["brax_ppo"], indirect=True)
@pytest.mark.parametrize(
    ("task", "settings", "culprit"),
    [
        ("cartpole_swingup", TINY["brax_ppo"], "task"),
        ("cartpole_balance", brax_settings("brax_ppo", "cartpole_balance", cpu_sized=True), "network_factory"),
    ],
)
def test_a_parent_run_of_another_task_or_other_networks_is_refused_in_one_line(
    trained, task, settings, culprit, tmp_path
):
    algo, run, _ = trained
    save_brax_run(tmp_path, algo, "cartpole_balance", TINY[algo], 0, run, scalars=False)
    with pytest.raises(ConfigError, match=culprit) as err:
        brax_start(tmp_path, task, settings)
    assert len(str(err.value).splitlines()) == 1
