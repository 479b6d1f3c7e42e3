"""Hyperparameters both learners share, as one typed config; each algorithm fills in its published defaults.

An algorithm's config class names its published values in a ``PUBLISHED`` table; anything the user sets
(YAML or flags) overrides them. Where FastTD3 and FastSAC differ in design (LayerNorm, min vs independent
critic targets, the actor's reduction over critics, n-step, noise ranges, action bounds, mirror
augmentation), the difference is a field here, not an ``if algo ==`` in the code.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policies.networks import Activation


class LearnerConfig(BaseModel):
    """Settings shared by FastTD3 and FastSAC (no defaults here: see each algorithm's ``PUBLISHED``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)
    PUBLISHED: ClassVar[dict[str, Any]] = {}

    actor_hidden: tuple[int, ...] = Field(min_length=1, description="Actor hidden layer widths.")
    critic_hidden: tuple[int, ...] = Field(min_length=1, description="Critic hidden layer widths.")
    activation: Activation = Field(description="Hidden activation: relu (FastTD3) or silu (FastSAC).")
    layer_norm: bool = Field(description="LayerNorm after every hidden layer (FastSAC) or none (FastTD3).")
    num_atoms: int = Field(ge=2, description="Atoms of the C51 return distribution.")
    v_min: float = Field(description="Lowest return on the C51 support.")
    v_max: float = Field(description="Highest return on the C51 support.")
    gamma: float = Field(gt=0.0, le=1.0, description="Discount per control step.")
    tau: float = Field(gt=0.0, le=1.0, description="Soft target update rate, applied after every critic update.")
    n_step: int = Field(ge=1, description="Steps summed in the return target (cut at episode ends).")
    batch_size: int = Field(ge=1, description="Transitions per update (before mirror doubling).")
    updates_per_step: int = Field(ge=1, description="Critic updates per vectorized env step.")
    policy_delay: int = Field(ge=1, description="Actor (and temperature) updated every k-th critic update.")
    buffer_steps: int = Field(ge=1, description="Replay capacity in steps per env: (num_envs, buffer_steps, dim).")
    learning_rate: float = Field(gt=0.0, description="AdamW learning rate of every network.")
    weight_decay: float = Field(ge=0.0, description="AdamW weight decay.")
    adam_betas: tuple[float, float] = Field(description="AdamW betas.")
    max_grad_norm: float = Field(ge=0.0, description="Gradient norm clip; 0 disables clipping.")
    target_reduction: Literal["min", "independent"] = Field(
        description="'min': both critics learn toward the target distribution with the lower mean (clipped "
        "double Q); 'independent': each critic toward its own target."
    )
    actor_q: Literal["min", "mean"] = Field(description="How the actor combines the critics' values.")
    normalize_obs: bool = Field(description="Running mean/std normalization of actor and critic observations.")
    normalizer_updates: Literal["rollouts_and_batches", "batches"] = Field(
        description="Which observations update the normalizer: rollouts and sampled batches, or batches only."
    )
    action_bounds: Literal["unit", "joint_limits", "auto"] = Field(
        description="'unit': [-1, 1]; 'joint_limits': each joint may reach its farther limit (position control "
        "only); 'auto': joint_limits on position-controlled robots, unit otherwise."
    )
    mirror_augmentation: bool = Field(
        description="Double each batch with its left/right mirror when the task declares a mirror map."
    )
    learning_starts: int = Field(ge=1, description="Vectorized env steps collected before the first update.")

    @model_validator(mode="before")
    @classmethod
    def _fill_published_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**cls.PUBLISHED, **data}
        return data

    @model_validator(mode="after")
    def _check_support(self) -> LearnerConfig:
        if self.v_min >= self.v_max:
            raise ValueError(f"v_min {self.v_min} must be below v_max {self.v_max}")
        if self.learning_starts < self.n_step:
            raise ValueError(f"learning_starts {self.learning_starts} must be at least n_step {self.n_step}")
        return self
