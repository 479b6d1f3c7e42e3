"""``sim2real train`` and ``sim2real eval``: resolve the recipe, run or resume it, evaluate a run folder."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

import jax
import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from policies.checkpoint import CHECKPOINT_NAME
from policies.deployed import DeployedPolicy
from policies.distributed import SINGLE, Launch, PeerLostError, Ranks
from policies.env_bridge import on_jax_arrays
from policies.runs import (
    check_new_run,
    check_resume,
    check_world_size,
    load_run,
    load_run_policy,
    saved_config,
    start_run,
    write_run_config,
)
from policies.train_config import LEARNERS, TrainConfig, gpu_recipe_on_cpu_warning, merge, resolve_train_config
from policies.trainer import EvalPoint, RunStoppedError, Trainer, build_agent, resolve_device
from sim.batched import BatchedEnv
from sim.env import MjxEnv
from sim.evaluation import Episodes, Evaluator
from sim2real.baselines.brax_agents import (
    BRAX_ALGOS,
    CONFIG_FILE,
    PARAMS_FILE,
    brax_algorithm,
    brax_settings,
    brax_start,
    load_brax_policy,
    log_brax_point,
    save_brax_params,
    save_brax_run,
    train_brax,
    write_brax_config,
)
from sim2real.baselines.brax_agents import (
    EvalPoint as BraxEvalPoint,
)
from sim2real.bench.learn_bench import goal_for
from sim2real.plot import EVAL_TAG, read_scalars
from sim2real.rank_setup import RankStoppedError, join_ranks
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import parse_model, read_yaml_mapping
from tasks.registry import get_task, is_task_yaml, make_env, make_evaluation_env, task_yaml_overrides


@dataclass(frozen=True)
class TrainRequest:
    """What the user asked ``sim2real train`` for (None: not given)."""

    task: str | None
    """Task name."""
    algo: str | None
    """Algorithm name."""
    flags: dict[str, Any]
    """Run fields given as flags (num_envs, total_steps, seed)."""
    config_file: Path | None
    """Optional YAML with more run fields."""
    run_dir: Path | None
    """Run folder."""
    resume: bool
    """Continue the run in ``run_dir``."""
    progress: bool
    """Show the progress bar."""
    launch: Launch | None = None
    """The torchrun launch of a ``--distributed`` run (None: one process)."""
    until_goal: bool = False
    """Stop at the first evaluation that meets the task's ``bench learn`` goal (the checkpoint is written then)."""
    init_from: Path | None = None
    """A Brax PPO run whose params this Brax PPO run starts from (its steps and seconds count on)."""


def default_run_dir(config: TrainConfig) -> Path:
    """``runs/<task>-<algo>-s<seed>``."""
    return Path("runs") / f"{config.task}-{config.algo}-s{config.seed}"


def _task_and_overrides(task: str) -> tuple[str, dict[str, Any]]:
    """A registered task name, or a task YAML's task and config overrides."""
    if is_task_yaml(task):
        spec, overrides = task_yaml_overrides(Path(task))
        return spec.name, overrides
    return get_task(task).name, {}


def prepare_training(request: TrainRequest) -> Trainer:
    """Resolve the recipe and set up (or resume) the run folder; the returned trainer is ready to run.

    Under torchrun every rank resolves the same recipe and checks the same folder; rank 0 alone writes it.
    """
    world_size = 1 if request.launch is None else request.launch.world_size
    request = replace(request, flags=merge(request.flags, {"distributed": {"world_size": world_size}}))
    if request.resume:
        if request.run_dir is None:
            raise ConfigError.single("--resume", "-", "needs --run-dir naming the run to continue")
        payload = load_run(request.run_dir)
        check_world_size(request.run_dir, payload, world_size)
        data = {key: value for key, value in payload["config"].items() if key != "scaling"}
        if request.config_file is not None:
            data = merge(data, read_yaml_mapping(request.config_file))
        data = merge(data, request.flags)
        if request.task is not None:
            data["task"] = request.task
        if request.algo is not None:
            data["learner"] = {**data["learner"], "algo": request.algo}
        config = parse_model("flags", TrainConfig, data)
        check_resume(request.run_dir, payload, config)
        _check_device(config, request.run_dir)
        ranks, device = _join(config, request.launch)
        if ranks.is_main:
            write_run_config(request.run_dir, config)
            _warn_of_gpu_recipe_on_cpu(config, device)
        return Trainer(config, request.run_dir, payload, request.progress, ranks, device)
    if request.task is None:
        raise ConfigError.single("--task", "-", "name the task to train (sim2real tasks lists them)")
    task, task_overrides = _task_and_overrides(request.task)
    algo = request.algo or "fasttd3"
    if algo not in LEARNERS:
        raise ConfigError.single("--algo", algo, f"unknown algorithm; choose one of: {', '.join(ALGORITHMS)}")
    config = resolve_train_config(task, algo, request.config_file, request.flags, task_overrides)
    run_dir = request.run_dir or default_run_dir(config)
    check_new_run(run_dir)
    _check_device(config, request.config_file or "--config")
    ranks, device = _join(config, request.launch)
    if ranks.is_main:
        start_run(run_dir, config)
        _warn_of_gpu_recipe_on_cpu(config, device)
    ranks.barrier()
    return Trainer(config, run_dir, None, request.progress, ranks, device)


def _join(config: TrainConfig, launch: Launch | None) -> tuple[Ranks, torch.device | None]:
    """The process's ranks and device: the one-process run, or its place in the torchrun job."""
    return (SINGLE, None) if launch is None else join_ranks(config, launch)


def _check_device(config: TrainConfig, source: Path | str) -> None:
    """Refuse in one line a config that asks for CUDA on a machine where torch finds none."""
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError.single(
            source,
            "device",
            "is cuda but torch finds no CUDA GPU here; use device: auto (on this machine the CPU recipe) or cpu",
        )


def _warn_of_gpu_recipe_on_cpu(config: TrainConfig, device: torch.device | None) -> None:
    """Print one line on stderr when a GPU-sized learner is about to train on the CPU."""
    warning = gpu_recipe_on_cpu_warning(config) if (device or resolve_device(config)).type == "cpu" else None
    if warning is not None:
        print(f"sim2real train: {warning}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def stop_on_signals(trainer: Trainer) -> Iterator[None]:
    """While training in one process, SIGINT and SIGTERM ask ``trainer`` to stop after its current iteration.

    The run then writes a checkpoint and raises RunInterruptedError. A second SIGINT quits at once
    (KeyboardInterrupt), without a checkpoint. The handlers in place before are restored on exit.
    """

    def ask_to_stop(signum: int, frame: FrameType | None) -> None:
        del frame
        if signum == signal.SIGINT and trainer.stop_signal is not None:
            raise KeyboardInterrupt
        trainer.request_stop(signum)
        note = f"sim2real train: {signal.Signals(signum).name}: stopping after this iteration to write a checkpoint"
        again = " (Ctrl-C again quits without one)" if signum == signal.SIGINT else ""
        os.write(2, f"{note}{again}\n".encode())  # straight to stderr's descriptor: safe inside a signal handler

    previous = {signum: signal.signal(signum, ask_to_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


ALGORITHMS = (*LEARNERS, "brax_ppo", "brax_sac")
"""Everything ``sim2real train --algo`` accepts."""


def train(request: TrainRequest) -> tuple[Path, list[EvalPoint]]:
    """Run a training request to its end; returns the run folder and its evaluations.

    A rank that loses a peer or is told to stop raises :class:`RunStoppedError` with one line saying
    where the run stands and how to resume it. A one-process run stopped by SIGINT or SIGTERM writes a
    checkpoint first and raises :class:`policies.trainer.RunInterruptedError` (:func:`stop_on_signals`).
    """
    if request.algo in BRAX_ALGOS:
        hands_params = brax_algorithm(str(request.algo)).hands_params
        if request.launch is not None:
            raise ConfigError.single("--distributed", str(request.algo), "Brax baselines train in one process")
        if request.until_goal and not hands_params:
            raise ConfigError.single("--until-goal", str(request.algo), "it trains to --total-steps; drop the flag")
        if request.init_from is not None and not hands_params:
            raise ConfigError.single("--init-from", str(request.algo), "it does not start from saved params")
        return train_brax_baseline(request)
    if request.init_from is not None:
        raise ConfigError.single("--init-from", str(request.algo), "is for brax_ppo; use --resume for this learner")
    try:
        trainer = prepare_training(request)
    except (PeerLostError, RankStoppedError) as exc:
        rank = "" if request.launch is None else f"rank {request.launch.rank} of {request.launch.world_size}: "
        raise RunStoppedError(f"{rank}{exc}; stopped before training began, no checkpoint written") from None
    stop_when = goal_for(trainer.config.task, None).met if request.until_goal else None
    signals = stop_on_signals(trainer) if request.launch is None else contextlib.nullcontext()
    try:
        with signals:
            evals = trainer.run(stop_when)
    except (PeerLostError, RankStoppedError) as exc:
        raise RunStoppedError(trainer.stopped_report(str(exc))) from None
    trainer.ranks.close()
    return trainer.run_dir, evals


def train_brax_baseline(request: TrainRequest) -> tuple[Path, list[EvalPoint]]:
    """Train a Brax baseline with its settings for the task (sized for a CPU when there is no GPU)."""
    algo = str(request.algo)
    if request.resume:
        raise ConfigError.single("--resume", algo, "Brax baselines do not resume; start a new --run-dir")
    if request.config_file is not None:
        raise ConfigError.single("--config", str(request.config_file), f"{algo} takes Playground's settings only")
    if request.task is None:
        raise ConfigError.single("--task", "-", "name the task to train (sim2real tasks lists them)")
    get_task(request.task)
    settings = brax_settings(algo, request.task, cpu_sized=jax.default_backend() == "cpu")
    seed = int(request.flags.get("seed", 0))
    run_dir = request.run_dir or Path("runs") / f"{request.task}-{algo}-s{seed}"
    if (run_dir / PARAMS_FILE).exists() or (run_dir / CHECKPOINT_NAME).exists():
        raise ConfigError.single(run_dir, "--run-dir", "already holds a run; choose another --run-dir")
    if "total_steps" in request.flags:
        settings["num_timesteps"] = request.flags["total_steps"]
    if "num_envs" in request.flags:
        settings["num_envs"] = request.flags["num_envs"]
    start, parent = brax_start(request.init_from, request.task, settings) if request.init_from else (None, None)
    env = make_env(request.task)
    goal = goal_for(request.task, None) if request.until_goal else None
    stop_when = None if goal is None else functools.partial(goal.met_by_brax, episode_length=env.config.episode_length)

    writer = SummaryWriter(str(run_dir))

    def log(point: BraxEvalPoint) -> None:
        log_brax_point(writer, point, env.GOAL.tracking_metric)
        writer.flush()
        write_brax_config(run_dir, algo, str(request.task), settings, seed, point, parent)
        if request.progress:
            tracked = "" if point.tracking is None else f", tracking {point.tracking:.3f}"
            length = "" if point.episode_length is None else f", episode length {point.episode_length:.0f}"
            where = f"{point.env_steps:>12,} env steps, {point.seconds:7.0f} s"
            print(f"{where}: return {point.eval_return:.2f}{tracked}{length}", flush=True)

    try:
        run = train_brax(
            algo,
            env,
            settings,
            seed=seed,
            on_eval=log,
            stop_when=stop_when,
            on_params=lambda params: save_brax_params(run_dir, params),
            start=start,
        )
    finally:
        writer.close()
    save_brax_run(run_dir, algo, request.task, settings, seed, run, scalars=False, init_from=parent)
    return run_dir, [EvalPoint(p.env_steps, p.seconds, p.eval_return, p.tracking) for p in run.points]


def evaluate_run(run_dir: Path, task: str | None, episodes: int, seed: int) -> dict[str, Any]:
    """A run's latest policy, noise-free, over ``episodes`` episodes (one per env) of the task's evaluation env.

    Returns, episode lengths, falls and (joystick tasks) the mean per-step tracking reward.
    """
    if (run_dir / PARAMS_FILE).exists() and not (run_dir / CHECKPOINT_NAME).exists():
        return _evaluate_brax_run(run_dir, task, episodes, seed)
    trained = load_trained(run_dir, task)
    policy = on_jax_arrays(trained.policy, torch.device("cpu"))
    played = Evaluator(BatchedEnv(trained.env, episodes)).episodes(policy, jax.random.PRNGKey(seed))
    env_steps = int(trained.payload["env_steps"])
    return _result(run_dir, trained.env_name, trained.config.algo, env_steps, played, trained.env)


@dataclass(frozen=True)
class TrainedRun:
    """A run folder's latest policy, as deployed, with what it was trained on."""

    config: TrainConfig
    """The run's resolved recipe."""
    env_name: str
    """The task the agent is loaded for."""
    env: MjxEnv
    """That task's env, with the run's overrides."""
    policy: DeployedPolicy
    """The trained policy: raw observation -> bounded action (CPU, float32)."""
    payload: dict[str, Any]
    """The checkpoint's policy archive (:func:`policies.runs.policy_section`: git sha, env steps, ...)."""


def load_trained(run_dir: Path, task: str | None = None) -> TrainedRun:
    """Load a run's deployed policy for its own task (or ``task``); one-line errors when it does not fit.

    Only the checkpoint's policy archive is read: no replay buffer, optimizer or env state.
    """
    if (run_dir / PARAMS_FILE).exists() and not (run_dir / CHECKPOINT_NAME).exists():
        raise ConfigError.single(run_dir, "-", "is a Brax baseline run; only FastTD3/FastSAC runs export")
    payload = load_run_policy(run_dir)
    config = saved_config(run_dir, payload)
    task = task or config.task
    env = make_evaluation_env(task, config.env)
    agent = build_agent(config, env, torch.device("cpu"))
    try:
        agent.load_policy_state(payload["policy"])
    except (RuntimeError, KeyError) as exc:
        message = f"its policy does not fit task {task} ({type(exc).__name__}); use the task it was trained on"
        raise ConfigError.single(run_dir, "--task", message) from None
    return TrainedRun(config, task, env, agent.deployable(), payload)


def _evaluate_brax_run(run_dir: Path, task: str | None, episodes: int, seed: int) -> dict[str, Any]:
    """Evaluate a Brax baseline run folder with the same evaluator as ours."""
    run_config = read_yaml_mapping(run_dir / CONFIG_FILE)
    task = task or str(run_config.get("task"))
    env = make_evaluation_env(task)
    policy = load_brax_policy(run_dir, env)
    played = Evaluator(BatchedEnv(env, episodes)).episodes(policy, jax.random.PRNGKey(seed))
    steps = read_scalars(run_dir, EVAL_TAG)
    env_steps = steps[-1][0] if steps else int(run_config.get("env_steps", 0))
    return _result(run_dir, task, str(run_config.get("algo")), env_steps, played, env)


def _result(run_dir: Path, task: str, algo: str, env_steps: int, played: Episodes, env: MjxEnv) -> dict[str, Any]:
    """The evaluation summary ``sim2real eval`` prints; a fall is an episode that ended before the time limit.

    ``tracking`` is the mean per-step reward of the task's tracking metric (None when it has none); each of the
    task's tracking terms also appears under its own name (``tracking_lin_vel`` for the joystick tasks).
    """
    returns, goal = played.returns, env.GOAL
    tracked = {
        name: float(np.mean(played.term_means[name])) for name in goal.tracking_terms if name in played.term_means
    }
    return {
        "run_dir": str(run_dir),
        "task": task,
        "algo": algo,
        "env_steps": env_steps,
        "episodes": len(returns),
        "return_mean": float(np.mean(returns)),
        "return_std": float(np.std(returns)),
        "return_min": float(np.min(returns)),
        "return_max": float(np.max(returns)),
        "episode_length_mean": float(np.mean(played.lengths)),
        "falls": int((played.lengths < env.config.episode_length).sum()),
        "tracking": None if goal.tracking_metric is None else tracked.get(goal.tracking_metric),
        **tracked,
    }
