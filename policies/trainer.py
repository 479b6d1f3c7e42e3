"""The training loop: JAX envs feed a torch learner through DLPack; evaluation, logging, checkpoints.

One iteration steps every training env once with exploratory actions, stores the transitions (the
pre-reset observation of finished episodes is the next observation, so time-outs bootstrap), and runs
``updates_per_step`` learner updates. Every ``eval_every`` env steps the actor plays noise-free episodes
on separate envs; every ``checkpoint_every`` env steps (and at the end) the whole training state is
written atomically. A non-finite observation, reward or loss stops the run before the next checkpoint,
so the last good one stays on disk. A one-process run asked to stop (:meth:`Trainer.request_stop`, which
``sim2real train`` calls on SIGINT and SIGTERM) finishes its iteration, writes a checkpoint and raises
:class:`RunInterruptedError`. Progress lines (:mod:`policies.progress`) come every few seconds from the start.

Under several ranks (:mod:`policies.distributed`) each rank steps its own envs into its own buffer and the
agent averages gradients over the ranks. Rank 0 alone evaluates, logs and writes checkpoints; it decides
when to stop and tells the others. A checkpoint holds every rank's envs, buffer and random state, so each
rank resumes where it was.
"""

from __future__ import annotations

import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from policies.action_bounds import joint_limit_bounds
from policies.agent import AgentSpec, OffPolicyAgent
from policies.checkpoint import CHECKPOINT_NAME, save_checkpoint
from policies.distributed import SINGLE, Ranks
from policies.env_bridge import on_jax_arrays, pack_tree, to_jax, to_torch, unpack_tree
from policies.fast_sac import FastSAC
from policies.fast_td3 import FastTD3
from policies.mirror import MirrorMap, SignedPermutation
from policies.progress import ProgressLog, status_line
from policies.provenance import git_sha
from policies.replay import ReplayBuffer
from policies.runs import policy_section, resume_command
from policies.train_config import TrainConfig
from sim.batched import BatchedEnv
from sim.env import MjxEnv
from sim.evaluation import Evaluator
from tasks.registry import make_env, make_evaluation_env

AGENTS: dict[str, type[OffPolicyAgent]] = {"fasttd3": FastTD3, "fastsac": FastSAC}
"""Algorithm name -> agent class."""


class TrainingDivergedError(RuntimeError):
    """A non-finite value appeared; the message names it and where."""


class RunStoppedError(RuntimeError):
    """A rank stopped before the end (a peer lost, or told to stop); the message says how to resume."""


class RunInterruptedError(RuntimeError):
    """A signal stopped a one-process run after an iteration and its checkpoint; the message says how to resume."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number
        """The signal that asked the run to stop."""


@dataclass(frozen=True)
class EvalPoint:
    """One evaluation of a run."""

    env_steps: int
    """Training env steps taken when it ran."""
    seconds: float
    """Training wall-clock seconds so far (JIT included, evaluation time included)."""
    mean_return: float
    """Mean noise-free episode return over the eval envs."""
    tracking: float | None = None
    """Mean per-step reward of the task's tracking metric (:attr:`sim.task_goal.TaskGoal.tracking_metric`, at most
    1), for tasks that track."""
    falls: int = 0
    """Eval episodes that ended before the time limit."""


def resolve_device(config: TrainConfig, local_rank: int = 0) -> torch.device:
    """The torch device the config asks for (``auto``: CUDA when available); ranks share a node's GPUs in turn."""
    kind = config.device
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda":
        return torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    return torch.device(kind)


def _switch(value: str, device: torch.device) -> bool:
    return value == "on" or (value == "auto" and device.type == "cuda")


def action_bounds(env: MjxEnv, choice: str) -> np.ndarray:
    """Per-joint action bounds for ``choice`` (``unit``, ``joint_limits`` or ``auto``) on ``env``'s robot."""
    robot = env.robot
    position = robot.config.control == "position"
    if choice == "joint_limits" and not position:
        raise ValueError(f"action_bounds 'joint_limits' needs a position-controlled robot; {robot.config.name} is not")
    if choice == "unit" or (choice == "auto" and not position):
        return np.ones(env.action_size, dtype=np.float32)
    ranges = np.array([joint.range for joint in robot.config.joints])
    return joint_limit_bounds(ranges[:, 0], ranges[:, 1], np.asarray(robot.default_pose), robot.config.action_scale)


def mirror_of(env: MjxEnv, device: torch.device) -> MirrorMap | None:
    """The task's mirror map as torch permutations, or None when the task declares none."""
    arrays = env.mirror_map()
    if arrays is None:
        return None
    maps = {key: SignedPermutation.from_numpy(*arrays[key], device=device) for key in ("actor", "critic", "action")}
    return MirrorMap(obs=maps["actor"], critic_obs=maps["critic"], action=maps["action"])


def build_agent(config: TrainConfig, env: MjxEnv, device: torch.device, ranks: Ranks = SINGLE) -> OffPolicyAgent:
    """A fresh agent of the config's algorithm, sized for ``env`` and for one of ``ranks``."""
    sizes = env.observation_size
    learner = config.rank_learner()
    spec = AgentSpec(
        obs_size=sizes["actor"][0],
        critic_obs_size=sizes["critic"][0],
        action_bound=torch.as_tensor(action_bounds(env, learner.action_bounds)),
        num_envs=config.scaling.envs_per_rank,
        device=device,
        mirror=mirror_of(env, device),
        bf16=_switch(config.bf16, device),
        ranks=ranks,
    )
    return AGENTS[config.algo](spec, learner)  # type: ignore[arg-type]


def rank_seeds(seed: int, rank: int) -> tuple[jax.Array, int]:
    """(env key, torch seed) of a rank: rank 0 keeps the run's seed, every other rank gets streams of its own.

    The torch seed of ranks above 0 takes over after the networks are built (and broadcast), for their
    exploration noise and replay sampling.
    """
    if rank == 0:
        return jax.random.PRNGKey(seed), seed
    return jax.random.fold_in(jax.random.PRNGKey(seed), rank), seed + 1_000_003 * rank


class Trainer:
    """A run of FastTD3 or FastSAC on a registered task, writing into ``run_dir``."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        resume_from: dict[str, Any] | None = None,
        progress: bool = True,
        ranks: Ranks = SINGLE,
        device: torch.device | None = None,
    ) -> None:
        if ranks.world_size != config.distributed.world_size:
            raise ValueError(f"config is for {config.distributed.world_size} ranks, the job has {ranks.world_size}")
        self.config = config
        self.run_dir = run_dir
        self.ranks = ranks
        self.progress = progress and ranks.is_main
        self.device = device or resolve_device(config)
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
        env_key, torch_seed = rank_seeds(config.seed, ranks.rank)
        torch.manual_seed(config.seed)
        self.learner = learner = config.rank_learner()
        self.envs_per_rank = config.scaling.envs_per_rank

        env = make_env(config.task, config.env)
        self.env = env
        self.batched = BatchedEnv(env, self.envs_per_rank)
        self.reset_fn = jax.jit(self.batched.reset)
        self.step_fn = jax.jit(self.batched.step)
        self.evaluator = (
            Evaluator(BatchedEnv(make_evaluation_env(config.task, config.env), config.eval_envs))
            if ranks.is_main
            else None
        )

        self.agent = build_agent(config, env, self.device, ranks)
        self.timer = self.agent.timer
        ranks.broadcast_(self.agent.shared_tensors())
        if ranks.rank > 0:
            torch.manual_seed(torch_seed)  # rank 0's stream goes on as in a one-process run
        if _switch(config.compile, self.device):
            self.agent.compile_losses()
        self.buffer = ReplayBuffer(
            self.envs_per_rank,
            learner.buffer_steps,
            self.agent.spec.obs_size,
            self.agent.spec.critic_obs_size,
            env.action_size,
            learner.n_step,
            learner.gamma,
            self.device,
        )
        self.state = self.reset_fn(env_key)
        self.iteration = 0
        self.elapsed = 0.0
        self.evals: list[EvalPoint] = []
        self.checkpoint_path = run_dir / CHECKPOINT_NAME
        self.saved_env_steps: int | None = None
        self.stop_signal: int | None = None
        self.log = ProgressLog(self.progress)
        if resume_from is not None:
            self._restore(resume_from)
        self.total_iterations = math.ceil(config.total_steps / config.scaling.total_envs)
        self._launch = (self.iteration, self.agent.updates)
        self._started = time.perf_counter() - self.elapsed
        self._pace_origin: tuple[int, float] | None = None

    # ---- the loop -----------------------------------------------------------------------------------
    @property
    def env_steps(self) -> int:
        """Env steps taken so far (summed over training envs and ranks)."""
        return self.iteration * self.config.scaling.total_envs

    def run(self, stop_when: Callable[[EvalPoint], bool] | None = None) -> list[EvalPoint]:
        """Train to ``total_steps`` (or until ``stop_when`` accepts an evaluation); returns every evaluation.

        Under several ranks every rank calls this; rank 0's evaluations decide the stop for all of them.
        """
        config = self.config
        step_size = config.scaling.total_envs
        eval_period = max(1, config.eval_every // step_size)
        checkpoint_period = max(1, config.checkpoint_every // step_size)
        writer = SummaryWriter(str(self.run_dir)) if self.ranks.is_main else None
        self._start_launch()
        window_start, window_steps = time.perf_counter(), 0
        losses: dict[str, list[torch.Tensor]] = {}
        try:
            while self.iteration < self.total_iterations:
                for name, values in self.train_iteration().items():
                    losses.setdefault(name, []).extend(values)
                window_steps += step_size
                if writer is not None and self.iteration % config.log_every == 0:
                    rate = window_steps / max(time.perf_counter() - window_start, 1e-9)
                    self._log(writer, losses, rate)
                    window_start, window_steps, losses = time.perf_counter(), 0, {}
                done = self.iteration >= self.total_iterations
                stop = False
                if self.iteration % eval_period == 0 or done:
                    if writer is not None:
                        point = self._evaluate(time.perf_counter() - self._started, writer)
                        stop = stop_when is not None and stop_when(point)
                    stop = bool(self.ranks.broadcast_from_main(stop))
                self.elapsed = time.perf_counter() - self._started
                signum = self.stop_signal
                if self.iteration % checkpoint_period == 0 or done or stop or signum is not None:
                    self.save()
                if stop:
                    break
                if signum is not None:
                    raise RunInterruptedError(self.interrupted_report(signum), signum)
        finally:
            if writer is not None:
                writer.close()
        return self.evals

    def _start_launch(self) -> None:
        """Mark where this call of :meth:`run` starts and say so (its first iteration compiles the env step)."""
        self._launch = (self.iteration, self.agent.updates)
        self._started = time.perf_counter() - self.elapsed
        self._pace_origin = None
        losses = " and, at the first update, the losses" if _switch(self.config.compile, self.device) else ""
        self._progress(f"starting; the first iteration compiles the env step{losses}", force=True)

    def _progress(self, activity: str, force: bool = False) -> None:
        """A progress line saying what the run is doing, when one is due (or ``force``)."""
        if not (force or self.log.due()):
            return
        now, rate = time.perf_counter(), None
        if self._pace_origin is not None and self.env_steps > self._pace_origin[0]:
            rate = (self.env_steps - self._pace_origin[0]) / max(now - self._pace_origin[1], 1e-9)
        self.log.write(status_line(self.env_steps, self.config.total_steps, activity, now - self._started, rate))

    def request_stop(self, signal_number: int) -> None:
        """Stop after the current iteration and write a checkpoint; :meth:`run` then raises RunInterruptedError.

        For one-process runs (a signal handler calls it): ranks would stop at different iterations.
        """
        if self.ranks.world_size > 1:
            raise ValueError("request_stop is for one-process runs; ranks stop through torchrun")
        self.stop_signal = signal_number

    def interrupted_report(self, signal_number: int) -> str:
        """One line for a run stopped by a signal: where it stopped, its checkpoint, the command that resumes it."""
        where = f"env step {self.env_steps} of {self.config.total_steps}"
        return (
            f"stopped by {signal.Signals(signal_number).name} at {where}; checkpoint {self.checkpoint_path} written; "
            f"resume with: {resume_command(self.run_dir, 1)}"
        )

    def train_iteration(self) -> dict[str, list[torch.Tensor]]:
        """Step every training env once, store the transitions and run the learner's updates (once warmed up).

        Returns every update's detached losses by name; a non-finite value on any rank raises
        :class:`TrainingDivergedError` on every rank.
        """
        learner = self.learner
        checks = self._collect()
        self.iteration += 1
        first = self.iteration == self._launch[0] + 1
        if first:
            self._pace_origin = (self.env_steps, time.perf_counter())
        losses: dict[str, list[torch.Tensor]] = {}
        if self.iteration < learner.learning_starts or not self.buffer.can_sample():
            prefill = f"filling the replay buffer ({self.iteration} of {learner.learning_starts} steps per env)"
            self._progress(f"{prefill} before updates start", force=first)
        else:
            for index in range(learner.updates_per_step):
                updates = f"{self.agent.updates:,} updates so far"
                update = f"update {index + 1} of {learner.updates_per_step} this step ({updates})"
                self._progress(update, force=self.agent.updates == self._launch[1])
                with self.timer.phase("replay sample"):
                    batch = self.buffer.sample(learner.batch_size)
                for name, value in self.agent.update(batch).items():
                    losses.setdefault(name, []).append(value)
                    checks.append((f"{name} loss", value))
        self._check_finite(checks)
        return losses

    def _collect(self) -> list[tuple[str, torch.Tensor]]:
        """Step every training env once and store the transitions; returns tensors to check for NaN."""
        timer = self.timer
        with timer.phase("transfer"):
            obs = to_torch(self.state.obs["actor"], self.device)
            critic_obs = to_torch(self.state.obs["critic"], self.device)
        with timer.phase("policy (rollout)"):
            self.agent.observe_rollout(obs, critic_obs)
            action = self.agent.explore(obs)
        with timer.phase("env step"):
            self.state = self.step_fn(self.state, to_jax(action))
            timer.sync(self.state)
        with timer.phase("transfer"):
            info = self.state.info
            done = to_torch(self.state.done, self.device)
            truncated = to_torch(info["truncation"], self.device)
            reward = to_torch(self.state.reward, self.device)
            next_obs = to_torch(info["final_obs"]["actor"], self.device)
            next_critic_obs = to_torch(info["final_obs"]["critic"], self.device)
        with timer.phase("replay add"):
            self.buffer.add(
                obs=obs,
                critic_obs=critic_obs,
                action=action,
                reward=reward,
                next_obs=next_obs,
                next_critic_obs=next_critic_obs,
                terminated=done * (1.0 - truncated),
                truncated=truncated,
            )
            self.agent.episodes_ended(done > 0)
        return [("actor observation", obs), ("critic observation", critic_obs), ("reward", reward)]

    def _check_finite(self, named: list[tuple[str, torch.Tensor]]) -> None:
        """Raise :class:`TrainingDivergedError` naming the first non-finite value (one device sync).

        Under several ranks the verdict is shared, so every rank stops at the same step.
        """
        finite = torch.stack([torch.isfinite(value).all() for _, value in named])
        healthy = bool(finite.all())
        if self.ranks.all_true(healthy):
            return
        kept = f"last good checkpoint {self.checkpoint_path}" if self.checkpoint_path.exists() else "no checkpoint yet"
        where = f"at env step {self.env_steps} (update {self.agent.updates}); training stopped, {kept}"
        if healthy:
            raise TrainingDivergedError(f"another rank saw a non-finite value {where}")
        name = named[int((~finite).nonzero()[0, 0])][0]
        raise TrainingDivergedError(f"non-finite {name} {where}")

    def _log(self, writer: SummaryWriter, losses: dict[str, list[torch.Tensor]], rate: float) -> None:
        """Write losses, recent training return and throughput to TensorBoard."""
        step = self.env_steps
        for name, values in losses.items():
            writer.add_scalar(f"loss/{name}", float(torch.stack(values).mean()), step)
        lengths = np.asarray(self.state.info["last_episode_length"])
        finished = lengths > 0
        returns = np.asarray(self.state.info["last_episode_return"])[finished]
        if returns.size:
            writer.add_scalar("train/episode_return", float(returns.mean()), step)
            writer.add_scalar("train/episode_length", float(lengths[finished].mean()), step)
        writer.add_scalar("perf/env_steps_per_s", rate, step)
        for name, values in self.state.info.get("curriculum", {}).items():
            writer.add_scalar(f"curriculum/{name}", float(np.mean(np.asarray(values))), step)

    def evaluator_rng(self, iteration: int) -> jax.Array:
        """The evaluation envs' key at ``iteration`` (independent of the training envs and of torch's RNG)."""
        return jax.random.fold_in(jax.random.PRNGKey(self.config.seed + 1), iteration)

    def _evaluate(self, seconds: float, writer: SummaryWriter) -> EvalPoint:
        """Noise-free episodes on the eval envs; logged, reported in a progress line and remembered (rank 0 only)."""
        assert self.evaluator is not None
        episodes_of = f"{self.config.eval_envs} noise-free episodes of at most {self.evaluator.max_steps} steps"
        self._progress(f"evaluating: {episodes_of}", force=True)

        def report(step: int) -> None:
            self._progress(f"evaluating: step {step} of {episodes_of}")

        with self.timer.phase("evaluation"):
            policy = on_jax_arrays(self.agent.act, self.device)
            episodes = self.evaluator.episodes(policy, self.evaluator_rng(self.iteration), report)
        returns = episodes.returns
        metric = self.env.GOAL.tracking_metric
        tracking = None if metric is None else episodes.term_means.get(metric)
        falls = int((episodes.lengths < self.env.config.episode_length).sum())
        point = EvalPoint(
            self.env_steps, seconds, float(returns.mean()), None if tracking is None else float(tracking.mean()), falls
        )
        self.evals.append(point)
        writer.add_scalar("eval/return_mean", point.mean_return, point.env_steps)
        writer.add_scalar("eval/return_std", float(returns.std()), point.env_steps)
        writer.add_scalar("eval/episode_length", float(episodes.lengths.mean()), point.env_steps)
        writer.add_scalar("eval/falls", falls, point.env_steps)
        for name, values in episodes.term_means.items():
            writer.add_scalar(f"eval_terms/{name}", float(values.mean()), point.env_steps)
        writer.add_scalar("eval/seconds", seconds, point.env_steps)
        tracked = "" if tracking is None else f", tracking {point.tracking:.3f}"
        fell = f", {falls} of {len(returns)} fell" if falls else ""
        self.log.write(f"eval at env step {point.env_steps:,}: return {point.mean_return:.2f}{tracked}{fell}")
        return point

    # ---- checkpoints --------------------------------------------------------------------------------
    def save(self) -> Path:
        """Write the whole training state, and ahead of it the policy alone, to ``run_dir/checkpoint.pt`` atomically.

        Every rank calls this at the same iteration: each hands rank 0 its own envs, buffer and random state
        (``peer_ranks`` holds ranks 1..N-1), and rank 0 writes the one file.
        """
        self._progress("writing the checkpoint")
        shards = self.ranks.gather_to_main(self._rank_state())
        if shards is None:
            self.saved_env_steps = self.env_steps
            return self.checkpoint_path
        payload = {
            "config": self.config.model_dump(mode="json"),
            "git_sha": git_sha(),
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "elapsed_s": self.elapsed,
            "command": shlex.join(sys.argv),
            "device": f"{self.device.type} ({os.cpu_count()} cores)" if self.device.type == "cpu" else str(self.device),
            "evals": [[p.env_steps, p.seconds, p.mean_return, p.tracking, p.falls] for p in self.evals],
            "agent": self.agent.training_state(),
            **shards[0],
            "peer_ranks": shards[1:],
        }
        save_checkpoint(self.checkpoint_path, payload, policy=policy_section(payload))
        self.saved_env_steps = self.env_steps
        return self.checkpoint_path

    def stopped_report(self, reason: str) -> str:
        """One line for a rank that stops early: why, where the last checkpoint stands, how to resume."""
        ranks = self.ranks.world_size
        if self.saved_env_steps is None:
            kept = "no checkpoint was written in this launch"
        else:
            kept = f"last checkpoint {self.checkpoint_path} (env step {self.saved_env_steps}) is intact"
        return (
            f"rank {self.ranks.rank} of {ranks}: {reason}; training stopped at env step {self.env_steps}; {kept}; "
            f"resume with the same world size: {resume_command(self.run_dir, ranks)}"
        )

    def _rank_state(self) -> dict[str, Any]:
        """The calling rank's own part of a checkpoint: replay buffer, env state and random state (on the CPU)."""
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        replay = self.buffer.state_dict() if self.config.save_replay else None
        exploration = self.agent.exploration_state()
        return {"replay": replay, "env_state": pack_tree(self.state), "rng": rng, "exploration": exploration}

    def _restore(self, payload: dict[str, Any]) -> None:
        """Continue from a checkpoint payload (its config was already checked against this run's)."""
        self.agent.load_training_state(payload["agent"])
        own = payload if self.ranks.rank == 0 else payload["peer_ranks"][self.ranks.rank - 1]
        self.agent.load_exploration_state(own["exploration"])
        if own["replay"] is not None:
            self.buffer.load_state_dict(own["replay"])
        self.state = unpack_tree(self.state, own["env_state"])
        self.iteration = int(payload["iteration"])
        self.saved_env_steps = int(payload["env_steps"])
        self.elapsed = float(payload["elapsed_s"])
        self.evals = [EvalPoint(int(s), float(t), float(r), *rest) for s, t, r, *rest in payload["evals"]]
        torch.set_rng_state(own["rng"]["torch"].cpu())
        if "cuda" in own["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(own["rng"]["cuda"].cpu(), self.device)
