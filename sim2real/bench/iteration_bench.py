"""``sim2real bench iteration``: where a training iteration's wall-clock goes, phase by phase, at given sizes.

Builds the trainer exactly as ``sim2real train`` does (the task's preset for this machine's device, plus the
sizes asked for), runs a warm-up (JIT, first updates), then times ``iterations`` training iterations and
one evaluation with the trainer's phase timer on: policy forward in the rollout, env step (JAX, waited
for), JAX->torch transfers, replay add and sample, batch preparation (mirror doubling, normalizers), critic
and actor updates. Each row reports milliseconds per iteration per phase, their shares, env steps/s and
updates/s; evaluation is reported per evaluation and amortized over the preset's ``eval_every``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jax

from policies.env_bridge import on_jax_arrays
from policies.train_config import merge, resolve_train_config
from policies.trainer import Trainer


@dataclass(frozen=True)
class IterationProfile:
    """One configuration's timed iterations."""

    num_envs: int
    """Training envs."""
    batch_size: int
    """Transitions per update before mirror doubling."""
    updates_per_step: int
    """Updates per iteration."""
    critic_hidden: tuple[int, ...]
    """Critic widths."""
    iteration_ms: float
    """Wall-clock per training iteration (evaluation excluded)."""
    phase_ms: dict[str, float]
    """Milliseconds per iteration spent in each phase (the rest is loop overhead)."""
    evaluation_s: float
    """Seconds of one evaluation (every eval env plays one episode)."""
    evaluation_share: float
    """Evaluation's share of wall-clock at the preset's ``eval_every``."""
    env_steps_per_s: float
    """Training env steps per second (evaluation excluded)."""
    updates_per_s: float
    """Learner updates per second."""

    @property
    def learner_share(self) -> float:
        """Share of an iteration spent in the learner (sampling, batch preparation, critic and actor updates)."""
        learner = ("replay sample", "batch prep (mirror, normalize)", "critic update", "actor update")
        return sum(self.phase_ms.get(name, 0.0) for name in learner) / self.iteration_ms


def profile_iteration(
    task: str, algo: str, overrides: dict[str, Any], warmup: int, iterations: int, seed: int
) -> IterationProfile:
    """Time ``iterations`` training iterations and one evaluation of ``task`` with ``overrides`` on the preset."""
    flags = merge({"seed": seed, "total_steps": 10**12, "checkpoint_every": 10**12}, overrides)
    config = resolve_train_config(task, algo, flags=flags)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), progress=False)
        trainer.timer.enabled = True
        for _ in range(max(warmup, config.learner.learning_starts + 1)):
            trainer.train_iteration()
        trainer.timer.reset()
        updates, started = trainer.agent.updates, time.perf_counter()
        for _ in range(iterations):
            trainer.train_iteration()
        seconds = time.perf_counter() - started
        updates = trainer.agent.updates - updates
        phase_ms = {name: 1e3 * value / iterations for name, value in trainer.timer.seconds.items()}
        assert trainer.evaluator is not None
        started = time.perf_counter()
        trainer.evaluator.episodes(on_jax_arrays(trainer.agent.act, trainer.device), trainer.evaluator_rng(0))
        evaluation_s = time.perf_counter() - started
    iteration_s = seconds / iterations
    iterations_per_eval = max(1, config.eval_every // config.num_envs)
    return IterationProfile(
        num_envs=config.num_envs,
        batch_size=config.learner.batch_size,
        updates_per_step=config.learner.updates_per_step,
        critic_hidden=tuple(config.learner.critic_hidden),
        iteration_ms=1e3 * iteration_s,
        phase_ms=phase_ms,
        evaluation_s=evaluation_s,
        evaluation_share=evaluation_s / (evaluation_s + iterations_per_eval * iteration_s),
        env_steps_per_s=config.num_envs / iteration_s,
        updates_per_s=updates / seconds,
    )


def format_iteration_profiles(task: str, algo: str, rows: list[IterationProfile]) -> str:
    """One table: a column per configuration, a row per phase (ms per iteration and share)."""
    names = {name for row in rows for name in row.phase_ms}
    phases = sorted(names, key=lambda name: -max(_ms(row, name) for row in rows))
    lines = [f"where a {algo} iteration's time goes on {task} ({jax.devices()[0].device_kind}):"]
    for index, row in enumerate(rows):
        sizes = f"envs {row.num_envs}, batch {row.batch_size}, {row.updates_per_step} updates/step"
        lines.append(f"  [{index}] {sizes}, critic {row.critic_hidden}")
    lines.append(f"  {'phase':<32}" + "".join(f"{f'[{i}] ms':>12}{'share':>7}" for i in range(len(rows))))
    for name in phases:
        cells = "".join(f"{_ms(row, name):>12.2f}{_ms(row, name) / row.iteration_ms:>7.0%}" for row in rows)
        lines.append(f"  {name:<32}{cells}")
    summary = {
        "iteration (ms)": [f"{r.iteration_ms:.1f}" for r in rows],
        "learner share": [f"{r.learner_share:.0%}" for r in rows],
        "env steps/s": [f"{r.env_steps_per_s:.0f}" for r in rows],
        "updates/s": [f"{r.updates_per_s:.0f}" for r in rows],
        "one evaluation (s)": [f"{r.evaluation_s:.1f}" for r in rows],
        "evaluation share": [f"{r.evaluation_share:.0%}" for r in rows],
    }
    for name, values in summary.items():
        lines.append(f"  {name:<32}" + "".join(f"{value:>19}" for value in values))
    return "\n".join(lines)


def _ms(row: IterationProfile, phase: str) -> float:
    return row.phase_ms.get(phase, 0.0)


def _ms(row: IterationProfile, phase: str) -> float:
    return row.phase_ms.get(phase, 0.0)


def iteration_profiles_as_dict(task: str, algo: str, rows: list[IterationProfile]) -> dict[str, Any]:
    """The profiles as one JSON-ready mapping (``bench: iteration``)."""
    return {
        "bench": "iteration",
        "task": task,
        "algo": algo,
        "device": jax.devices()[0].device_kind,
        "rows": [{**asdict(row), "learner_share": row.learner_share} for row in rows],
    }
