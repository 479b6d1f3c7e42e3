"""Turn ``--policy`` (a run folder or an exported ONNX file), ``--task`` and ``--engine`` into a rollout source.

- ``--engine mjx`` plays the task's batched MJX envs: a run folder's policy runs in torch, an ONNX file
  in onnxruntime (its contract checked against the robot YAML and the task first).
- ``--engine mujoco`` plays robots in MuJoCo C through the deployment runtime (observation builder,
  onnxruntime, safety filter), as ``sim2real sim2sim`` does; a run folder is exported to a temporary
  ONNX file first, so what is rendered is what would be deployed. Only this engine takes a command
  schedule (``--command-schedule``): it replaces the random commands and, unless asked to keep them,
  the random pushes, so the video shows the policy tracking a known tour.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sim.env import MjxEnv
from sim2real.export import export_trained
from sim2real.sim2sim.command_schedule import FLAG, CommandSchedule
from sim2real.sim2sim.run import check_task_fits
from sim2real.sim2sim.task_env import policy_env
from sim2real.training import TrainedRun, load_trained
from sim2real.video.sources import BatchPolicy, MjxSource, RolloutSource, RuntimeSource
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.policy_runner import PolicyRunner, read_contract
from sim2real_runtime.robot_spec import RobotSpec

ENGINES = ("mjx", "mujoco")
"""Where the rollout runs: batched MJX envs, or MuJoCo C through the deployment runtime."""


@dataclass(frozen=True)
class RolloutRequest:
    """What the user asked ``sim2real rollout`` to play."""

    policy: Path
    """A run folder written by ``sim2real train`` or an ONNX file written by ``sim2real export``."""
    task: str | None
    """Registered task or task YAML (default: the policy's task, on the robot it was exported for)."""
    engine: str
    """``mjx`` or ``mujoco``."""
    num_envs: int
    """Tiles."""
    seed: int
    """Seed of the episode draws."""
    schedule: CommandSchedule | None = None
    """Commands to play instead of the task's random ones (``--engine mujoco`` only)."""
    keep_pushes: bool = False
    """With a schedule, keep the task's random pushes (dropped by default)."""

    @property
    def pushes(self) -> bool:
        """Whether the task's random pushes play: always without a schedule, on request with one."""
        return self.schedule is None or self.keep_pushes


def _torch_policy(trained: TrainedRun) -> BatchPolicy:
    policy = trained.policy

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return policy(torch.tensor(obs)).numpy()

    return act


def _runtime_source(request: RolloutRequest, env: MjxEnv, task: str, policy: str) -> RuntimeSource:
    return RuntimeSource(env, task, policy, request.num_envs, request.seed, request.schedule, request.pushes)


def _from_run(request: RolloutRequest) -> tuple[RolloutSource, str]:
    trained = load_trained(request.policy, request.task)
    title = f"{trained.env_name} {trained.config.algo} {request.policy.name} ({request.engine})"
    if request.engine == "mjx":
        return MjxSource(trained.env, request.num_envs, _torch_policy(trained), request.seed), title
    with tempfile.TemporaryDirectory(prefix="sim2real-rollout-") as folder:
        onnx_file, _ = export_trained(trained, request.policy, Path(folder) / "policy.onnx")
        source = _runtime_source(request, trained.env, trained.env_name, str(onnx_file))
    return source, title


def _from_onnx(request: RolloutRequest) -> tuple[RolloutSource, str]:
    task, env = policy_env(read_contract(request.policy), request.task, str(request.policy))
    title = f"{task} {request.policy.name} ({request.engine})"
    if request.engine == "mujoco":
        return _runtime_source(request, env, task, str(request.policy)), title
    spec = RobotSpec(env.robot.config, str(env.robot.yaml_path))
    runner = PolicyRunner(request.policy, spec)
    check_task_fits(runner.contract, env, task, str(request.policy))
    return MjxSource(env, request.num_envs, runner.act, request.seed), title


def open_rollout_source(request: RolloutRequest) -> tuple[RolloutSource, str]:
    """The source to record and a title for the video; one-line errors for a policy that cannot play."""
    if request.engine not in ENGINES:
        raise ConfigError.single("--engine", request.engine, f"unknown engine; choose one of: {', '.join(ENGINES)}")
    if request.schedule is not None and request.engine != "mujoco":
        message = "plays through the deployment runtime only; add --engine mujoco"
        raise ConfigError.single(FLAG, request.schedule.text, message)
    if request.keep_pushes and request.schedule is None:
        raise ConfigError.single("--keep-pushes", "-", f"only matters with {FLAG} (without one, pushes always play)")
    policy = request.policy
    if policy.is_dir():
        return _from_run(request)  # load_trained names a folder with no or a damaged checkpoint
    if policy.is_file() and policy.suffix == ".onnx":
        return _from_onnx(request)
    message = "is neither a run folder nor an .onnx file; pass a folder of sim2real train or a file of sim2real export"
    raise ConfigError.single("--policy", str(policy), message)
