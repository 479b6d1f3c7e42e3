"""The distributional (C51) critic's maths: a fixed support of atoms, the target projection, the loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812


def make_support(v_min: float, v_max: float, num_atoms: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``num_atoms`` evenly spaced values from ``v_min`` to ``v_max``."""
    return torch.linspace(v_min, v_max, num_atoms, device=device)


def expected_value(probs: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """Mean of categorical distributions ``(..., atoms)`` over ``support``."""
    return (probs * support).sum(dim=-1)


def project_target(
    next_probs: torch.Tensor, reward: torch.Tensor, bootstrap: torch.Tensor, support: torch.Tensor
) -> torch.Tensor:
    """Project ``reward + bootstrap * Z'`` back onto ``support``.

    ``next_probs`` is ``(batch, atoms)``; ``reward`` and ``bootstrap`` are ``(batch,)``, where
    ``bootstrap`` is the discount already multiplied by the not-terminated mask (``gamma**n`` or 0). Each
    shifted atom's mass is split between its two neighbours on the support in proportion to closeness;
    values outside ``[v_min, v_max]`` land on the end atoms.
    """
    num_atoms = support.shape[0]
    v_min, v_max = support[0], support[-1]
    delta = (v_max - v_min) / (num_atoms - 1)
    shifted = (reward.unsqueeze(-1) + bootstrap.unsqueeze(-1) * support).clamp(v_min, v_max)
    position = ((shifted - v_min) / delta).clamp(0, num_atoms - 1)
    lower = position.floor().long()
    upper = position.ceil().long()
    upper_weight = position - lower.to(position.dtype)
    lower_weight = 1.0 - upper_weight
    target = torch.zeros_like(next_probs)
    target.scatter_add_(-1, lower, next_probs * lower_weight)
    target.scatter_add_(-1, upper, next_probs * upper_weight)
    return target


def categorical_loss(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Cross-entropy between target distributions and ``log_softmax(logits)``, averaged over the batch."""
    return -(target_probs * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
