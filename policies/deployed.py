"""The deployable form of a policy: raw observation in, bounded action out, nothing left to train.

What ``sim2real export`` turns into ONNX and what ``sim2real eval`` and torch rollouts play, so every
consumer runs the same module: the frozen observation normalization, then a float32 copy of the actor
whose last op is ``bound * tanh``.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from policies.networks import BoundedActor


class DeployedPolicy(nn.Module):
    """``actor(normalize(obs))`` on the CPU in float32, in eval mode, with no parameter requiring gradients."""

    def __init__(self, normalize: nn.Module, actor: BoundedActor) -> None:
        super().__init__()
        self.normalize = normalize.float().cpu()
        self.actor = copy.deepcopy(actor).float().cpu()
        self.requires_grad_(False)
        self.eval()

    @property
    def bound(self) -> torch.Tensor:
        """Per-entry action bound: every action lies in ``[-bound, bound]``."""
        return self.actor.bound

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The action for a batch of raw observations."""
        return self.actor(self.normalize(obs))
