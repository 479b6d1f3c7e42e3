"""FastTD3 (Seo et al., 2025): TD3 with a distributional critic, massive parallel envs and big batches.

The design, top to bottom:

- Actor: MLP 512-256-128 ReLU, ``tanh`` output, last layer drawn from N(0, 0.01).
- Critics: two C51 critics (101 atoms), MLP 1024-512-256 ReLU, cross-entropy toward the projected target.
- Clipped double Q: per sample, both critics learn toward the target distribution whose mean is lower.
- Target policy smoothing: Gaussian noise (std 0.001, clipped at 0.5) on the current actor's next action.
- Exploration: each env draws its own noise std from U[0.001, 0.4], redrawn when that env's episode ends;
  the noise is added after ``tanh`` and the result clipped to the action bounds.
- Actor updated every 2nd critic update, maximizing ``min(Q1, Q2)``; targets soft-updated (tau 0.1)
  after every critic update. AdamW lr 3e-4, weight decay 0.1, no gradient clipping.
- Replay 10240 steps per env; 2 updates per env step on batches of 32768; gamma 0.97 (Playground).
- Running observation normalization, updated on rollouts and sampled batches.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field, model_validator

from policies.agent import AgentSpec, OffPolicyAgent, make_adamw, reduce_q
from policies.learner_config import LearnerConfig
from policies.networks import DeterministicActor
from policies.replay import Batch


class FastTD3Config(LearnerConfig):
    """FastTD3 hyperparameters; unset fields take the published values in ``PUBLISHED``."""

    algo: Literal["fasttd3"] = Field("fasttd3", description="Algorithm tag (selects this config in a run's YAML).")

    PUBLISHED: ClassVar[dict[str, Any]] = {
        "actor_hidden": (512, 256, 128),
        "critic_hidden": (1024, 512, 256),
        "activation": "relu",
        "layer_norm": False,
        "num_atoms": 101,
        "v_min": -10.0,
        "v_max": 10.0,
        "gamma": 0.97,
        "tau": 0.1,
        "n_step": 1,
        "batch_size": 32768,
        "updates_per_step": 2,
        "policy_delay": 2,
        "buffer_steps": 10240,
        "learning_rate": 3e-4,
        "weight_decay": 0.1,
        "adam_betas": (0.9, 0.999),
        "max_grad_norm": 0.0,
        "target_reduction": "min",
        "actor_q": "min",
        "normalize_obs": True,
        "normalizer_updates": "rollouts_and_batches",
        "action_bounds": "unit",
        "mirror_augmentation": False,
        "learning_starts": 10,
        "policy_noise": 0.001,
        "noise_clip": 0.5,
        "exploration_std": (0.001, 0.4),
    }

    policy_noise: float = Field(ge=0.0, description="Std of the target policy smoothing noise.")
    noise_clip: float = Field(ge=0.0, description="Clip of the target policy smoothing noise.")
    exploration_std: tuple[float, float] = Field(
        description="Range U[low, high] each env's exploration noise std is drawn from at every episode start."
    )

    @model_validator(mode="after")
    def _check_std_range(self) -> FastTD3Config:
        low, high = self.exploration_std
        if not 0.0 <= low <= high:
            raise ValueError(f"exploration_std ({low}, {high}) must satisfy 0 <= low <= high")
        return self


class FastTD3(OffPolicyAgent):
    """The FastTD3 agent: call :meth:`explore` in rollouts and :meth:`update` on replay batches."""

    LOSSES = ("critic_loss_of", "actor_loss_of")
    EXPLORATION = ("noise_std",)

    def __init__(self, spec: AgentSpec, config: FastTD3Config) -> None:
        super().__init__(spec, config)
        self.config: FastTD3Config = config
        self.actor = DeterministicActor(
            spec.obs_size, spec.action_bound, config.actor_hidden, config.activation, config.layer_norm
        )
        self.register_buffer("noise_std", torch.zeros(spec.num_envs, 1))
        self.to(spec.device)
        self.episodes_ended(torch.ones(spec.num_envs, dtype=torch.bool, device=spec.device))
        self.critic_optimizer = make_adamw(self.critic.parameters(), config)
        self.actor_optimizer = make_adamw(self.actor.parameters(), config)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The critic's and the actor's AdamW."""
        return {"critic": self.critic_optimizer, "actor": self.actor_optimizer}

    def episodes_ended(self, done: torch.Tensor) -> None:
        """Envs in ``done`` draw a new exploration std from ``U[exploration_std]``."""
        low, high = self.config.exploration_std
        fresh = low + (high - low) * torch.rand_like(self.noise_std)
        self.noise_std.copy_(torch.where(done.view(-1, 1), fresh, self.noise_std))

    @torch.no_grad()
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """Actor action plus each env's Gaussian noise, clipped to the bounds."""
        bound = self.actor.bound
        action = self.act(obs)
        noisy = action + torch.randn_like(action) * self.noise_std * bound
        return torch.maximum(torch.minimum(noisy, bound), -bound)

    def critic_loss_of(self, batch: Batch) -> torch.Tensor:
        """C51 loss toward the clipped double-Q target with a smoothed next action."""
        with torch.no_grad(), self.autocast():
            bound = self.actor.bound
            next_action = self.actor(batch.next_obs).float()
            clip = self.config.noise_clip
            smoothing = (torch.randn_like(next_action) * self.config.policy_noise).clamp(-clip, clip) * bound
            next_action = torch.maximum(torch.minimum(next_action + smoothing, bound), -bound)
            targets = self.target_distributions(batch, next_action, batch.reward)
        with self.autocast():
            return self.critic_loss(batch, targets)

    def actor_loss_of(self, batch: Batch) -> torch.Tensor:
        """``-mean(Q)`` of the actor's action, Q combined over critics as configured."""
        with self.autocast():
            q = self.q_values(batch.critic_obs, self.actor(batch.obs))
            return -reduce_q(q, self.config.actor_q).mean()

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One critic update, a soft target update, and an actor update every ``policy_delay`` calls."""
        batch, critic_loss = self.critic_update(batch)
        losses = {"critic": critic_loss}
        if self.updates % self.config.policy_delay == 0:
            with self.timer.phase("actor update"):
                with self.frozen_critic():
                    actor_loss = self.actor_loss_of(batch)
                self.step_optimizer(self.actor_optimizer, actor_loss)
            losses["actor"] = actor_loss.detach()
        self.updates += 1
        return losses
