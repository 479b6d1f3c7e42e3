"""Run an exported policy on the robot in MuJoCo C through the deployment runtime, beside its MJX return.

Each episode is drawn by the task (initial state, randomization, commands) with the same key the MJX
evaluation uses for the same episode, so the two columns compare episode for episode. The policy runs
at the contract's control rate through :class:`~sim2real_runtime.controller.Controller` (observation
builder, onnxruntime, safety filter); the robot runs PD at physics rate with the injected latency and
sensor noise; the task's own code scores every control period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np

from sim.batched import BatchedEnv
from sim.env import MjxEnv
from sim.evaluation import Episodes, Evaluator
from sim2real.sim2sim.episode import RuntimeEpisode
from sim2real.sim2sim.mujoco_robot import MujocoRobot, SensorNoise
from sim2real.sim2sim.scoring import TaskScorer
from sim2real.sim2sim.task_fit import task_mismatches
from sim2real_runtime.contract import PolicyContract
from sim2real_runtime.controller import Controller
from sim2real_runtime.errors import ContractError
from sim2real_runtime.policy_runner import PolicyRunner
from sim2real_runtime.robot_spec import RobotSpec
from sim2real_runtime.safety import SafetyConfig, SafetyFilter


@dataclass(frozen=True)
class Sim2SimSettings:
    """How sim2sim runs."""

    episodes: int = 8
    """Episodes in MuJoCo C (and in the MJX evaluation beside it)."""
    latency_ms: float = 0.0
    """Delay from a command's computation to its effect on the motors."""
    noise: SensorNoise = field(default_factory=SensorNoise)
    """Sensor noise the C robot adds to what it reports."""
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    """Bounds of the safety filter."""
    seed: int = 0
    """Seed of the episode draws (the MJX evaluation uses the same keys)."""


@dataclass(frozen=True)
class EpisodeOutcome:
    """One sim2sim episode."""

    episode_return: float
    """Sum of the task's rewards."""
    length: int
    """Control steps played."""
    fell: bool
    """Ended by the task's failure condition (or diverged physics) before the time limit."""
    fault: str | None
    """The safety filter's latched fault, if any, with the step it latched at."""
    linear_tracking_error: float | None
    """Mean |commanded - measured| planar base velocity (m/s), for commanded tasks."""
    yaw_tracking_error: float | None
    """Mean |commanded - measured| yaw rate (rad/s), for commanded tasks."""
    observation_mismatch: float | None
    """Largest |runtime - task| observation entry (noise-free runs only)."""
    tracking: float | None
    """Mean per step of the task's tracking reward terms, summed (each term at most 1), for tasks that have them."""


@dataclass(frozen=True)
class Sim2SimReport:
    """What ``sim2real sim2sim`` reports."""

    policy: str
    """The ONNX file."""
    task: str
    """The task name."""
    settings: Sim2SimSettings
    """How it ran."""
    episodes: list[EpisodeOutcome]
    """Per-episode outcomes in MuJoCo C."""
    mjx_returns: np.ndarray
    """The same policy's returns in MJX, episode for episode."""
    inference_s: np.ndarray
    """Every onnxruntime call's duration."""
    mjx_tracking: np.ndarray | None = None
    """The same policy's tracking reward in MJX (as :attr:`EpisodeOutcome.tracking`), episode for episode."""

    @property
    def tracking_ratio(self) -> float | None:
        """MuJoCo C tracking reward over MJX's (how much of its tracking the policy keeps), when the task tracks."""
        ours = [e.tracking for e in self.episodes if e.tracking is not None]
        if not ours or self.mjx_tracking is None or not self.mjx_tracking.mean():
            return None
        return float(np.mean(ours) / self.mjx_tracking.mean())

    @property
    def mean_return(self) -> float:
        """Mean MuJoCo C return."""
        return float(np.mean([e.episode_return for e in self.episodes]))

    @property
    def mjx_mean_return(self) -> float:
        """Mean MJX return of the same episodes."""
        return float(np.mean(self.mjx_returns))

    @property
    def faults(self) -> list[str]:
        """Every latched fault, one per episode that had one."""
        return [f"episode {i}: {e.fault}" for i, e in enumerate(self.episodes) if e.fault]

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        outcomes = self.episodes
        mismatches = [e.observation_mismatch for e in outcomes if e.observation_mismatch is not None]
        linear = [e.linear_tracking_error for e in outcomes if e.linear_tracking_error is not None]
        yaw = [e.yaw_tracking_error for e in outcomes if e.yaw_tracking_error is not None]
        micro = self.inference_s * 1e6
        return {
            "policy": self.policy,
            "task": self.task,
            "episodes": len(outcomes),
            "latency_ms": self.settings.latency_ms,
            "sensor_noise": vars(self.settings.noise),
            "mujoco_return_mean": self.mean_return,
            "mujoco_return_std": float(np.std([e.episode_return for e in outcomes])),
            "mjx_return_mean": self.mjx_mean_return,
            "return_ratio": self.mean_return / self.mjx_mean_return if self.mjx_mean_return else None,
            "episode_length_mean": float(np.mean([e.length for e in outcomes])),
            "falls": sum(e.fell for e in outcomes),
            "faults": self.faults,
            "linear_tracking_error": float(np.mean(linear)) if linear else None,
            "yaw_tracking_error": float(np.mean(yaw)) if yaw else None,
            "observation_mismatch_max": max(mismatches) if mismatches else None,
            "tracking_mujoco": _mean([e.tracking for e in outcomes]),
            "tracking_mjx": None if self.mjx_tracking is None else float(self.mjx_tracking.mean()),
            "tracking_ratio": self.tracking_ratio,
            "inference_us_p50": float(np.percentile(micro, 50)) if micro.size else None,
            "inference_us_p99": float(np.percentile(micro, 99)) if micro.size else None,
        }

    def format(self) -> str:
        """A few readable lines."""
        d = self.as_dict()
        ratio = f"{100 * d['return_ratio']:.1f}%" if d["return_ratio"] is not None else "n/a"
        lines = [
            f"sim2sim {self.task}, {d['episodes']} episodes, latency {d['latency_ms']:g} ms: MuJoCo C return "
            f"{d['mujoco_return_mean']:.1f} +- {d['mujoco_return_std']:.1f}, MJX {d['mjx_return_mean']:.1f} "
            f"({ratio} kept)",
            f"  episode length {d['episode_length_mean']:.0f}, falls {d['falls']}, faults {len(self.faults)}",
        ]
        if d["linear_tracking_error"] is not None:
            linear, yaw = d["linear_tracking_error"], d["yaw_tracking_error"]
            lines.append(f"  tracking error: linear {linear:.3f} m/s, yaw {yaw:.3f} rad/s")
        if d["tracking_ratio"] is not None:
            lines.append(
                f"  tracking reward per step: MuJoCo C {d['tracking_mujoco']:.3f}, MJX {d['tracking_mjx']:.3f} "
                f"({100 * d['tracking_ratio']:.1f}% kept)"
            )
        if d["observation_mismatch_max"] is not None:
            lines.append(f"  runtime vs task observation: max |diff| {d['observation_mismatch_max']:.2e}")
        if d["inference_us_p50"] is not None:
            lines.append(f"  inference p50 {d['inference_us_p50']:.0f} us, p99 {d['inference_us_p99']:.0f} us")
        lines += [f"  fault: {fault}" for fault in self.faults]
        return "\n".join(lines)


def _mean(values: list[float | None]) -> float | None:
    """Mean of the values that are not None (None when none are)."""
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def _noise_free(noise: SensorNoise) -> bool:
    return not any(vars(noise).values())


def _episode(episode: RuntimeEpisode, key: jax.Array) -> tuple[EpisodeOutcome, list[float]]:
    """Play one episode; returns its outcome and the inference durations."""
    episode.start(key)
    total, mismatch, timings, fault, fell = 0.0, 0.0, [], None, False
    linear, yaw, tracking = [], [], []
    for index in range(episode.scorer.env.config.episode_length):
        step = episode.step()
        if step.fault and fault is None:
            fault = f"step {index}: {step.fault}"
        if step.inference_s is not None:
            timings.append(step.inference_s)
        if step.observation_mismatch is not None:
            mismatch = max(mismatch, step.observation_mismatch)
        total += step.reward
        if step.tracking is not None:
            tracking.append(sum(step.tracking))
        if step.command is not None and step.measured is not None:
            linear.append(float(np.linalg.norm(step.command[:2] - step.measured[:2])))
            yaw.append(abs(float(step.command[2] - step.measured[2])))
        if step.done:
            fell = step.fell
            break
    outcome = EpisodeOutcome(
        episode_return=total,
        length=episode.steps,
        fell=fell,
        fault=fault,
        linear_tracking_error=float(np.mean(linear)) if linear else None,
        yaw_tracking_error=float(np.mean(yaw)) if yaw else None,
        observation_mismatch=mismatch if episode.noise_free else None,
        tracking=float(np.mean(tracking)) if tracking else None,
    )
    return outcome, timings


def check_task_fits(contract: PolicyContract, env: MjxEnv, task: str, source: str) -> None:
    """Refuse (one line) a policy whose contract does not fit the task's observation or timing."""
    problems = task_mismatches(contract, env, task)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ContractError(f"{source}: does not fit task {task}: {problems[0]}{more}; export a policy of this task")


def mjx_episodes(env: MjxEnv, runner: PolicyRunner, episodes: int, seed: int) -> Episodes:
    """The policy's episodes in MJX (no runtime, no filter), one per env, same keys as sim2sim."""

    def act(obs: jax.Array) -> np.ndarray:
        return runner.act(np.asarray(obs))

    return Evaluator(BatchedEnv(env, episodes)).episodes(act, jax.random.PRNGKey(seed))


def tracking_of(result: Episodes, tracking_terms: tuple[str, ...]) -> np.ndarray | None:
    """Per episode, the mean per step of the task's tracking terms, summed; None when the task has none."""
    terms = [result.term_means[name] for name in tracking_terms if name in result.term_means]
    return np.sum(terms, axis=0) if terms else None


def run_sim2sim(policy: Path, env: MjxEnv, task: str, settings: Sim2SimSettings) -> Sim2SimReport:
    """Play ``settings.episodes`` episodes in MuJoCo C and the same episodes in MJX."""
    spec = RobotSpec(env.robot.config, str(env.robot.yaml_path))
    runner = PolicyRunner(policy, spec)  # refuses a contract that does not fit the robot YAML
    check_task_fits(runner.contract, env, task, str(policy))
    controller = Controller(runner, SafetyFilter(spec, runner.contract.control_dt, settings.safety))
    robot = MujocoRobot(env.robot, env.mj_model, settings.latency_ms / 1000.0, settings.noise, settings.seed)
    episode = RuntimeEpisode(TaskScorer(env), robot, controller, _noise_free(settings.noise))
    keys = jax.random.split(jax.random.PRNGKey(settings.seed), settings.episodes)
    outcomes, timings = [], []
    for key in keys:
        outcome, durations = _episode(episode, key)
        outcomes.append(outcome)
        timings += durations
    mjx = mjx_episodes(env, runner, settings.episodes, settings.seed)
    tracking = tracking_of(mjx, env.GOAL.tracking_terms)
    return Sim2SimReport(str(policy), task, settings, outcomes, mjx.returns, np.asarray(timings), tracking)
