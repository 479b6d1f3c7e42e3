"""A training run's full, typed recipe, and how it is resolved from presets, a YAML file and flags.

Precedence, lowest first: the learner's published defaults, the task's preset (``policies.presets``),
the ``--config`` YAML file, the command-line flags. The resolved config is saved beside the checkpoints.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, computed_field, model_validator

from policies.fast_sac import FastSACConfig
from policies.fast_td3 import FastTD3Config
from policies.presets import PresetDevice, preset_for
from sim.assets import resolve_robot_reference
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import parse_model, read_yaml_mapping

LEARNERS = ("fasttd3", "fastsac")
"""Algorithms trained by :mod:`policies.trainer`."""

Learner = Annotated[FastTD3Config | FastSACConfig, Field(discriminator="algo")]
"""One learner's config, selected by its ``algo`` tag."""

Switch = Literal["auto", "on", "off"]
"""``auto`` turns a GPU-only feature on with CUDA and off on CPU."""


class DistributedConfig(BaseModel):
    """How a run splits over torch.distributed ranks (``sim2real train --distributed`` under torchrun).

    Each rank steps its own envs (its own seeds and DR draws) into its own replay buffer and samples its own
    batch; gradients are averaged over the ranks, so one update learns from ``world_size`` batches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    world_size: int = Field(
        1, ge=1, description="Ranks the run trains on; --distributed sets it from torchrun (resumes need the same)."
    )
    num_envs_rule: Literal["per_rank", "split"] = Field(
        "per_rank", description="num_envs is each rank's (per_rank) or the total, split evenly (split)."
    )
    batch_rule: Literal["per_rank", "split"] = Field(
        "per_rank", description="learner.batch_size is each rank's (per_rank) or the effective one, split (split)."
    )
    learning_rate_rule: Literal["constant", "linear", "sqrt"] = Field(
        "constant",
        description="learner.learning_rate times 1, world_size or sqrt(world_size) under world_size ranks.",
    )
    timeout_s: float = Field(
        600.0, gt=0.0, description="Seconds a rank waits on a silent peer before it stops the run."
    )


class Scaling(BaseModel):
    """What the distributed rules make of the recipe (derived; written in the saved config for the record)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    envs_per_rank: int = Field(description="Training envs each rank steps.")
    total_envs: int = Field(description="Training envs over all ranks.")
    batch_per_rank: int = Field(description="Transitions each rank samples per update.")
    effective_batch: int = Field(description="Transitions behind one averaged update (before mirror doubling).")
    learning_rate: float = Field(description="The learning rate every optimizer uses.")


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
    distributed: DistributedConfig = Field(
        default_factory=DistributedConfig, description="Ranks and the rules that scale envs, batch and rate."
    )

    @property
    def algo(self) -> str:
        """The learner's name."""
        return self.learner.algo

    @computed_field(description="Per-rank and effective envs, batch and learning rate (derived, read-only).")
    @property
    def scaling(self) -> Scaling:
        """The envs, batch and learning rate the distributed rules give under ``distributed.world_size`` ranks."""
        rules, ranks = self.distributed, self.distributed.world_size
        envs = self.num_envs // ranks if rules.num_envs_rule == "split" else self.num_envs
        batch = self.learner.batch_size // ranks if rules.batch_rule == "split" else self.learner.batch_size
        factor = {"constant": 1.0, "linear": float(ranks), "sqrt": math.sqrt(ranks)}[rules.learning_rate_rule]
        return Scaling(
            envs_per_rank=envs,
            total_envs=envs * ranks,
            batch_per_rank=batch,
            effective_batch=batch * ranks,
            learning_rate=self.learner.learning_rate * factor,
        )

    def rank_learner(self) -> FastTD3Config | FastSACConfig:
        """The learner config one rank builds its agent with (its batch and the scaled learning rate)."""
        scaling = self.scaling
        return self.learner.model_copy(
            update={"batch_size": scaling.batch_per_rank, "learning_rate": scaling.learning_rate}
        )

    @model_validator(mode="wrap")
    @classmethod
    def _scaling_is_derived(cls, data: Any, handler: ModelWrapValidatorHandler[TrainConfig]) -> TrainConfig:
        """Accept a saved config's ``scaling`` block only when it matches what the rules give."""
        given = None
        if isinstance(data, dict) and "scaling" in data:
            data = dict(data)
            given = data.pop("scaling")
        config = handler(data)
        if given is not None and given != config.scaling.model_dump():
            raise ValueError(
                "scaling is derived from num_envs, learner.batch_size, learner.learning_rate and distributed; "
                "change those instead"
            )
        return config

    @model_validator(mode="after")
    def _splits_evenly(self) -> TrainConfig:
        """A split env count or batch must leave every rank at least one, in equal shares."""
        ranks = self.distributed.world_size
        for rule, name, value in (
            (self.distributed.num_envs_rule, "num_envs", self.num_envs),
            (self.distributed.batch_rule, "learner.batch_size", self.learner.batch_size),
        ):
            if rule == "split" and (value < ranks or value % ranks):
                raise ValueError(f"{name} {value} does not split evenly over {ranks} ranks; make it a multiple")
        return self


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
    file_data = read_yaml_mapping(config_file) if config_file is not None else {}
    device = preset_device((flags or {}).get("device", file_data.get("device", "auto")))
    data: dict[str, Any] = merge({"task": task, "learner": {"algo": algo}}, preset_for(task, algo, device))
    data = merge(data, {"env": task_overrides or {}})
    source = "flags"
    if config_file is not None:
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


def preset_device(device: Any) -> PresetDevice:
    """Which presets a run takes: ``cuda`` when it trains on a GPU (asked for, or ``auto`` with one present)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return "cuda" if device == "cuda" else "cpu"


CPU_SAMPLES_PER_STEP = 16_384
"""Transitions a run on a CPU may sample per vectorized env step (batch x updates per step, per rank) before its
recipe counts as GPU-sized: 8 times the locomotion CPU recipe's 256 x 8; FastSAC's published 8192 x 8 is 32 times,
hours per thousand env steps on two cores."""

_SIZE_FIELDS = ("batch_size", "updates_per_step", "critic_hidden", "actor_hidden")
"""The learner fields that set the cost of an iteration."""


def samples_per_step(config: TrainConfig) -> int:
    """Transitions one rank's learner samples per vectorized env step."""
    return config.scaling.batch_per_rank * config.learner.updates_per_step


def gpu_recipe_on_cpu_warning(config: TrainConfig) -> str | None:
    """One line for a run that trains on a CPU with a GPU-sized learner, naming the CPU alternative (None: fine).

    The alternative is the task's CPU recipe (:data:`policies.presets.CPU_PRESETS`, what ``device: auto`` picks
    without a GPU) with the fields that differ from it named, or, for a task without one, the fields to set.
    """
    if samples_per_step(config) <= CPU_SAMPLES_PER_STEP:
        return None
    learner = config.learner
    critic = "-".join(map(str, learner.critic_hidden))
    head = (
        f"warning: learner batch {learner.batch_size} x {learner.updates_per_step} updates per env step with "
        f"{critic} critics is a GPU-sized recipe and this run trains on the CPU (an iteration can take minutes)"
    )
    cpu = resolve_train_config(config.task, config.algo, flags={"device": "cpu"})
    if samples_per_step(cpu) > CPU_SAMPLES_PER_STEP:
        return (
            f"{head}; {config.task} has no CPU recipe: set learner.batch_size, updates_per_step and the hidden "
            "sizes in --config (the locomotion CPU recipes in CPU_PRESETS, policies/presets.py, take 256 x 8, 256-256)"
        )
    differ = [f"learner.{name}" for name in _SIZE_FIELDS if getattr(learner, name) != getattr(cpu.learner, name)]
    return (
        f"{head}; {config.task}'s CPU recipe (batch {cpu.learner.batch_size} x {cpu.learner.updates_per_step}, what "
        f"device: auto picks without a GPU) differs in {', '.join(differ)}: drop them from --config "
        "(a resumed run keeps its recipe: start a new --run-dir)"
    )


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
