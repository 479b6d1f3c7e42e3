"""Brax PPO and Brax SAC on our tasks: the baseline (and peer) our own learners are measured against.

:func:`train_brax` runs brax's own ``ppo.train`` / ``sac.train`` on an :class:`~sim.env.MjxEnv` with
MuJoCo Playground's CartpoleBalance settings (:func:`brax_settings`), records every brax evaluation as
an :class:`EvalPoint` (env steps, wall-clock seconds since the start including JIT, eval return) and
stops at the first evaluation that reaches a threshold or passes a time limit. :func:`save_brax_run`
writes the params, the recipe (``config.yaml``) and TensorBoard scalars; :func:`load_brax_policy`
rebuilds the deterministic policy from such a run.

How our env meets brax's training wrappers (:func:`wrap_for_brax`, passed to brax as ``wrap_env_fn``):

- brax's ``AutoResetWrapper`` puts a finished env back to its *first* physics state and observation
  and keeps the rest of ``info``; our env's step counter, randomization draw and delay buffer live in
  ``info``, so after the first episode every step would end an episode. :class:`FullResetWrapper`
  restarts a finished env from a fresh ``reset`` instead (new start pose, new randomization, new delay).
- our env marks ``done`` at its own time limit; brax's ``EpisodeWrapper`` then reads the time-out as a
  failure (``truncation = 1 - done``). :class:`BraxAdapter` reports only failures and leaves the time
  limit (at the same ``episode_length``) and the truncation flag to brax; it also keeps the ``metrics``
  entry brax's ``EvalWrapper`` adds, which our env's step would drop.
- brax 0.14.2's ``sac.train`` refuses dict observations: :class:`ActorObservationWrapper` gives SAC the
  ``actor`` array (its critic sees the same array). PPO takes the dict: policy on ``actor``, value on
  ``critic``.
"""

from __future__ import annotations

import copy
import functools
import inspect
import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import yaml
from brax.envs.base import Env, State, Wrapper
from brax.envs.wrappers.training import EpisodeWrapper, VmapWrapper
from brax.io import model as brax_model
from brax.training import types as brax_types
from brax.training.acme import running_statistics
from brax.training.agents.ppo import networks as ppo_networks
from brax.training.agents.ppo import train as ppo
from brax.training.agents.sac import networks as sac_networks
from brax.training.agents.sac import train as sac

from policies.provenance import git_sha
from sim.env import MjxEnv
from sim.errors import ConfigError
from sim.yaml_io import read_yaml_mapping

BRAX_ALGOS: tuple[str, ...] = ("brax_ppo", "brax_sac")
"""The Brax baselines, by name."""

PLAYGROUND_SETTINGS: dict[str, dict[str, Any]] = {
    "brax_ppo": {
        "num_timesteps": 60_000_000,
        "num_evals": 10,
        "reward_scaling": 10.0,
        "episode_length": 1000,
        "normalize_observations": True,
        "action_repeat": 1,
        "unroll_length": 30,
        "num_minibatches": 32,
        "num_updates_per_batch": 16,
        "discounting": 0.995,
        "learning_rate": 1e-3,
        "entropy_cost": 1e-2,
        "num_envs": 2048,
        "batch_size": 1024,
        "num_resets_per_eval": 10,
    },
    "brax_sac": {
        "num_timesteps": 5_000_000,
        "num_evals": 10,
        "reward_scaling": 1.0,
        "episode_length": 1000,
        "normalize_observations": True,
        "action_repeat": 1,
        "discounting": 0.99,
        "learning_rate": 1e-3,
        "num_envs": 128,
        "batch_size": 512,
        "grad_updates_per_step": 8,
        "max_replay_size": 1_048_576 * 4,
        "min_replay_size": 8192,
        "network_factory": {"q_network_layer_norm": True},
        # Playground also sets num_resets_per_eval=10, which brax 0.14.2's sac.train rejects.
    },
}
"""MuJoCo Playground's ``brax_ppo_config`` / ``brax_sac_config`` for CartpoleBalance (playground 0.2.0).

Keys are brax ``train`` arguments; ``network_factory`` holds keyword arguments of brax's network
factory (``make_ppo_networks`` / ``make_sac_networks``), brax's defaults otherwise.
"""

CPU_SIZED_PPO: dict[str, Any] = {"num_envs": 256, "batch_size": 256, "num_minibatches": 8, "num_updates_per_batch": 4}
"""PPO changes for a small CPU: Playground's 2048 envs x unroll 30 do not reach a first evaluation within
25 minutes on a 2-core CPU; with these (otherwise Playground's settings) Brax PPO first evaluated >= 900
(996) after 295 s there."""

LOCOMOTION_PPO: dict[str, Any] = {
    "num_timesteps": 68_812_800,
    "num_evals": 401,
    "reward_scaling": 1.0,
    "episode_length": 1000,
    "normalize_observations": True,
    "action_repeat": 1,
    "unroll_length": 24,
    "num_minibatches": 4,
    "num_updates_per_batch": 5,
    "discounting": 0.97,
    "learning_rate": 1e-3,
    "entropy_cost": 5e-3,
    "num_envs": 1024,
    "batch_size": 256,
    "max_grad_norm": 1.0,
    "num_eval_envs": 16,
    "deterministic_eval": True,
    "network_factory": {"policy_hidden_layer_sizes": (128, 128), "value_hidden_layer_sizes": (256, 256)},
}
"""Brax PPO on a legged joystick task, sized for a CPU: physics-bound (MJX steps ~5K control steps/s on two cores
at 1024 envs) and learner-light, the regime of mjbatch's CPU PPO (1024 envs, 24-step unrolls, 5 epochs of 4
minibatches, 2x128 policy, lr 1e-3, entropy 0.005) with Playground's Go1 discount (0.97), gradient clip 1.0,
the value network on the privileged critic observation, and 16 deterministic evaluation episodes. An epoch is
7 updates of 24,576 env steps (172,032 steps between evaluations, about a minute on two cores)."""

TASK_PPO: dict[str, dict[str, Any]] = {
    "quadruped_joystick_flat": LOCOMOTION_PPO,
    "quadruped_joystick_rough": LOCOMOTION_PPO,
    "humanoid_joystick_flat": LOCOMOTION_PPO,
    "humanoid_joystick_rough": LOCOMOTION_PPO,
}
"""Task -> Brax PPO settings replacing the cart-pole's (tasks not listed take Playground's CartpoleBalance ones)."""

_RESERVED = frozenset(
    {"environment", "eval_env", "seed", "progress_fn", "policy_params_fn", "wrap_env_fn", "randomization_fn"}
)
"""brax ``train`` arguments that :func:`train_brax` sets itself."""

_BRAX_EPISODE_INFO = frozenset({"steps", "truncation", "episode_done", "episode_metrics"})
"""``info`` entries brax's ``EpisodeWrapper`` keeps across auto-resets."""

PARAMS_FILE = "brax_params.pkl"
"""File name of a saved run's params (``brax.io.model`` pickle)."""
CONFIG_FILE = "config.yaml"
"""File name of a saved run's recipe (task, algo, seed, settings)."""


def brax_settings(algo: str, *, cpu_sized: bool, task: str | None = None) -> dict[str, Any]:
    """Playground's CartpoleBalance settings for ``algo``, PPO resized for a small CPU if ``cpu_sized``.

    PPO on a task of :data:`TASK_PPO` takes that task's settings instead. SAC's settings are the same either
    way. The result is a fresh copy the caller may change.
    """
    _check_algo(algo)
    if algo == "brax_ppo" and task in TASK_PPO:
        return copy.deepcopy(TASK_PPO[task])
    settings = copy.deepcopy(PLAYGROUND_SETTINGS[algo])
    if cpu_sized and algo == "brax_ppo":
        settings.update(CPU_SIZED_PPO)
    return settings


@dataclass(frozen=True)
class EvalPoint:
    """One brax evaluation."""

    env_steps: int
    """Training env steps so far, as brax counts them (for SAC including the replay prefill)."""
    seconds: float
    """Wall-clock seconds since training started, JIT and evaluations included."""
    eval_return: float
    """Mean undiscounted eval episode return (brax's ``eval/episode_reward``)."""
    tracking: float | None = None
    """Mean per-step ``tracking_lin_vel`` reward of the eval episodes, for tasks that track (at most 1)."""
    episode_length: float | None = None
    """Mean eval episode length in control steps (below the time limit when some episode fell)."""


@dataclass(frozen=True)
class BraxStart:
    """Where a Brax PPO run that starts from another run's params begins (``sim2real train --init-from``)."""

    params: Any
    """The parent run's params (normalizer, policy, value), as :func:`load_brax_params` reads them."""
    env_steps: int
    """The parent run's env steps: this run's evaluations count on from here."""
    seconds: float
    """The parent run's training seconds: this run's evaluations count on from here."""


@dataclass
class BraxRun:
    """What :func:`train_brax` returns."""

    points: list[EvalPoint]
    """Every evaluation, in order (brax evaluates at step 0 too when ``num_evals > 1``)."""
    reached: EvalPoint | None
    """The first evaluation with return >= the threshold; None without a threshold or when never reached."""
    params: Any
    """Params of the last evaluated policy (PPO: normalizer, policy, value; SAC: normalizer, policy);
    None when training stopped early before brax handed any over (SAC, or PPO at its step-0 eval)."""
    make_policy: Any
    """Brax's ``make_policy(params, deterministic=False) -> policy(obs, key) -> (action, extras)``."""


class ActorObservationWrapper(Wrapper):
    """Gives the agent the ``actor`` observation array instead of the ``{actor, critic}`` dict."""

    def reset(self, rng: jax.Array) -> State:
        """Reset the inner env; keep only the actor observation."""
        state = self.env.reset(rng)
        return state.replace(obs=state.obs["actor"])

    def step(self, state: State, action: jax.Array) -> State:
        """Step the inner env; keep only the actor observation."""
        state = self.env.step(state, action)
        return state.replace(obs=state.obs["actor"])

    @property
    def observation_size(self) -> int:
        """Length of the actor observation."""
        (size,) = self.env.observation_size["actor"]
        return size


class BraxAdapter(Wrapper):
    """Our env as brax's wrappers expect it, one env at a time (stands under ``VmapWrapper``).

    ``done`` marks failures only: brax's ``EpisodeWrapper`` applies the time limit and sets the
    truncation flag. ``metrics`` entries that outer wrappers added (brax's ``EvalWrapper`` adds
    ``reward``) are carried through the step, which our env would otherwise drop.
    """

    def step(self, state: State, action: jax.Array) -> State:
        """Step the inner env; clear ``done`` where it only timed out; keep outer metrics."""
        stepped = self.env.step(state, action)
        return stepped.replace(
            done=stepped.done * (1.0 - stepped.info["truncation"]), metrics={**state.metrics, **stepped.metrics}
        )


class FullResetWrapper(Wrapper):
    """Auto-reset (over a batch) that restarts finished envs from a fresh ``reset`` of our env.

    Stands where brax's ``AutoResetWrapper`` stands: on top of ``EpisodeWrapper`` over a batch. The
    transition's reward, done, metrics and brax's episode bookkeeping are kept; the physics state, the
    observation and our env's own ``info`` (step counter, randomization, delay, rng) come from a reset
    keyed by the env's ``info["rng"]``. The reset runs only on steps where some env finished.
    """

    def step(self, state: State, action: jax.Array) -> State:
        """Step the batch; finished envs start their next episode in the same call."""
        steps = jnp.where(state.done > 0, jnp.zeros_like(state.info["steps"]), state.info["steps"])
        state = state.replace(done=jnp.zeros_like(state.done), info={**state.info, "steps": steps})
        stepped = self.env.step(state, action)
        return jax.lax.cond(jnp.any(stepped.done > 0), self._restart_finished, lambda s: s, stepped)

    def _restart_finished(self, stepped: State) -> State:
        """Replace the physics, observation and env ``info`` of finished envs with a fresh reset."""
        fresh = self.env.reset(stepped.info["rng"])
        done = stepped.done > 0

        def pick(new: jax.Array, old: jax.Array) -> jax.Array:
            return jnp.where(done.reshape(done.shape + (1,) * (old.ndim - 1)), new, old)

        info = dict(stepped.info)
        for key in fresh.info:  # dict order, not set order: the traced program must not vary by process
            if key not in _BRAX_EPISODE_INFO:
                info[key] = jax.tree.map(pick, fresh.info[key], stepped.info[key])
        return stepped.replace(
            pipeline_state=jax.tree.map(pick, fresh.pipeline_state, stepped.pipeline_state),
            obs=jax.tree.map(pick, fresh.obs, stepped.obs),
            info=info,
        )


def wrap_for_brax(
    env: Env, episode_length: int, action_repeat: int = 1, randomization_fn: Callable[..., Any] | None = None
) -> Wrapper:
    """Brax's training wrapping (vmap, episode bookkeeping, auto-reset) made right for our envs.

    Signature of brax's ``envs.training.wrap`` so brax's trainers take it as ``wrap_env_fn``. Our env
    draws its own randomization per episode, so brax's ``randomization_fn`` is refused.
    """
    if randomization_fn is not None:
        raise ValueError("our envs randomize per episode themselves; brax's randomization_fn is not supported")
    batched = VmapWrapper(BraxAdapter(env))
    return FullResetWrapper(EpisodeWrapper(batched, episode_length, action_repeat))


class _StopTrainingError(Exception):
    """Raised from brax's progress callback to end training at an evaluation."""


@dataclass
class _EvalRecorder:
    """Brax's ``progress_fn`` and ``policy_params_fn``: records evaluations, keeps params, stops training."""

    threshold: float | None
    """Stop at the first evaluation whose return is >= this."""
    time_limit_s: float | None
    """Stop at the first evaluation this many seconds after ``start``."""
    on_eval: Callable[[EvalPoint], None] | None
    """Told of every evaluation."""
    start: float = field(default_factory=time.perf_counter)
    """``time.perf_counter()`` when training started."""
    points: list[EvalPoint] = field(default_factory=list)
    """Evaluations so far."""
    params: Any = None
    """The params brax last handed to ``policy_params_fn`` (PPO only; SAC has no such callback)."""
    stop_when: Callable[[EvalPoint], bool] | None = None
    """Also stop at the first evaluation this accepts."""
    on_params: Callable[[Any], None] | None = None
    """Told of the params of every policy brax is about to evaluate (e.g. to save them)."""
    offset_steps: int = 0
    """Env steps trained before this process (a run started from another's params)."""
    offset_seconds: float = 0.0
    """Training seconds before this process; ``time_limit_s`` counts this process's seconds only."""

    def progress(self, step: int, metrics: Mapping[str, Any]) -> None:
        """Record an evaluation; raise :class:`_StopTrainingError` at the threshold or the time limit."""
        if "eval/episode_reward" not in metrics:
            return
        length = float(metrics["eval/avg_episode_length"]) if "eval/avg_episode_length" in metrics else None
        tracked = metrics.get("eval/episode_reward/tracking_lin_vel")
        tracking = None if tracked is None or not length else float(tracked) / length
        elapsed = time.perf_counter() - self.start
        point = EvalPoint(
            self.offset_steps + int(step),
            self.offset_seconds + elapsed,
            float(metrics["eval/episode_reward"]),
            tracking,
            length,
        )
        self.points.append(point)
        if self.on_eval is not None:
            self.on_eval(point)
        hit = self.threshold is not None and point.eval_return >= self.threshold
        hit = hit or (self.stop_when is not None and self.stop_when(point))
        if hit or (self.time_limit_s is not None and elapsed >= self.time_limit_s):
            raise _StopTrainingError

    def keep_params(self, step: int, make_policy: Any, params: Any) -> None:
        """Keep the params of the policy brax is about to evaluate."""
        del step, make_policy
        self.params = params
        if self.on_params is not None:
            self.on_params(params)

    @property
    def reached(self) -> EvalPoint | None:
        """The first evaluation that reached the threshold."""
        if self.threshold is None:
            return None
        return next((p for p in self.points if p.eval_return >= self.threshold), None)


def train_brax(
    algo: str,
    env: MjxEnv,
    settings: dict[str, Any],
    *,
    seed: int,
    threshold: float | None = None,
    time_limit_s: float | None = None,
    num_evals: int | None = None,
    on_eval: Callable[[EvalPoint], None] | None = None,
    stop_when: Callable[[EvalPoint], bool] | None = None,
    on_params: Callable[[Any], None] | None = None,
    start: BraxStart | None = None,
) -> BraxRun:
    """Train Brax PPO or SAC on ``env`` with brax's own trainer; evaluate on another instance of the task.

    Args:
        algo: one of :data:`BRAX_ALGOS`.
        env: the task env (single instance; brax batches it).
        settings: brax ``train`` arguments (see :func:`brax_settings`); ``network_factory`` holds network
            factory keyword arguments. ``episode_length``, when given, must equal the env's.
        seed: brax's seed.
        threshold: stop at the first evaluation whose return is >= this.
        time_limit_s: stop at the first evaluation after this many seconds.
        num_evals: overrides the settings' ``num_evals``. brax spaces evaluations by whole training
            epochs (PPO: ``num_envs * unroll_length * ... * max(num_resets_per_eval, 1)`` env steps at
            the least), so asking for more evaluations than that allows runs past ``num_timesteps``.
        on_eval: called with every :class:`EvalPoint` as it is recorded.
        stop_when: stop at the first evaluation it accepts (besides ``threshold`` and ``time_limit_s``).
        on_params: called with the params of every policy about to be evaluated (PPO only).
        start: begin from another run's params (PPO only); evaluations count on from its steps and seconds.

    Returns:
        The evaluations, the first one reaching ``threshold``, and the params and ``make_policy``.

    """
    _check_algo(algo)
    kwargs = _train_kwargs(algo, env, settings)
    if num_evals is not None:
        kwargs["num_evals"] = num_evals
    eval_env: Env = type(env)(env.robot, env.config)
    environment: Env = env
    if algo == "brax_sac":
        environment, eval_env = ActorObservationWrapper(env), ActorObservationWrapper(eval_env)
    networks = _network_factory(algo, settings)
    if start is not None and algo != "brax_ppo":
        raise ValueError(f"only brax_ppo starts from saved params, not {algo}")
    recorder = _EvalRecorder(threshold, time_limit_s, on_eval, stop_when=stop_when, on_params=on_params)
    trainer = ppo.train if algo == "brax_ppo" else sac.train
    if algo == "brax_ppo":
        kwargs["policy_params_fn"] = recorder.keep_params
    if start is not None:
        kwargs["restore_params"] = start.params
        recorder.offset_steps, recorder.offset_seconds = start.env_steps, start.seconds
    try:
        _, params, _ = trainer(
            environment=environment,
            eval_env=eval_env,
            seed=seed,
            network_factory=networks,
            wrap_env_fn=wrap_for_brax,
            progress_fn=recorder.progress,
            **kwargs,
        )
    except _StopTrainingError:
        params = recorder.params
    make_policy = _make_policy_fn(algo, env, networks, bool(settings.get("normalize_observations", False)))
    return BraxRun(points=recorder.points, reached=recorder.reached, params=params, make_policy=make_policy)


def write_brax_config(
    run_dir: Path,
    algo: str,
    task: str,
    settings: dict[str, Any],
    seed: int,
    last: EvalPoint | None,
    init_from: dict[str, Any] | None = None,
) -> None:
    """Write ``config.yaml``: the recipe (task, algo, seed, settings) and where the run stands (its last evaluation).

    ``init_from`` (a run started from another's params) records the parent: its folder, steps, seconds and
    command; ``env_steps`` and ``train_seconds`` then count the parent's too.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "task": task,
        "algo": algo,
        "seed": seed,
        "settings": _plain(settings),
        "env_steps": 0 if last is None else last.env_steps,
        "train_seconds": 0.0 if last is None else round(last.seconds, 1),
        "command": shlex.join(sys.argv),
        "git_sha": git_sha(),
        "device": f"cpu ({os.cpu_count()} cores)" if jax.default_backend() == "cpu" else jax.devices()[0].device_kind,
    }
    if init_from is not None:
        config["init_from"] = init_from
    (run_dir / CONFIG_FILE).write_text(yaml.safe_dump(config, sort_keys=False))


def save_brax_run(
    run_dir: Path,
    algo: str,
    task: str,
    settings: dict[str, Any],
    seed: int,
    run: BraxRun,
    scalars: bool = True,
    init_from: dict[str, Any] | None = None,
) -> None:
    """Write ``brax_params.pkl`` (when the run has params), ``config.yaml`` and (``scalars``) TensorBoard scalars.

    TensorBoard gets ``eval/return_mean`` and ``eval/seconds`` (wall-clock since the start) at
    step = env steps for every evaluation, and the tracking reward and episode length where brax reports them.
    """
    from torch.utils.tensorboard import SummaryWriter  # torch is heavy; only saving needs it

    if run.params is not None:
        save_brax_params(run_dir, run.params)
    write_brax_config(run_dir, algo, task, settings, seed, run.points[-1] if run.points else None, init_from)
    if not scalars:
        return
    writer = SummaryWriter(str(run_dir))
    try:
        for point in run.points:
            log_brax_point(writer, point)
    finally:
        writer.close()


def log_brax_point(writer: Any, point: EvalPoint) -> None:
    """One evaluation as TensorBoard scalars at step = env steps (``writer``: a ``SummaryWriter``)."""
    writer.add_scalar("eval/return_mean", point.eval_return, global_step=point.env_steps)
    writer.add_scalar("eval/seconds", point.seconds, global_step=point.env_steps)
    if point.tracking is not None:
        writer.add_scalar("eval_terms/tracking_lin_vel", point.tracking, global_step=point.env_steps)
    if point.episode_length is not None:
        writer.add_scalar("eval/episode_length", point.episode_length, global_step=point.env_steps)


def save_brax_params(run_dir: Path, params: Any) -> None:
    """Write ``brax_params.pkl`` atomically (a temporary file renamed), so a killed run keeps its last params."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{PARAMS_FILE}.tmp"
    brax_model.save_params(str(tmp), params)
    tmp.replace(run_dir / PARAMS_FILE)


def read_brax_run(run_dir: Path) -> tuple[dict[str, Any], Any]:
    """A saved run's ``config.yaml`` (checked: a brax algo and its settings) and its ``brax_params.pkl``.

    A missing or unreadable file raises :class:`ConfigError` naming it.
    """
    config_path = run_dir / CONFIG_FILE
    config = read_yaml_mapping(config_path)
    if config.get("algo") not in BRAX_ALGOS:
        raise ConfigError.single(
            config_path, "algo", f"must be one of {', '.join(BRAX_ALGOS)}, got {config.get('algo')!r}"
        )
    if not isinstance(config.get("settings"), dict):
        raise ConfigError.single(config_path, "settings", "must be a mapping of brax train settings")
    params_path = run_dir / PARAMS_FILE
    if not params_path.is_file():
        raise ConfigError.single(
            params_path, "-", "no params saved (the run stopped before brax returned any); retrain without a threshold"
        )
    try:
        params = brax_model.load_params(str(params_path))
    except Exception as exc:  # unpickling garbage can raise almost anything
        raise ConfigError.single(
            params_path, "-", f"not a brax params pickle ({type(exc).__name__}); train and save the run again"
        ) from None
    return config, params


def brax_start(run_dir: Path, task: str, settings: dict[str, Any]) -> tuple[BraxStart, dict[str, Any]]:
    """Where a Brax PPO run that starts from ``run_dir``'s params begins, and the parent as ``config.yaml`` records it.

    The parent must be a Brax PPO run of the same task with the same network sizes; otherwise
    :class:`ConfigError` names the mismatch.
    """
    config, params = read_brax_run(run_dir)
    config_path = run_dir / CONFIG_FILE
    if config["algo"] != "brax_ppo":
        raise ConfigError.single(config_path, "algo", f"is {config['algo']}; --init-from takes a brax_ppo run")
    if config.get("task") != task:
        wrong = f"is {config.get('task')!r}, not {task!r}; start from a {task} run"
        raise ConfigError.single(config_path, "task", wrong)
    networks = _plain(settings).get("network_factory")
    if config["settings"].get("network_factory") != networks:
        wrong = f"differs from this run's {networks}; start from a run of this recipe"
        raise ConfigError.single(config_path, "settings.network_factory", wrong)
    env_steps, seconds = int(config.get("env_steps", 0)), float(config.get("train_seconds", 0.0))
    parent = {"run_dir": str(run_dir), "env_steps": env_steps, "train_seconds": seconds}
    parent.update({key: config[key] for key in ("command", "git_sha", "device", "init_from") if key in config})
    return BraxStart(params, env_steps, seconds), parent


def load_brax_policy(run_dir: Path, env: MjxEnv) -> Callable[[jax.Array], jax.Array]:
    """The deterministic policy of a saved run: a batch of actor observations -> a batch of actions.

    Rebuilds brax's networks from ``config.yaml`` and loads ``brax_params.pkl``; a missing or unreadable
    file, or params that do not fit ``env``, raise :class:`ConfigError`.
    """
    config, params = read_brax_run(run_dir)
    algo, settings = config["algo"], config["settings"]
    params_path = run_dir / PARAMS_FILE
    networks = _network_factory(algo, settings)
    make_policy = _make_policy_fn(algo, env, networks, bool(settings.get("normalize_observations", False)))
    key = jax.random.PRNGKey(0)

    @jax.jit
    def policy(obs: jax.Array) -> jax.Array:
        inference = make_policy(params, deterministic=True)
        return inference({"actor": obs} if algo == "brax_ppo" else obs, key)[0]

    (actor_size,) = env.observation_size["actor"]
    try:
        jax.block_until_ready(policy(jnp.zeros((1, actor_size))))
    except Exception as exc:  # flax and jax shape errors have many types
        raise ConfigError.single(
            params_path, "-", f"params do not fit this env's networks ({type(exc).__name__}); load the run's own task"
        ) from None
    return policy


# ---- helpers ---------------------------------------------------------------------------------------


def _check_algo(algo: str) -> None:
    """Refuse an unknown algorithm name."""
    if algo not in BRAX_ALGOS:
        raise ValueError(f"unknown brax algo {algo!r}; known: {', '.join(BRAX_ALGOS)}")


def _train_kwargs(algo: str, env: MjxEnv, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as brax ``train`` keyword arguments, checked against its signature and the env."""
    kwargs = {key: value for key, value in settings.items() if key != "network_factory"}
    trainer = ppo.train if algo == "brax_ppo" else sac.train
    accepted = set(inspect.signature(trainer).parameters) - _RESERVED
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"{algo} does not take setting(s) {', '.join(unknown)} (brax {trainer.__module__})")
    episode_length = env.config.episode_length
    if kwargs.setdefault("episode_length", episode_length) != episode_length:
        raise ValueError(
            f"settings' episode_length {kwargs['episode_length']} differs from the env's {episode_length}; "
            "set them equal"
        )
    return kwargs


def _network_factory(algo: str, settings: Mapping[str, Any]) -> Callable[..., Any]:
    """Brax's network factory with the settings' keyword arguments (PPO: policy on actor, value on critic)."""
    options = dict(settings.get("network_factory") or {})
    if algo == "brax_ppo":
        return functools.partial(
            ppo_networks.make_ppo_networks, policy_obs_key="actor", value_obs_key="critic", **options
        )
    return functools.partial(sac_networks.make_sac_networks, **options)


def _make_policy_fn(algo: str, env: MjxEnv, factory: Callable[..., Any], normalize: bool) -> Any:
    """Brax's ``make_policy`` for networks built the way its trainer builds them for ``env``."""
    preprocess = running_statistics.normalize if normalize else brax_types.identity_observation_preprocessor
    sizes = env.observation_size
    if algo == "brax_ppo":
        networks = factory(sizes, env.action_size, preprocess_observations_fn=preprocess)
        return ppo_networks.make_inference_fn(networks)
    (actor_size,) = sizes["actor"]
    networks = factory(observation_size=actor_size, action_size=env.action_size, preprocess_observations_fn=preprocess)
    return sac_networks.make_inference_fn(networks)


def _plain(value: Any) -> Any:
    """Settings as plain YAML types (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
