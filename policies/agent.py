"""What FastTD3 and FastSAC share around their update rules: networks, normalizers, optimizers, state.

An agent owns an actor, a pair of distributional critics with their target copies, the running
observation normalizers and the optimizers. The algorithm files add exploration and the update.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from policies import c51
from policies.deployed import DeployedPolicy
from policies.distributed import SINGLE, Ranks
from policies.learner_config import LearnerConfig
from policies.mirror import MirrorMap
from policies.networks import DistributionalCritics
from policies.normalizer import RunningNormalizer
from policies.phase_timer import PhaseTimer
from policies.replay import Batch


@dataclass(frozen=True)
class AgentSpec:
    """Sizes and options the env decides."""

    obs_size: int
    """Actor observation entries."""
    critic_obs_size: int
    """Critic observation entries."""
    action_bound: torch.Tensor
    """Per-entry action bound (the actor's output range is ``[-bound, bound]``)."""
    num_envs: int
    """Training envs (for per-env exploration state)."""
    device: torch.device
    """Where networks and batches live."""
    mirror: MirrorMap | None = None
    """The task's mirror map, when it declares one."""
    bf16: bool = False
    """Run the networks under bfloat16 autocast (CUDA only)."""
    ranks: Ranks = SINGLE
    """The ranks the agent trains with: gradients and normalizer statistics are pooled over them."""


POLICY_MODULES = ("actor", "obs_normalizer")
"""The agent's modules a deployed policy is made of; their state is a checkpoint's policy archive."""


def policy_state(modules: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The entries of an agent's state dict a deployed policy needs: the actor's and the observation normalizer's."""
    return {name: value for name, value in modules.items() if name.split(".", 1)[0] in POLICY_MODULES}


def make_adamw(params: Any, config: LearnerConfig) -> torch.optim.AdamW:
    """AdamW with the config's learning rate, betas and weight decay."""
    return torch.optim.AdamW(params, lr=config.learning_rate, betas=config.adam_betas, weight_decay=config.weight_decay)


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """``target <- (1 - tau) * target + tau * source`` for every parameter."""
    torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


def select_targets(projected: torch.Tensor, support: torch.Tensor, reduction: str) -> torch.Tensor:
    """Targets ``(critics, batch, atoms)`` from each target critic's projected distribution.

    ``min``: every critic gets, per sample, the whole distribution whose mean is lowest (clipped double Q).
    ``independent``: each critic keeps its own.
    """
    if reduction == "independent":
        return projected
    lowest = c51.expected_value(projected, support).argmin(dim=0)
    chosen = projected.gather(0, lowest.view(1, -1, 1).expand(1, *projected.shape[1:]))
    return chosen.expand_as(projected)


def reduce_q(values: torch.Tensor, how: str) -> torch.Tensor:
    """Combine per-critic values ``(critics, batch)`` by ``min`` or ``mean``."""
    return values.min(dim=0).values if how == "min" else values.mean(dim=0)


class OffPolicyAgent(nn.Module):
    """Base of FastTD3 and FastSAC: everything but exploration and the update rule."""

    actor: nn.Module
    critic_optimizer: torch.optim.Optimizer
    LOSSES: tuple[str, ...] = ()
    """Names of the methods that compute losses (what :meth:`compile_losses` compiles)."""
    EXPLORATION: tuple[str, ...] = ()
    """Buffers holding per-env exploration state: each rank keeps (and checkpoints) its own."""

    def __init__(self, spec: AgentSpec, config: LearnerConfig) -> None:
        super().__init__()
        self.spec = spec
        self.config = config
        self.obs_normalizer = RunningNormalizer(spec.obs_size)
        self.critic_normalizer = RunningNormalizer(spec.critic_obs_size)
        action_size = spec.action_bound.shape[0]
        critic_args = (
            spec.critic_obs_size,
            action_size,
            config.critic_hidden,
            config.num_atoms,
            config.activation,
            config.layer_norm,
        )
        self.critic = DistributionalCritics(*critic_args)
        self.critic_target = DistributionalCritics(*critic_args)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        self.register_buffer("support", c51.make_support(config.v_min, config.v_max, config.num_atoms))
        self.updates = 0
        self.timer = PhaseTimer()
        """Charges the update's phases (off unless a profiler turns it on)."""

    def autocast(self) -> contextlib.AbstractContextManager:
        """bfloat16 autocast on CUDA when asked; a no-op otherwise."""
        if self.spec.bf16 and self.spec.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def normalize(self, obs: torch.Tensor, critic_obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply the observation normalizers (identity when normalization is off)."""
        if not self.config.normalize_obs:
            return obs, critic_obs
        return self.obs_normalizer(obs), self.critic_normalizer(critic_obs)

    def observe_rollout(self, obs: torch.Tensor, critic_obs: torch.Tensor) -> None:
        """Let rollout observations update the normalizers, when the config says so."""
        if self.config.normalize_obs and self.config.normalizer_updates == "rollouts_and_batches":
            self.obs_normalizer.update(obs, self.spec.ranks)
            self.critic_normalizer.update(critic_obs, self.spec.ranks)

    def prepare(self, batch: Batch) -> Batch:
        """Mirror-augment (when on), update normalizers from the batch, and normalize it."""
        if self.spec.mirror is not None and self.config.mirror_augmentation:
            batch = self.spec.mirror.augment(batch)
        if self.config.normalize_obs:
            self.obs_normalizer.update(batch.obs, self.spec.ranks)
            self.critic_normalizer.update(batch.critic_obs, self.spec.ranks)
        obs, critic_obs = self.normalize(batch.obs, batch.critic_obs)
        next_obs, next_critic_obs = self.normalize(batch.next_obs, batch.next_critic_obs)
        return Batch(obs, critic_obs, batch.action, batch.reward, next_obs, next_critic_obs, batch.bootstrap)

    @torch.no_grad()
    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action for raw actor observations (evaluation)."""
        with self.autocast():
            return self.actor(self.normalize_actor(obs)).float()

    def normalize_actor(self, obs: torch.Tensor) -> torch.Tensor:
        """Normalize actor observations only (identity when normalization is off)."""
        return self.obs_normalizer(obs) if self.config.normalize_obs else obs

    def deployable(self) -> DeployedPolicy:
        """The policy as deployed: raw observation -> bounded action, normalizer and action bounds folded in."""
        normalize = self.obs_normalizer.frozen() if self.config.normalize_obs else nn.Identity()
        return DeployedPolicy(normalize, self.actor)

    def compile_losses(self) -> None:
        """Wrap the algorithm's loss functions (named in ``LOSSES``) with ``torch.compile``."""
        for name in self.LOSSES:
            setattr(self, name, torch.compile(getattr(self, name)))

    def critic_loss(self, batch: Batch, targets: torch.Tensor) -> torch.Tensor:
        """Summed C51 cross-entropy of both critics toward ``targets`` ``(critics, batch, atoms)``."""
        logits = self.critic(batch.critic_obs, batch.action).float()
        return sum(c51.categorical_loss(logits[i], targets[i]) for i in range(logits.shape[0]))

    def q_values(self, critic_obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Expected returns ``(critics, batch)`` of the online critics."""
        probs = torch.softmax(self.critic(critic_obs, action).float(), dim=-1)
        return c51.expected_value(probs, self.support)

    def target_distributions(self, batch: Batch, next_action: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        """Projected targets ``(critics, batch, atoms)`` after the config's reduction over critics."""
        probs = torch.softmax(self.critic_target(batch.next_critic_obs, next_action).float(), dim=-1)
        projected = torch.stack([c51.project_target(p, reward, batch.bootstrap, self.support) for p in probs.unbind(0)])
        return select_targets(projected, self.support, self.config.target_reduction)

    def step_optimizer(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """Backpropagate ``loss``, average gradients over the ranks, step ``optimizer`` (clipped as configured)."""
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if self.spec.ranks.world_size > 1:
            self.spec.ranks.average_gradients(params)
        if self.config.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(params, self.config.max_grad_norm)
        optimizer.step()

    def critic_update(self, batch: Batch) -> tuple[Batch, torch.Tensor]:
        """Prepare ``batch`` (:meth:`prepare`), take one critic step and a soft target update.

        Returns the prepared batch (for the actor's update) and the detached critic loss.
        """
        with self.timer.phase("batch prep (mirror, normalize)"):
            batch = self.prepare(batch)
        with self.timer.phase("critic update"):
            critic_loss = self.critic_loss_of(batch)
            self.step_optimizer(self.critic_optimizer, critic_loss)
            soft_update(self.critic_target, self.critic, self.config.tau)
        return batch, critic_loss.detach()

    def critic_loss_of(self, batch: Batch) -> torch.Tensor:
        """The critic loss of a prepared batch (the algorithm's target)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def frozen_critic(self) -> Iterator[None]:
        """Let gradients flow through the critic to the action without computing the critic's own."""
        self.critic.requires_grad_(False)
        try:
            yield
        finally:
            self.critic.requires_grad_(True)

    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """An exploratory action for raw actor observations (one row per training env)."""
        raise NotImplementedError

    def episodes_ended(self, done: torch.Tensor) -> None:
        """Hook: envs in ``done`` start new episodes (e.g. redraw their exploration noise)."""
        del done

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One critic update (and an actor update every ``policy_delay``); returns detached losses."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Named optimizers, for checkpoints."""
        raise NotImplementedError

    def training_state(self) -> dict[str, Any]:
        """Everything a checkpoint needs to continue: modules (with exploration state), optimizers, counter."""
        return {
            "modules": self.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers().items()},
            "updates": self.updates,
        }

    def shared_tensors(self) -> list[torch.Tensor]:
        """Parameters and buffers every rank holds identically (everything but exploration state)."""
        return [value for name, value in self.state_dict(keep_vars=True).items() if name not in self.EXPLORATION]

    def exploration_state(self) -> dict[str, torch.Tensor]:
        """The rank's exploration buffers, copied to the CPU."""
        return {name: getattr(self, name).detach().cpu().clone() for name in self.EXPLORATION}

    def load_exploration_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore :meth:`exploration_state`."""
        for name in self.EXPLORATION:
            getattr(self, name).copy_(state[name])

    def load_policy_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore the actor and the observation normalizer from :func:`policy_state` (every entry, every shape)."""
        for module in POLICY_MODULES:
            prefix = f"{module}."
            own = {name.removeprefix(prefix): value for name, value in state.items() if name.startswith(prefix)}
            getattr(self, module).load_state_dict(own)

    def load_training_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`training_state`."""
        self.load_state_dict(state["modules"])
        for name, opt in self.optimizers().items():
            opt.load_state_dict(state["optimizers"][name])
        self.updates = int(state["updates"])
