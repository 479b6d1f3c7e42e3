"""Brax PPO and Brax SAC on our tasks: the baseline (and peer) our own learners are measured against.

:func:`train_brax` runs brax's own ``ppo.train`` / ``sac.train`` (one row each of :data:`BRAX_BASELINES`) on an
:class:`~sim.env.MjxEnv` with the task's settings from :mod:`sim2real.baselines.brax_settings`
(:func:`brax_settings`; a task without settings is refused before anything compiles), records every brax evaluation as
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
from sim2real.baselines.brax_settings import TASK_SETTINGS, TaskSettings
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import read_yaml_mapping

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


def _ppo_networks(options: Mapping[str, Any]) -> Callable[..., Any]:
    """Brax's PPO network factory: policy on the ``actor`` observation, value on the privileged ``critic``."""
    return functools.partial(ppo_networks.make_ppo_networks, policy_obs_key="actor", value_obs_key="critic", **options)


def _ppo_inference(env: MjxEnv, factory: Callable[..., Any], preprocess: Callable[..., Any]) -> Any:
    """PPO's ``make_policy`` for networks built on the env's observation dict."""
    networks = factory(env.observation_size, env.action_size, preprocess_observations_fn=preprocess)
    return ppo_networks.make_inference_fn(networks)


def _sac_networks(options: Mapping[str, Any]) -> Callable[..., Any]:
    """Brax's SAC network factory (actor and critic both on the ``actor`` array)."""
    return functools.partial(sac_networks.make_sac_networks, **options)


def _sac_inference(env: MjxEnv, factory: Callable[..., Any], preprocess: Callable[..., Any]) -> Any:
    """SAC's ``make_policy`` for networks built on the ``actor`` array."""
    (actor_size,) = env.observation_size["actor"]
    networks = factory(observation_size=actor_size, action_size=env.action_size, preprocess_observations_fn=preprocess)
    return sac_networks.make_inference_fn(networks)


@dataclass(frozen=True)
class BraxAlgorithm:
    """One Brax baseline: brax's trainer, how its networks and policy are built, and its settings per task."""

    name: str
    """Name on the command line (``--algo``)."""
    train_fn: Callable[..., Any]
    """brax's ``train`` function."""
    networks: Callable[[Mapping[str, Any]], Callable[..., Any]]
    """The network factory, given the settings' ``network_factory`` keyword arguments."""
    inference: Callable[[MjxEnv, Callable[..., Any], Callable[..., Any]], Any]
    """``(env, network factory, observation preprocessor) -> make_policy``, as brax's trainer builds it."""
    takes_dict_obs: bool
    """Whether the trainer takes the env's ``{actor, critic}`` observation (else the ``actor`` array alone)."""
    hands_params: bool
    """Whether the trainer hands every evaluated policy's params to ``policy_params_fn`` and takes
    ``restore_params``: what saving as it trains, stopping at a goal and starting from saved params need."""
    tasks: Mapping[str, TaskSettings]
    """The tasks it has settings for."""

    def policy_input(self, obs: jax.Array) -> Any:
        """A batch of actor observations as this algorithm's policy takes them."""
        return {"actor": obs} if self.takes_dict_obs else obs


BRAX_BASELINES: dict[str, BraxAlgorithm] = {
    "brax_ppo": BraxAlgorithm(
        name="brax_ppo",
        train_fn=ppo.train,
        networks=_ppo_networks,
        inference=_ppo_inference,
        takes_dict_obs=True,
        hands_params=True,
        tasks=TASK_SETTINGS["brax_ppo"],
    ),
    "brax_sac": BraxAlgorithm(
        name="brax_sac",
        train_fn=sac.train,
        networks=_sac_networks,
        inference=_sac_inference,
        takes_dict_obs=False,  # brax 0.14.2's sac.train refuses dict observations
        hands_params=False,
        tasks=TASK_SETTINGS["brax_sac"],
    ),
}
"""The Brax baselines, by name."""

BRAX_ALGOS: tuple[str, ...] = tuple(BRAX_BASELINES)
"""The Brax baselines' names."""


def brax_algorithm(algo: str) -> BraxAlgorithm:
    """The baseline named ``algo``; ``ValueError`` naming the known ones otherwise."""
    if algo not in BRAX_BASELINES:
        raise ValueError(f"unknown brax algo {algo!r}; known: {', '.join(BRAX_ALGOS)}")
    return BRAX_BASELINES[algo]


def task_settings(algo: str, task: str) -> TaskSettings:
    """``algo``'s settings for ``task``; :class:`ConfigError` on ``--task`` naming the tasks it has settings for."""
    tasks = brax_algorithm(algo).tasks
    if task not in tasks:
        raise ConfigError.single(
            "--task",
            task,
            f"{algo} has no settings for this task (it has: {', '.join(tasks)}); train it with fasttd3 or fastsac",
        )
    return tasks[task]


def brax_settings(algo: str, task: str, *, cpu_sized: bool) -> dict[str, Any]:
    """``algo``'s settings for ``task`` (:func:`task_settings`), with its CPU changes if ``cpu_sized``.

    The result is a fresh copy the caller may change.
    """
    chosen = task_settings(algo, task)
    settings = copy.deepcopy(chosen.settings)
    if cpu_sized:
        settings.update(copy.deepcopy(chosen.cpu_changes))
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
    """Mean per-step reward of the task's tracking metric in the eval episodes, for tasks that track (at most 1)."""
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
    tracking_term: str | None = None
    """The task's tracking metric (the reward term behind :attr:`EvalPoint.tracking`), None for none."""


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
    tracking_term: str | None = None
    """The task's tracking metric: :attr:`EvalPoint.tracking` is brax's ``eval/episode_reward/<term>`` per step."""

    def progress(self, step: int, metrics: Mapping[str, Any]) -> None:
        """Record an evaluation; raise :class:`_StopTrainingError` at the threshold or the time limit."""
        if "eval/episode_reward" not in metrics:
            return
        length = float(metrics["eval/avg_episode_length"]) if "eval/avg_episode_length" in metrics else None
        tracked = None if self.tracking_term is None else metrics.get(f"eval/episode_reward/{self.tracking_term}")
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
    baseline = brax_algorithm(algo)
    kwargs = _train_kwargs(baseline, env, settings)
    if num_evals is not None:
        kwargs["num_evals"] = num_evals
    eval_env: Env = type(env)(env.robot, env.config)
    environment: Env = env
    if not baseline.takes_dict_obs:
        environment, eval_env = ActorObservationWrapper(env), ActorObservationWrapper(eval_env)
    networks = baseline.networks(settings.get("network_factory") or {})
    if start is not None and not baseline.hands_params:
        raise ValueError(f"{algo} does not start from saved params")
    tracking_term = env.GOAL.tracking_metric
    recorder = _EvalRecorder(
        threshold, time_limit_s, on_eval, stop_when=stop_when, on_params=on_params, tracking_term=tracking_term
    )
    if baseline.hands_params:
        kwargs["policy_params_fn"] = recorder.keep_params
    if start is not None:
        kwargs["restore_params"] = start.params
        recorder.offset_steps, recorder.offset_seconds = start.env_steps, start.seconds
    try:
        _, params, _ = baseline.train_fn(
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
    make_policy = _make_policy_fn(baseline, env, networks, bool(settings.get("normalize_observations", False)))
    return BraxRun(recorder.points, recorder.reached, params, make_policy, tracking_term)


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
            log_brax_point(writer, point, run.tracking_term)
    finally:
        writer.close()


def log_brax_point(writer: Any, point: EvalPoint, tracking_term: str | None) -> None:
    """One evaluation as TensorBoard scalars at step = env steps (``writer``: a ``SummaryWriter``).

    The tracking reward goes under ``eval_terms/<tracking_term>``, the tag our learners give that term.
    """
    writer.add_scalar("eval/return_mean", point.eval_return, global_step=point.env_steps)
    writer.add_scalar("eval/seconds", point.seconds, global_step=point.env_steps)
    if point.tracking is not None and tracking_term is not None:
        writer.add_scalar(f"eval_terms/{tracking_term}", point.tracking, global_step=point.env_steps)
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
    if not brax_algorithm(config["algo"]).hands_params:
        starts = ", ".join(name for name, baseline in BRAX_BASELINES.items() if baseline.hands_params)
        raise ConfigError.single(config_path, "algo", f"is {config['algo']}; --init-from takes a run of {starts}")
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
    baseline, settings = brax_algorithm(config["algo"]), config["settings"]
    params_path = run_dir / PARAMS_FILE
    networks = baseline.networks(settings.get("network_factory") or {})
    make_policy = _make_policy_fn(baseline, env, networks, bool(settings.get("normalize_observations", False)))
    key = jax.random.PRNGKey(0)

    @jax.jit
    def policy(obs: jax.Array) -> jax.Array:
        inference = make_policy(params, deterministic=True)
        return inference(baseline.policy_input(obs), key)[0]

    (actor_size,) = env.observation_size["actor"]
    try:
        jax.block_until_ready(policy(jnp.zeros((1, actor_size))))
    except Exception as exc:  # flax and jax shape errors have many types
        raise ConfigError.single(
            params_path, "-", f"params do not fit this env's networks ({type(exc).__name__}); load the run's own task"
        ) from None
    return policy


# ---- helpers ---------------------------------------------------------------------------------------


def _train_kwargs(baseline: BraxAlgorithm, env: MjxEnv, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as brax ``train`` keyword arguments, checked against its signature and the env."""
    kwargs = {key: value for key, value in settings.items() if key != "network_factory"}
    accepted = set(inspect.signature(baseline.train_fn).parameters) - _RESERVED
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        module = baseline.train_fn.__module__
        raise ValueError(f"{baseline.name} does not take setting(s) {', '.join(unknown)} (brax {module})")
    episode_length = env.config.episode_length
    if kwargs.setdefault("episode_length", episode_length) != episode_length:
        raise ValueError(
            f"settings' episode_length {kwargs['episode_length']} differs from the env's {episode_length}; "
            "set them equal"
        )
    return kwargs


def _make_policy_fn(baseline: BraxAlgorithm, env: MjxEnv, factory: Callable[..., Any], normalize: bool) -> Any:
    """Brax's ``make_policy`` for networks built the way its trainer builds them for ``env``."""
    preprocess = running_statistics.normalize if normalize else brax_types.identity_observation_preprocessor
    return baseline.inference(env, factory, preprocess)


def _plain(value: Any) -> Any:
    """Settings as plain YAML types (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
