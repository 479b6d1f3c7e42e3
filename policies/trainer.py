"""The training loop: JAX envs feed a torch learner through DLPack; evaluation, logging, checkpoints.

One iteration steps every training env once with exploratory actions, stores the transitions (the
pre-reset observation of finished episodes is the next observation, so time-outs bootstrap), and runs
``updates_per_step`` learner updates. Every ``eval_every`` env steps the actor plays noise-free episodes
on separate envs; every ``checkpoint_every`` env steps (and at the end) the whole training state is
written atomically. A non-finite observation, reward or loss stops the run before the next checkpoint,
so the last good one stays on disk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from policies.action_bounds import joint_limit_bounds
from policies.agent import AgentSpec, OffPolicyAgent
from policies.checkpoint import CHECKPOINT_NAME, save_checkpoint
from policies.env_bridge import pack_tree, to_jax, to_torch, unpack_tree
from policies.evaluation import Evaluator
from policies.fast_sac import FastSAC
from policies.fast_td3 import FastTD3
from policies.mirror import MirrorMap, SignedPermutation
from policies.provenance import git_sha
from policies.replay import ReplayBuffer
from policies.train_config import TrainConfig
from sim.batched import BatchedEnv
from sim.env import MjxEnv
from tasks.registry import make_env

AGENTS: dict[str, type[OffPolicyAgent]] = {"fasttd3": FastTD3, "fastsac": FastSAC}
"""Algorithm name -> agent class."""


class TrainingDivergedError(RuntimeError):
    """A non-finite value appeared; the message names it and where."""


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
    """Mean per-step linear-velocity tracking reward (``tracking_lin_vel``, at most 1), for tasks that track."""
    falls: int = 0
    """Eval episodes that ended before the time limit."""


def resolve_device(config: TrainConfig) -> torch.device:
    """The torch device the config asks for (``auto``: CUDA when available)."""
    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(config.device)


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


def build_agent(config: TrainConfig, env: MjxEnv, device: torch.device) -> OffPolicyAgent:
    """A fresh agent of the config's algorithm, sized for ``env``."""
    sizes = env.observation_size
    spec = AgentSpec(
        obs_size=sizes["actor"][0],
        critic_obs_size=sizes["critic"][0],
        action_bound=torch.as_tensor(action_bounds(env, config.learner.action_bounds)),
        num_envs=config.num_envs,
        device=device,
        mirror=mirror_of(env, device),
        bf16=_switch(config.bf16, device),
    )
    return AGENTS[config.algo](spec, config.learner)  # type: ignore[arg-type]


class Trainer:
    """A run of FastTD3 or FastSAC on a registered task, writing into ``run_dir``."""

    def __init__(
        self, config: TrainConfig, run_dir: Path, resume_from: dict[str, Any] | None = None, progress: bool = True
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.progress = progress
        self.device = resolve_device(config)
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
        torch.manual_seed(config.seed)
        learner = config.learner

        env = make_env(config.task, config.env)
        self.env = env
        self.batched = BatchedEnv(env, config.num_envs)
        self.reset_fn = jax.jit(self.batched.reset)
        self.step_fn = jax.jit(self.batched.step)
        self.evaluator = Evaluator(BatchedEnv(make_env(config.task, config.env), config.eval_envs), self.device)

        self.agent = build_agent(config, env, self.device)
        if _switch(config.compile, self.device):
            self.agent.compile_losses()
        self.buffer = ReplayBuffer(
            config.num_envs,
            learner.buffer_steps,
            self.agent.spec.obs_size,
            self.agent.spec.critic_obs_size,
            env.action_size,
            learner.n_step,
            learner.gamma,
            self.device,
        )
        self.state = self.reset_fn(jax.random.PRNGKey(config.seed))
        self.iteration = 0
        self.elapsed = 0.0
        self.evals: list[EvalPoint] = []
        if resume_from is not None:
            self._restore(resume_from)
        self.total_iterations = math.ceil(config.total_steps / config.num_envs)
        self.checkpoint_path = run_dir / CHECKPOINT_NAME

    # ---- the loop -----------------------------------------------------------------------------------
    @property
    def env_steps(self) -> int:
        """Env steps taken so far (summed over training envs)."""
        return self.iteration * self.config.num_envs

    def run(self, stop_when: Callable[[EvalPoint], bool] | None = None) -> list[EvalPoint]:
        """Train to ``total_steps`` (or until ``stop_when`` accepts an evaluation); returns every evaluation."""
        config, learner = self.config, self.config.learner
        eval_period = max(1, config.eval_every // config.num_envs)
        checkpoint_period = max(1, config.checkpoint_every // config.num_envs)
        writer = SummaryWriter(str(self.run_dir))
        bar = tqdm(
            total=config.total_steps, initial=self.env_steps, unit="step", unit_scale=True, disable=not self.progress
        )
        started = time.perf_counter() - self.elapsed
        window_start, window_steps = time.perf_counter(), 0
        losses: dict[str, list[torch.Tensor]] = {}
        try:
            while self.iteration < self.total_iterations:
                checks = self._collect()
                self.iteration += 1
                if self.iteration >= learner.learning_starts and self.buffer.can_sample():
                    for _ in range(learner.updates_per_step):
                        for name, value in self.agent.update(self.buffer.sample(learner.batch_size)).items():
                            losses.setdefault(name, []).append(value)
                            checks.append((f"{name} loss", value))
                self._check_finite(checks)
                bar.update(config.num_envs)
                window_steps += config.num_envs
                if self.iteration % config.log_every == 0:
                    rate = window_steps / max(time.perf_counter() - window_start, 1e-9)
                    self._log(writer, losses, rate, bar)
                    window_start, window_steps, losses = time.perf_counter(), 0, {}
                done = self.iteration >= self.total_iterations
                point = None
                if self.iteration % eval_period == 0 or done:
                    point = self._evaluate(time.perf_counter() - started, writer, bar)
                self.elapsed = time.perf_counter() - started
                stop = point is not None and stop_when is not None and stop_when(point)
                if self.iteration % checkpoint_period == 0 or done or stop:
                    self.save()
                if stop:
                    break
        finally:
            bar.close()
            writer.close()
        return self.evals

    def _collect(self) -> list[tuple[str, torch.Tensor]]:
        """Step every training env once and store the transitions; returns tensors to check for NaN."""
        obs = to_torch(self.state.obs["actor"], self.device)
        critic_obs = to_torch(self.state.obs["critic"], self.device)
        self.agent.observe_rollout(obs, critic_obs)
        action = self.agent.explore(obs)
        self.state = self.step_fn(self.state, to_jax(action))
        info = self.state.info
        done = to_torch(self.state.done, self.device)
        truncated = to_torch(info["truncation"], self.device)
        reward = to_torch(self.state.reward, self.device)
        self.buffer.add(
            obs=obs,
            critic_obs=critic_obs,
            action=action,
            reward=reward,
            next_obs=to_torch(info["final_obs"]["actor"], self.device),
            next_critic_obs=to_torch(info["final_obs"]["critic"], self.device),
            terminated=done * (1.0 - truncated),
            truncated=truncated,
        )
        self.agent.episodes_ended(done > 0)
        return [("actor observation", obs), ("critic observation", critic_obs), ("reward", reward)]

    def _check_finite(self, named: list[tuple[str, torch.Tensor]]) -> None:
        """Raise :class:`TrainingDivergedError` naming the first non-finite value (one device sync)."""
        finite = torch.stack([torch.isfinite(value).all() for _, value in named])
        if bool(finite.all()):
            return
        name = named[int((~finite).nonzero()[0, 0])][0]
        kept = f"last good checkpoint {self.checkpoint_path}" if self.checkpoint_path.exists() else "no checkpoint yet"
        raise TrainingDivergedError(
            f"non-finite {name} at env step {self.env_steps} (update {self.agent.updates}); training stopped, {kept}"
        )

    def _log(self, writer: SummaryWriter, losses: dict[str, list[torch.Tensor]], rate: float, bar: tqdm) -> None:
        """Write losses, recent training return and throughput to TensorBoard and the progress bar."""
        step = self.env_steps
        for name, values in losses.items():
            writer.add_scalar(f"loss/{name}", float(torch.stack(values).mean()), step)
        lengths = np.asarray(self.state.info["last_episode_length"])
        finished = lengths > 0
        returns = np.asarray(self.state.info["last_episode_return"])[finished]
        postfix = {"steps/s": f"{rate:,.0f}"}
        if returns.size:
            writer.add_scalar("train/episode_return", float(returns.mean()), step)
            writer.add_scalar("train/episode_length", float(lengths[finished].mean()), step)
            postfix["return"] = f"{returns.mean():.1f}"
        writer.add_scalar("perf/env_steps_per_s", rate, step)
        if self.evals:
            postfix["eval"] = f"{self.evals[-1].mean_return:.1f}"
        bar.set_postfix(postfix, refresh=False)

    def evaluator_rng(self, iteration: int) -> jax.Array:
        """The evaluation envs' key at ``iteration`` (independent of the training envs and of torch's RNG)."""
        return jax.random.fold_in(jax.random.PRNGKey(self.config.seed + 1), iteration)

    def _evaluate(self, seconds: float, writer: SummaryWriter, bar: tqdm) -> EvalPoint:
        """Noise-free episodes on the eval envs; logged and remembered."""
        episodes = self.evaluator.episodes(self.agent.act, self.evaluator_rng(self.iteration))
        returns = episodes.returns
        tracking = episodes.term_means.get("tracking_lin_vel")
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
        bar.set_postfix({"eval": f"{point.mean_return:.1f}"}, refresh=False)
        return point

    # ---- checkpoints --------------------------------------------------------------------------------
    def save(self) -> Path:
        """Write the whole training state to ``run_dir/checkpoint.pt`` atomically."""
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        payload = {
            "config": self.config.model_dump(mode="json"),
            "git_sha": git_sha(),
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "elapsed_s": self.elapsed,
            "evals": [[p.env_steps, p.seconds, p.mean_return, p.tracking, p.falls] for p in self.evals],
            "agent": self.agent.training_state(),
            "replay": self.buffer.state_dict() if self.config.save_replay else None,
            "env_state": pack_tree(self.state),
            "rng": rng,
        }
        save_checkpoint(self.checkpoint_path, payload)
        return self.checkpoint_path

    def _restore(self, payload: dict[str, Any]) -> None:
        """Continue from a checkpoint payload (its config was already checked against this run's)."""
        self.agent.load_training_state(payload["agent"])
        if payload["replay"] is not None:
            self.buffer.load_state_dict(payload["replay"])
        self.state = unpack_tree(self.state, payload["env_state"])
        self.iteration = int(payload["iteration"])
        self.elapsed = float(payload["elapsed_s"])
        self.evals = [EvalPoint(int(s), float(t), float(r), *rest) for s, t, r, *rest in payload["evals"]]
        torch.set_rng_state(payload["rng"]["torch"].cpu())
        if "cuda" in payload["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(payload["rng"]["cuda"].cpu(), self.device)
