"""A training run's full, typed recipe, and how it is resolved from presets, a YAML file and flags.

Precedence, lowest first: the learner's published defaults, the task's preset (``policies.presets``),
the ``--config`` YAML file, the command-line flags. The resolved config is saved beside the checkpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.fast_sac import FastSACConfig
from policies.fast_td3 import FastTD3Config
from policies.presets import preset_for
from sim.assets import resolve_robot_reference
from sim.errors import ConfigError
from sim.yaml_io import parse_model, read_yaml_mapping

LEARNERS = ("fasttd3", "fastsac")
"""Algorithms trained by :mod:`policies.trainer`."""

Learner = Annotated[FastTD3Config | FastSACConfig, Field(discriminator="algo")]
"""One learner's config, selected by its ``algo`` tag."""

Switch = Literal["auto", "on", "off"]
"""``auto`` turns a GPU-only feature on with CUDA and off on CPU."""


class TrainConfig(BaseModel):
    """Everything that defines a training run."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    task: str = Field(description="Registered task name.")
    learner: Learner = Field(description="The algorithm and its hyperparameters.")
    env: dict[str, Any] = Field(default_factory=dict, description="Overrides of the task's config fields.")
    num_envs: int = Field(1024, ge=1, description="Parallel training envs.")
    total_steps: int = Field(10_000_000, ge=1, description="Env steps to train for (summed over envs).")
    seed: int = Field(0, description="Seed of the envs, the networks and the replay sampling.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Torch device; auto picks CUDA if present.")
    compile: Switch = Field("auto", description="torch.compile the loss functions (auto: on with CUDA).")
    bf16: Switch = Field("auto", description="bfloat16 autocast in the networks (auto: on with CUDA).")
    torch_threads: int = Field(0, ge=0, description="Torch intra-op CPU threads; 0 keeps torch's default.")
    eval_every: int = Field(200_000, ge=1, description="Env steps between evaluations.")
    eval_envs: int = Field(16, ge=1, description="Evaluation envs; each plays one noise-free episode.")
    checkpoint_every: int = Field(500_000, ge=1, description="Env steps between checkpoints.")
    log_every: int = Field(100, ge=1, description="Vectorized steps between TensorBoard log points.")
    save_replay: bool = Field(
        True, description="Keep the replay buffer in checkpoints (exact resumes; large for big runs)."
    )

    @property
    def algo(self) -> str:
        """The learner's name."""
        return self.learner.algo


RESUMABLE_CHANGES = frozenset({"total_steps"})
"""Fields a resumed run may change (extending a run is fine; anything else is a different run)."""


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict update (nested mappings merge, everything else replaces)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_train_config(
    task: str,
    algo: str,
    config_file: Path | None = None,
    flags: dict[str, Any] | None = None,
    task_overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Defaults <- task preset <- ``task_overrides`` (a task YAML) <- ``config_file`` <- ``flags`` (those given)."""
    if algo not in LEARNERS:
        raise ConfigError.single("--algo", algo, f"unknown algorithm; choose one of: {', '.join(LEARNERS)}")
    data: dict[str, Any] = merge({"task": task, "learner": {"algo": algo}}, preset_for(task, algo))
    data = merge(data, {"env": task_overrides or {}})
    source = "flags"
    if config_file is not None:
        file_data = read_yaml_mapping(config_file)
        env_data = file_data.get("env")
        if isinstance(env_data, dict) and isinstance(env_data.get("robot"), str):
            file_data["env"] = {**env_data, "robot": resolve_robot_reference(env_data["robot"], config_file)}
        file_algo = (
            file_data.get("learner", {}).get("algo", algo) if isinstance(file_data.get("learner"), dict) else algo
        )
        if file_algo != algo:
            raise ConfigError.single(
                config_file, "learner.algo", f"is {file_algo!r} but --algo is {algo!r}; make them agree"
            )
        data = merge(data, file_data)
        source = str(config_file)
    data = merge(data, flags or {})
    return parse_model(source, TrainConfig, data)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys to leaf values (``learner.batch_size``)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``field (saved X, now Y)`` for every field that differs, ignoring :data:`RESUMABLE_CHANGES`."""
    before, after = flatten(saved), flatten(current)
    return [
        f"{key} (run has {before.get(key, '<unset>')!r}, now {after.get(key, '<unset>')!r})"
        for key in sorted(set(before) | set(after))
        if key not in RESUMABLE_CHANGES and before.get(key) != after.get(key)
    ]
