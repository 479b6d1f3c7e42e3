"""``sim2real export``: a trained run to ONNX, normalizer and action bounds folded in, the contract inside.

The graph is the policy's own deployable module (:meth:`policies.agent.OffPolicyAgent.deployable`), built
from the checkpoint's policy archive alone (no replay buffer, optimizer or env state is read). It takes
``obs`` ``(batch, obs_size)`` and gives ``action`` ``(batch, joints)``: the observation normalizer's mean
and standard deviation are constants, the actor's tanh times its per-joint bounds is the last op.
The policy contract (see :mod:`sim2real_runtime.contract`) is JSON under the ``metadata_props`` key
``sim2real.policy_contract``; it records the robot YAML and MJCF (paths and SHA-256) and the task
settings the policy was trained with, so sim2sim, rollout and the bridge find that robot.
The file is written to a temporary name and renamed, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from policies.checkpoint import CHECKPOINT_NAME
from sim.env import MjxEnv
from sim2real.baselines.brax_agents import PARAMS_FILE
from sim2real.training import TrainedRun, load_trained
from sim2real_runtime.contract import (
    CONTRACT_KEY,
    INPUT_NAME,
    OUTPUT_NAME,
    CommandRanges,
    ObservationTermSpec,
    PolicyContract,
)
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.origin import origin_of

OPSET = 17
"""ONNX opset of exported graphs (LayerNorm is a single op from 17 on)."""
POLICY_NAME = "policy.onnx"
"""Default file name of an export inside its run folder."""


def config_digest(config: dict[str, Any]) -> str:
    """SHA-256 of a resolved config (canonical JSON), so a contract names the exact recipe."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def build_contract(
    env: MjxEnv, bound: np.ndarray, training: dict[str, Any], task_overrides: dict[str, Any] | None = None
) -> PolicyContract:
    """The contract of a policy for ``env`` whose actions lie in ``[-bound, bound]``.

    ``task_overrides`` are the task config fields the policy was trained with over the task's defaults.
    """
    robot = env.robot
    joints = robot.config.joints
    n = len(joints)
    commands = env.command_ranges()
    return PolicyContract(
        robot=robot.name,
        task=training.get("task", ""),
        control=robot.config.control,
        joint_names=tuple(robot.joint_names),
        default_pose=tuple(float(j.default_pos) for j in joints),
        action_scale=(float(robot.config.action_scale),) * n,
        action_low=tuple(float(-b) for b in bound),
        action_high=tuple(float(b) for b in bound),
        kp=tuple(float(j.kp) for j in joints),
        kd=tuple(float(j.kd) for j in joints),
        control_dt=float(env.config.control_dt),
        observation_size=env.actor_layout.size,
        observation=tuple(ObservationTermSpec.from_dict(term) for term in env.actor_layout.contract_terms()),
        commands=None
        if commands is None
        else CommandRanges(
            kind=env.GOAL.command,
            names=tuple(commands),
            low=tuple(float(lo) for lo, _ in commands.values()),
            high=tuple(float(hi) for _, hi in commands.values()),
        ),
        training=training,
        origin=origin_of(robot.yaml_path, robot.mjcf_path, task_overrides or {}),
    )


def run_contract(trained: TrainedRun, run_dir: Path) -> PolicyContract:
    """The contract of a trained run's policy."""
    payload = trained.payload
    training = {
        "task": trained.env_name,
        "algo": trained.config.algo,
        "env_steps": int(payload["env_steps"]),
        "config_sha256": config_digest(payload["config"]),
        "git_sha": str(payload.get("git_sha", "unknown")),
        "run": run_dir.resolve().name,
        "seed": int(trained.config.seed),
        "train_seconds": round(float(payload.get("elapsed_s", 0.0)), 1),
        "command": str(payload.get("command", "unknown")),
        "device": str(payload.get("device", "unknown")),
    }
    bound = trained.policy.bound.numpy()
    return build_contract(trained.env, bound, training, trained.config.env)


def write_onnx(policy: nn.Module, obs_size: int, metadata: dict[str, str], out: Path) -> Path:
    """Export ``policy`` (``obs`` -> ``action``) with ``metadata`` props to ``out`` (atomically); returns ``out``."""
    if out.suffix != ".onnx":
        raise ConfigError.single(out, "--out", "the policy file must end in .onnx")
    if not out.parent.is_dir():
        raise ConfigError.single(out, "--out", f"folder {out.parent} does not exist; create it or choose another path")
    if not os.access(out.parent, os.W_OK):
        raise ConfigError.single(out, "--out", f"folder {out.parent} is not writable; choose another path")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        dummy = torch.zeros(1, obs_size)
        with warnings.catch_warnings():  # the TorchScript exporter works without onnxscript; its notice is noise
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                policy,
                (dummy,),
                str(tmp),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,
            )
        model = onnx.load(str(tmp))
        model.producer_name = "sim2real"
        for key, value in metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def export_trained(trained: TrainedRun, run_dir: Path, out: Path) -> tuple[Path, PolicyContract]:
    """Export a loaded run's policy with its contract to ``out``; returns the file and the contract."""
    contract = run_contract(trained, run_dir)
    path = write_onnx(trained.policy, contract.observation_size, {CONTRACT_KEY: contract.to_json()}, out)
    return path, contract


def export_run(run_dir: Path, out: Path | None = None) -> tuple[Path, PolicyContract]:
    """Export a run folder's latest policy (default ``RUN_DIR/policy.onnx``); returns the file and its contract.

    A Brax PPO run folder exports its deterministic policy the same way (:mod:`sim2real.baselines.brax_export`).
    """
    if (run_dir / PARAMS_FILE).exists() and not (run_dir / CHECKPOINT_NAME).exists():
        from sim2real.baselines.brax_export import export_brax_run

        return export_brax_run(run_dir, out)
    return export_trained(load_trained(run_dir), run_dir, out or run_dir / POLICY_NAME)
