"""``sim2real bench learn``: wall-clock and env steps to a task's learning goal, ours against Brax's.

Each task declares its goal (:attr:`sim.task_goal.TaskGoal.learning`): a mean eval return for the cart-pole,
and for the joystick tasks a mean per-step linear-velocity tracking reward of 0.8 (of its maximum, 1) with
no eval episode ending in a fall over its 20 s. FastTD3 and FastSAC train with the task's preset; on the
cart-pole, Brax PPO and Brax SAC train with MuJoCo Playground's CartpoleBalance settings (PPO resized for a CPU
when no GPU is present, as Playground's 2048-env PPO does not reach its first evaluation within 25 minutes on
a 2-core CPU). They run one after the other in one process on one machine; each stops at its first evaluation that
meets the goal, or at the time limit. Seconds include JIT (with the persistent compilation cache warm or
cold alike for all) and evaluation time. The ratios divide our seconds by the faster Brax baseline's.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jax

from policies.train_config import merge, resolve_train_config
from policies.trainer import EvalPoint, Trainer
from sim.task_goal import LearningGoal
from sim2real.baselines.brax_agents import EvalPoint as BraxEvalPoint
from sim2real.baselines.brax_agents import brax_settings, task_settings, train_brax
from sim2real_runtime.errors import ConfigError
from tasks.registry import get_task, make_env

CONTENDERS = ("fasttd3", "fastsac", "brax_ppo", "brax_sac")
"""Every learner the bench can run."""
OURS = ("fasttd3", "fastsac")
"""Our learners."""
TRACKING_CONTENDERS = (*OURS, "brax_ppo")
"""Learners that report tracking rewards and falls (Brax PPO through its eval metrics and episode lengths)."""


@dataclass(frozen=True)
class LearnGoal(LearningGoal):
    """A task's learning goal, judged on our evaluations and on Brax's."""

    def value(self, point: EvalPoint) -> float:
        """The metric of one evaluation."""
        if self.metric == "return":
            return point.mean_return
        return float("nan") if point.tracking is None else point.tracking

    def met(self, point: EvalPoint) -> bool:
        """Whether an evaluation meets the goal."""
        return self.value(point) >= self.threshold and (not self.no_falls or point.falls == 0)

    def met_by_brax(self, point: BraxEvalPoint, episode_length: int) -> bool:
        """Whether a Brax evaluation meets the goal (no falls: every eval episode ran ``episode_length`` steps)."""
        value = point.eval_return if self.metric == "return" else point.tracking
        complete = not self.no_falls or (point.episode_length or 0.0) >= episode_length
        return value is not None and value >= self.threshold and complete

    def describe(self) -> str:
        """One line, e.g. ``tracking >= 0.8 with no falls``."""
        return f"eval {self.metric} >= {self.threshold:g}" + (" with no falls" if self.no_falls else "")


def goal_for(task: str, threshold: float | None) -> LearnGoal:
    """The goal ``task``'s spec declares, its threshold replaced by ``threshold`` when given.

    A task that declares none is judged on its eval return, which ``threshold`` must then give; without it, a
    one-line :class:`ConfigError` on ``--task``.
    """
    declared = get_task(task).goal.learning
    if declared is None:
        if threshold is None:
            message = "declares no learning goal; bench it with --threshold (an eval return) or drop --until-goal"
            raise ConfigError.single("--task", task, message)
        return LearnGoal("return", threshold)
    goal = LearnGoal(**asdict(declared))
    return goal if threshold is None else dataclasses.replace(goal, threshold=threshold)


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
    best: float
    """Best value of the goal's metric seen."""
    evaluations: int
    """Evaluations run."""
    curve: tuple[tuple[int, float, float], ...] = ()
    """Every evaluation as (env steps, seconds, value of the goal's metric): the learning curve."""


def train_to_goal(
    algo: str, task: str, goal: LearnGoal, time_limit_s: float, seed: int, overrides: dict[str, Any] | None = None
) -> LearnResult:
    """Train FastTD3 or FastSAC with the task's preset (and ``overrides``) until an evaluation meets ``goal``.

    The time limit is checked at evaluations, so a run stops at its first one past ``time_limit_s``.
    """
    flags = merge({"seed": seed, "total_steps": 1_000_000_000}, overrides or {})
    config = resolve_train_config(task, algo, flags=flags)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), progress=False)
        evals = trainer.run(stop_when=lambda p: goal.met(p) or p.seconds >= time_limit_s)
    return _summary(algo, [(p.env_steps, p.seconds, goal.value(p), goal.met(p)) for p in evals])


def _brax(algo: str, task: str, goal: LearnGoal, time_limit_s: float, seed: int) -> LearnResult:
    settings = brax_settings(algo, task, cpu_sized=jax.default_backend() == "cpu")
    eval_every = task_settings(algo, task).bench_eval_every
    if eval_every is not None:
        settings["num_evals"] = max(2, settings["num_timesteps"] // eval_every)
    env = make_env(task)
    limit = env.config.episode_length
    run = train_brax(
        algo,
        env,
        settings,
        seed=seed,
        time_limit_s=time_limit_s,
        stop_when=lambda p: goal.met_by_brax(p, limit),
    )
    points = [(p.env_steps, p.seconds, _brax_value(goal, p), goal.met_by_brax(p, limit)) for p in run.points]
    return _summary(algo, points)


def _brax_value(goal: LearnGoal, point: BraxEvalPoint) -> float:
    value = point.eval_return if goal.metric == "return" else point.tracking
    return float("nan") if value is None else value


def _summary(name: str, points: list[tuple[int, float, float, bool]]) -> LearnResult:
    hit = next((p for p in points if p[3]), None)
    last = hit or (points[-1] if points else (0, 0.0, float("nan"), False))
    best = max((p[2] for p in points), default=float("nan"))
    curve = tuple((int(steps), seconds, value) for steps, seconds, value, _ in points)
    return LearnResult(name, hit is not None, last[1], int(last[0]), best, len(points), curve)


def run_learn_bench(
    task: str, contenders: tuple[str, ...], goal: LearnGoal, time_limit_s: float, seed: int
) -> list[LearnResult]:
    """Train every contender in turn until it meets ``goal`` or ``time_limit_s`` passes."""
    results = []
    for name in contenders:
        runner = train_to_goal if name in OURS else _brax
        started = time.perf_counter()
        results.append(runner(name, task, goal, time_limit_s, seed))
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


def format_learn_bench(task: str, goal: LearnGoal, results: list[LearnResult]) -> str:
    """A table of the results and the ratios."""
    lines = [f"time to {goal.describe()} on {task} ({jax.devices()[0].device_kind}):"]
    lines.append(f"  {'learner':<10} {'reached':>8} {'seconds':>9} {'env steps':>11} {'best':>8} {'evals':>6}")
    for r in results:
        lines.append(
            f"  {r.name:<10} {('yes' if r.reached else 'no'):>8} {r.seconds:>9.1f} {r.env_steps:>11,} "
            f"{r.best:>8.3g} {r.evaluations:>6}"
        )
    for key, value in ratios(results).items():
        lines.append(f"  {key}: {value:.2f}x")
    return "\n".join(lines)


def result_as_dict(task: str, goal: LearnGoal, results: list[LearnResult]) -> dict[str, Any]:
    """The results as one JSON-ready mapping (``bench: learn``)."""
    return {
        "bench": "learn",
        "task": task,
        "goal": asdict(goal),
        "threshold": goal.threshold,
        "device": jax.devices()[0].device_kind,
        "results": [asdict(r) for r in results],
        "ratios": ratios(results),
    }
