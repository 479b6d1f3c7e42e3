"""FastSAC (holosoma's recipe for fast humanoid training): SAC with C51 critics, LayerNorm and big batches.

The design, top to bottom:

- Actor: tanh-squashed Gaussian, MLP 512-256-128 SiLU with LayerNorm after every hidden layer; the mean
  and log-std heads start at zero; log-std squashed into [-5, 0].
- Critics: two C51 critics (101 atoms over [-20, 20]), MLP 768-384-192 SiLU + LayerNorm. Each learns
  toward its own target (no min); the target carries the entropy bonus ``-alpha * log pi(a'|s')``.
- Actor maximizes the critics' mean Q minus ``alpha * log pi``; the temperature is learned toward a target
  entropy (0 per action entry for locomotion), starting at alpha 0.001.
- 8 critic updates per env step on batches of 8192, actor and temperature every 4th; tau 0.125; gamma
  0.97; replay 1024 steps per env; AdamW lr 3e-4, betas (0.9, 0.95), weight decay 0.001.
- Joint-limit-aware action bounds on position-controlled robots; left/right mirror augmentation doubles
  each batch; the observation normalizer is updated on sampled batches only.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import torch
from pydantic import Field

from policies.agent import AgentSpec, OffPolicyAgent, make_adamw, reduce_q
from policies.learner_config import LearnerConfig
from policies.networks import GaussianActor
from policies.replay import Batch


class FastSACConfig(LearnerConfig):
    """FastSAC hyperparameters; unset fields take the published values in ``PUBLISHED``."""

    algo: Literal["fastsac"] = Field("fastsac", description="Algorithm tag (selects this config in a run's YAML).")

    PUBLISHED: ClassVar[dict[str, Any]] = {
        "actor_hidden": (512, 256, 128),
        "critic_hidden": (768, 384, 192),
        "activation": "silu",
        "layer_norm": True,
        "num_atoms": 101,
        "v_min": -20.0,
        "v_max": 20.0,
        "gamma": 0.97,
        "tau": 0.125,
        "n_step": 1,
        "batch_size": 8192,
        "updates_per_step": 8,
        "policy_delay": 4,
        "buffer_steps": 1024,
        "learning_rate": 3e-4,
        "weight_decay": 0.001,
        "adam_betas": (0.9, 0.95),
        "max_grad_norm": 0.0,
        "target_reduction": "independent",
        "actor_q": "mean",
        "normalize_obs": True,
        "normalizer_updates": "batches",
        "action_bounds": "auto",
        "mirror_augmentation": True,
        "learning_starts": 10,
        "alpha_init": 0.001,
        "target_entropy_per_action": 0.0,
        "log_std_range": (-5.0, 0.0),
    }

    alpha_init: float = Field(gt=0.0, description="Initial entropy temperature.")
    target_entropy_per_action: float = Field(
        description="Target entropy per action entry (0 for locomotion, -0.5 for tracking)."
    )
    log_std_range: tuple[float, float] = Field(description="Range the actor's log-std is squashed into.")


class FastSAC(OffPolicyAgent):
    """The FastSAC agent: call :meth:`explore` in rollouts and :meth:`update` on replay batches."""

    LOSSES = ("critic_loss_of", "actor_losses_of")

    def __init__(self, spec: AgentSpec, config: FastSACConfig) -> None:
        super().__init__(spec, config)
        self.config: FastSACConfig = config
        self.actor = GaussianActor(
            spec.obs_size,
            spec.action_bound,
            config.actor_hidden,
            config.activation,
            config.layer_norm,
            config.log_std_range,
        )
        self.log_alpha = torch.nn.Parameter(torch.tensor(math.log(config.alpha_init)))
        self.target_entropy = config.target_entropy_per_action * spec.action_bound.shape[0]
        self.to(spec.device)
        self.critic_optimizer = make_adamw(self.critic.parameters(), config)
        self.actor_optimizer = make_adamw(self.actor.parameters(), config)
        self.alpha_optimizer = torch.optim.AdamW([self.log_alpha], lr=config.learning_rate, betas=config.adam_betas)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The critic's, the actor's and the temperature's AdamW."""
        return {"critic": self.critic_optimizer, "actor": self.actor_optimizer, "alpha": self.alpha_optimizer}

    @torch.no_grad()
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """A sample from the squashed Gaussian."""
        with self.autocast():
            return self.actor.sample(self.normalize_actor(obs))[0].float()

    def critic_loss_of(self, batch: Batch) -> torch.Tensor:
        """C51 loss toward the entropy-regularized target ``r + bootstrap * (Z' - alpha * log pi)``."""
        with torch.no_grad(), self.autocast():
            next_action, next_log_prob = self.actor.sample(batch.next_obs)
            alpha = self.log_alpha.exp()
            reward = batch.reward - batch.bootstrap * alpha * next_log_prob.float()
            targets = self.target_distributions(batch, next_action.float(), reward)
        with self.autocast():
            return self.critic_loss(batch, targets)

    def actor_losses_of(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(actor loss, temperature loss, mean log pi)`` for a batch."""
        with self.autocast():
            action, log_prob = self.actor.sample(batch.obs)
            log_prob = log_prob.float()
            q = reduce_q(self.q_values(batch.critic_obs, action), self.config.actor_q)
            actor_loss = (self.log_alpha.exp().detach() * log_prob - q).mean()
            alpha_loss = -(self.log_alpha.exp() * (log_prob.detach() + self.target_entropy)).mean()
            return actor_loss, alpha_loss, log_prob.detach().mean()

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One critic update, a soft target update, and actor + temperature every ``policy_delay`` calls."""
        batch, critic_loss = self.critic_update(batch)
        losses = {"critic": critic_loss}
        if self.updates % self.config.policy_delay == 0:
            with self.timer.phase("actor update"):
                with self.frozen_critic():
                    actor_loss, alpha_loss, log_prob = self.actor_losses_of(batch)
                self.step_optimizer(self.actor_optimizer, actor_loss)
                self.step_optimizer(self.alpha_optimizer, alpha_loss)
            losses.update(actor=actor_loss.detach(), alpha=alpha_loss.detach(), entropy=-log_prob)
        self.updates += 1
        return losses
