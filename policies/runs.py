"""Run folders: starting a run, resuming one (refusing a changed recipe), loading its trained policy.

A run folder holds ``config.yaml`` (the full resolved recipe and the git commit), ``checkpoint.pt`` (the
latest checkpoint, see :mod:`policies.checkpoint`) and TensorBoard event files. A checkpoint's policy
archive is :func:`policy_section` of its training state: what export, evaluation and rollouts read.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import torch
import yaml

from policies.agent import policy_state
from policies.checkpoint import CHECKPOINT_NAME, load_checkpoint, load_policy
from policies.provenance import git_sha
from policies.train_config import TrainConfig, config_differences
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import parse_model

CONFIG_NAME = "config.yaml"
"""The resolved recipe's file name inside a run folder."""
PROVENANCE = ("config", "git_sha", "env_steps", "elapsed_s", "command", "device")
"""Training-state entries a policy carries along: its recipe and where, when and how it was trained."""


def write_run_config(run_dir: Path, config: TrainConfig) -> None:
    """Save the resolved recipe as YAML, headed by the git commit that ran it."""
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    (run_dir / CONFIG_NAME).write_text(f"# sim2real run config; code at git {git_sha()}\n{text}")


def check_new_run(run_dir: Path) -> None:
    """Refuse a folder that already holds a checkpoint (writes nothing)."""
    if (run_dir / CHECKPOINT_NAME).exists():
        raise ConfigError.single(
            run_dir, "--run-dir", "already holds a run; pass --resume to continue it, or choose another --run-dir"
        )


def start_run(run_dir: Path, config: TrainConfig) -> None:
    """Create ``run_dir`` for a new run; refuses a folder that already holds a checkpoint."""
    check_new_run(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_config(run_dir, config)


def _check_run_dir(run_dir: Path) -> None:
    """Refuse in one line a run folder that is not there."""
    if not run_dir.is_dir():
        raise ConfigError.single(run_dir, "-", "no such run folder; pass the --run-dir a training run wrote")


def load_run(run_dir: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The latest checkpoint's training state (one-line errors for a missing folder or a damaged file)."""
    _check_run_dir(run_dir)
    return load_checkpoint(run_dir / CHECKPOINT_NAME, device)


def policy_section(payload: dict[str, Any]) -> dict[str, Any]:
    """The policy archive of a training state: its :data:`PROVENANCE` and, as ``policy``, its actor and normalizer.

    ``policy`` is :func:`policies.agent.policy_state` of the agent's modules.
    """
    carried = {key: payload[key] for key in PROVENANCE if key in payload}
    return {**carried, "policy": policy_state(payload["agent"]["modules"])}


def load_run_policy(run_dir: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The latest checkpoint's :func:`policy_section`, read without its replay buffer, optimizers or env state.

    A format-1 checkpoint has no policy archive: its whole training state is read and the policy cut out.
    """
    _check_run_dir(run_dir)
    path = run_dir / CHECKPOINT_NAME
    policy = load_policy(path, device)
    return policy_section(load_checkpoint(path, device)) if policy is None else policy


def saved_config(run_dir: Path, payload: dict[str, Any]) -> TrainConfig:
    """The recipe stored in a checkpoint, validated."""
    return parse_model(str(run_dir / CHECKPOINT_NAME), TrainConfig, payload["config"])


def resume_command(run_dir: Path, world_size: int) -> str:
    """The command that resumes the run in ``run_dir`` on ``world_size`` ranks."""
    launch = (
        f"torchrun --nproc-per-node {world_size} -m sim2real train --distributed"
        if world_size > 1
        else "sim2real train"
    )
    return f"{launch} --resume --run-dir {shlex.quote(str(run_dir))}"


def check_world_size(run_dir: Path, payload: dict[str, Any], world_size: int) -> None:
    """Refuse to resume a run under another number of ranks (each rank's envs and buffer are in the checkpoint)."""
    ranks = int(payload["config"].get("distributed", {}).get("world_size", 1))
    if ranks != world_size:
        raise ConfigError.single(
            run_dir,
            "--resume",
            f"the run trained on {ranks} rank(s), this job has {world_size}; "
            f"resume it with the same world size: {resume_command(run_dir, ranks)}",
        )


def check_resume(run_dir: Path, payload: dict[str, Any], config: TrainConfig) -> None:
    """Refuse to resume when ``config`` differs from the run's own (other than ``total_steps``)."""
    differences = config_differences(payload["config"], config.model_dump(mode="json"))
    if differences:
        raise ConfigError.single(
            run_dir,
            "--resume",
            f"the run was made with a different config: {'; '.join(differences)}; "
            "resume with the run's settings or start a new --run-dir",
        )
