"""``sim2real bench learn``: wall-clock and env steps to a target eval return, ours against Brax's.

FastTD3 and FastSAC train with the task's preset; Brax PPO and Brax SAC train with MuJoCo Playground's
CartpoleBalance settings (PPO resized for a CPU when no GPU is present, as Playground's 2048-env PPO
does not reach its first evaluation within 25 minutes on a 2-core CPU). All four run one after the other
in one process on one machine; each stops at its first evaluation at or above the threshold, or at the
time limit. Seconds include JIT (with the persistent compilation cache warm or cold alike for all) and
evaluation time. The ratios divide our seconds by the faster Brax baseline's.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jax

from policies.train_config import resolve_train_config
from policies.trainer import Trainer
from sim2real.baselines.brax_agents import brax_settings, train_brax
from tasks.registry import make_env

CONTENDERS = ("fasttd3", "fastsac", "brax_ppo", "brax_sac")
"""Every learner the bench can run."""

BRAX_EVAL_EVERY = {"brax_ppo": 500_000, "brax_sac": 50_000}
"""Env steps between Brax evaluations (brax rounds to whole training epochs)."""


@dataclass(frozen=True)
class LearnResult:
    """One contender's run."""

    name: str
    """Learner name."""
    reached: bool
    """Whether an evaluation reached the threshold within the time limit."""
    seconds: float
    """Wall-clock to the first evaluation at or above the threshold (or to the stop when not reached)."""
    env_steps: int
    """Env steps at that evaluation (or at the stop)."""
    best_return: float
    """Best eval return seen."""
    evaluations: int
    """Evaluations run."""


def _ours(algo: str, task: str, threshold: float, time_limit_s: float, seed: int) -> LearnResult:
    config = resolve_train_config(task, algo, flags={"seed": seed, "total_steps": 1_000_000_000})
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), progress=False)
        evals = trainer.run(stop_when=lambda p: p.mean_return >= threshold or p.seconds >= time_limit_s)
    return _summary(algo, [(p.env_steps, p.seconds, p.mean_return) for p in evals], threshold)


def _brax(algo: str, task: str, threshold: float, time_limit_s: float, seed: int) -> LearnResult:
    settings = brax_settings(algo, cpu_sized=jax.default_backend() == "cpu")
    num_evals = max(2, settings["num_timesteps"] // BRAX_EVAL_EVERY[algo])
    run = train_brax(
        algo, make_env(task), settings, seed=seed, threshold=threshold, time_limit_s=time_limit_s, num_evals=num_evals
    )
    return _summary(algo, [(p.env_steps, p.seconds, p.eval_return) for p in run.points], threshold)


def _summary(name: str, points: list[tuple[int, float, float]], threshold: float) -> LearnResult:
    hit = next((p for p in points if p[2] >= threshold), None)
    last = hit or (points[-1] if points else (0, 0.0, float("nan")))
    best = max((p[2] for p in points), default=float("nan"))
    return LearnResult(name, hit is not None, last[1], int(last[0]), best, len(points))


def run_learn_bench(
    task: str, contenders: tuple[str, ...], threshold: float, time_limit_s: float, seed: int
) -> list[LearnResult]:
    """Train every contender in turn until it reaches ``threshold`` or ``time_limit_s`` passes."""
    results = []
    for name in contenders:
        runner = _ours if name in ("fasttd3", "fastsac") else _brax
        started = time.perf_counter()
        results.append(runner(name, task, threshold, time_limit_s, seed))
        print(f"  {name}: done in {time.perf_counter() - started:.0f} s", flush=True)
    return results


def ratios(results: list[LearnResult]) -> dict[str, float]:
    """Our seconds to threshold over the faster Brax baseline's (only among runs that reached it)."""
    brax = [r.seconds for r in results if r.name.startswith("brax_") and r.reached]
    if not brax:
        return {}
    fastest = min(brax)
    return {
        f"{r.name}/fastest_brax": r.seconds / fastest for r in results if not r.name.startswith("brax_") and r.reached
    }


def format_learn_bench(task: str, threshold: float, results: list[LearnResult]) -> str:
    """A table of the results and the ratios."""
    lines = [f"time to eval return >= {threshold:g} on {task} ({jax.devices()[0].device_kind}):"]
    lines.append(f"  {'learner':<10} {'reached':>8} {'seconds':>9} {'env steps':>11} {'best':>8} {'evals':>6}")
    for r in results:
        lines.append(
            f"  {r.name:<10} {('yes' if r.reached else 'no'):>8} {r.seconds:>9.1f} {r.env_steps:>11,} "
            f"{r.best_return:>8.1f} {r.evaluations:>6}"
        )
    for key, value in ratios(results).items():
        lines.append(f"  {key}: {value:.2f}x")
    return "\n".join(lines)


def result_as_dict(task: str, threshold: float, results: list[LearnResult]) -> dict[str, Any]:
    """The results as one JSON-ready mapping (``bench: learn``)."""
    return {
        "bench": "learn",
        "task": task,
        "threshold": threshold,
        "device": jax.devices()[0].device_kind,
        "results": [asdict(r) for r in results],
        "ratios": ratios(results),
    }
