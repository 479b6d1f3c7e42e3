"""The actors and the distributional critics, as plain torch modules.

Every network is an MLP whose hidden layers may each be followed by LayerNorm (FastSAC) or not (FastTD3).
Actions live in ``[-bound, bound]`` per entry: ``bound`` is 1 for every joint unless the joint-limit-aware
bounds are used (see :func:`policies.action_bounds.joint_limit_bounds`).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

Activation = Literal["relu", "silu", "elu"]
"""Hidden-layer activation names."""

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "silu": nn.SiLU, "elu": nn.ELU}


def mlp_trunk(in_size: int, hidden: tuple[int, ...], activation: Activation, layer_norm: bool) -> nn.Sequential:
    """Hidden layers only: ``Linear -> [LayerNorm] -> activation`` for each width in ``hidden``."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers.append(nn.Linear(in_size, width))
        if layer_norm:
            layers.append(nn.LayerNorm(width))
        layers.append(_ACTIVATIONS[activation]())
        in_size = width
    return nn.Sequential(*layers)


class BoundedActor(nn.Module):
    """An MLP trunk and per-entry action bounds; subclasses add the heads."""

    def __init__(
        self, obs_size: int, bound: torch.Tensor, hidden: tuple[int, ...], activation: Activation, layer_norm: bool
    ) -> None:
        super().__init__()
        self.trunk = mlp_trunk(obs_size, hidden, activation, layer_norm)
        self.register_buffer("bound", bound.clone().float())


class DeterministicActor(BoundedActor):
    """FastTD3's actor: ``bound * tanh(MLP(obs))``, last layer drawn from ``N(0, init_std)``."""

    def __init__(
        self,
        obs_size: int,
        bound: torch.Tensor,
        hidden: tuple[int, ...],
        activation: Activation,
        layer_norm: bool,
        init_std: float = 0.01,
    ) -> None:
        super().__init__(obs_size, bound, hidden, activation, layer_norm)
        self.head = nn.Linear(hidden[-1], bound.shape[0])
        nn.init.normal_(self.head.weight, 0.0, init_std)
        nn.init.zeros_(self.head.bias)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The noise-free action."""
        return self.bound * torch.tanh(self.head(self.trunk(obs)))


def squashed_log_prob(pre_tanh: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Log-density of ``tanh(u)`` for ``u ~ N(mean, exp(log_std)^2)``, summed over action entries.

    Uses ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))``, which stays finite where tanh saturates.
    The density is of the squashed action in the unit box (before the per-joint bound), so an entropy
    target means the same on every robot.
    """
    gaussian = -0.5 * ((pre_tanh - mean) / log_std.exp()).square() - log_std - 0.5 * math.log(2 * math.pi)
    log_det = 2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))
    return (gaussian - log_det).sum(dim=-1)


class GaussianActor(BoundedActor):
    """FastSAC's actor: a tanh-squashed Gaussian; log-std squashed into ``[log_std_min, log_std_max]``.

    The mean and log-std heads start at zero (mean action 0, std ``exp(midpoint)``).
    """

    def __init__(
        self,
        obs_size: int,
        bound: torch.Tensor,
        hidden: tuple[int, ...],
        activation: Activation,
        layer_norm: bool,
        log_std_range: tuple[float, float] = (-5.0, 0.0),
    ) -> None:
        super().__init__(obs_size, bound, hidden, activation, layer_norm)
        act_size = bound.shape[0]
        self.mean_head = nn.Linear(hidden[-1], act_size)
        self.log_std_head = nn.Linear(hidden[-1], act_size)
        for head in (self.mean_head, self.log_std_head):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
        self.log_std_min, self.log_std_max = log_std_range

    def distribution(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The Gaussian's ``(mean, log_std)`` before squashing."""
        features = self.trunk(obs)
        squash = torch.tanh(self.log_std_head(features))
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (squash + 1.0)
        return self.mean_head(features), log_std

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterized action sample and its log-probability (see :func:`squashed_log_prob`)."""
        mean, log_std = self.distribution(obs)
        pre_tanh = mean + log_std.exp() * torch.randn_like(mean)
        return self.bound * torch.tanh(pre_tanh), squashed_log_prob(pre_tanh, mean, log_std)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action ``bound * tanh(mean)`` (evaluation and export)."""
        return self.bound * torch.tanh(self.distribution(obs)[0])


class DistributionalCritics(nn.Module):
    """An ensemble of C51 critics; ``forward`` returns logits ``(num_critics, batch, atoms)``."""

    def __init__(
        self,
        obs_size: int,
        act_size: int,
        hidden: tuple[int, ...],
        num_atoms: int,
        activation: Activation,
        layer_norm: bool,
        num_critics: int = 2,
    ) -> None:
        super().__init__()
        self.critics = nn.ModuleList(
            nn.Sequential(
                mlp_trunk(obs_size + act_size, hidden, activation, layer_norm), nn.Linear(hidden[-1], num_atoms)
            )
            for _ in range(num_critics)
        )

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Logits of every critic's return distribution for ``(obs, action)``."""
        inputs = torch.cat([obs, action], dim=-1)
        return torch.stack([critic(inputs) for critic in self.critics])
