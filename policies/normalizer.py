"""Running observation normalization: streamed mean and variance, applied as ``(x - mean) / std``."""

from __future__ import annotations

import torch
from torch import nn

from policies.distributed import SINGLE, Ranks


class RunningNormalizer(nn.Module):
    """Per-feature running mean and (population) variance, merged batch by batch (Chan et al.).

    Statistics are kept in float64 so long runs do not drift; :meth:`forward` returns the input's dtype.
    """

    def __init__(self, size: int, eps: float = 1e-8, clip: float = 10.0) -> None:
        super().__init__()
        self.eps = eps
        self.clip = clip
        self.register_buffer("mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("var", torch.ones(size, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: torch.Tensor, ranks: Ranks = SINGLE) -> None:
        """Fold a batch ``(..., size)`` into the statistics; under several ranks, every rank's batch at once.

        Ranks pool their batches' count, sum and sum of squares, so every rank folds in the same numbers
        and the statistics stay identical everywhere.
        """
        batch = x.reshape(-1, x.shape[-1]).to(torch.float64)
        if ranks.world_size == 1:
            n = float(batch.shape[0])
            if n == 0:
                return
            batch_mean = batch.mean(dim=0)
            batch_var = batch.var(dim=0, unbiased=False)
        else:
            count = torch.full((1,), float(batch.shape[0]), dtype=torch.float64, device=batch.device)
            pooled = ranks.sum_(torch.cat([count, batch.sum(dim=0), batch.square().sum(dim=0)]))
            n = float(pooled[0])
            if n == 0:
                return
            size = batch.shape[-1]
            batch_mean = pooled[1 : 1 + size] / n
            batch_var = (pooled[1 + size :] / n - batch_mean.square()).clamp_min(0.0)
        total = self.count + n
        delta = batch_mean - self.mean
        m2 = self.var * self.count + batch_var * n + delta.square() * self.count * n / total
        self.mean.add_(delta * n / total)
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x`` with the current statistics (identity scale before any update), clipped."""
        std = (self.var + self.eps).sqrt()
        normalized = (x - self.mean.to(x.dtype)) / std.to(x.dtype)
        return normalized.clamp(-self.clip, self.clip)

    def frozen(self) -> FrozenNormalizer:
        """What :meth:`forward` computes now, as float32 constants (the deployed policy's normalization)."""
        return FrozenNormalizer(self.mean, (self.var + self.eps).sqrt(), self.clip)


class FrozenNormalizer(nn.Module):
    """``clamp((x - mean) / std, -clip, clip)`` with fixed float32 statistics."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, clip: float) -> None:
        super().__init__()
        self.clip = clip
        self.register_buffer("mean", mean.detach().float().cpu().clone())
        self.register_buffer("std", std.detach().float().cpu().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x``, clipped."""
        return ((x - self.mean) / self.std).clamp(-self.clip, self.clip)
