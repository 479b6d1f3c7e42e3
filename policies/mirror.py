"""Left/right mirror augmentation: each sampled batch is doubled with its mirror image.

A mirror map says, for the actor observation, the critic observation and the action, which entry each
entry comes from and with what sign: ``mirrored[i] = sign[i] * x[index[i]]``. Mirroring twice is the
identity. Tasks whose robot is symmetric declare the map; the learners use it when configured to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from policies.replay import Batch


@dataclass(frozen=True)
class SignedPermutation:
    """``y[i] = sign[i] * x[..., index[i]]``."""

    index: torch.Tensor
    """Source entry of each output entry."""
    sign: torch.Tensor
    """+1 or -1 per output entry."""

    @classmethod
    def from_numpy(cls, index: np.ndarray, sign: np.ndarray, device: torch.device | str) -> SignedPermutation:
        """Build from integer and sign arrays; refuses maps that are not involutions."""
        index_t = torch.as_tensor(np.asarray(index), dtype=torch.long, device=device)
        sign_t = torch.as_tensor(np.asarray(sign), dtype=torch.float32, device=device)
        if not torch.equal(index_t[index_t], torch.arange(len(index_t), device=device)):
            raise ValueError("a mirror map must be its own inverse (index[index[i]] == i)")
        if not torch.equal(sign_t * sign_t[index_t], torch.ones_like(sign_t)):
            raise ValueError("a mirror map's signs must agree between paired entries")
        return cls(index_t, sign_t)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Mirror ``x`` along its last dimension."""
        return x[..., self.index] * self.sign


@dataclass(frozen=True)
class MirrorMap:
    """Mirror images of the actor observation, the critic observation and the action."""

    obs: SignedPermutation
    """Actor observation map."""
    critic_obs: SignedPermutation
    """Critic observation map."""
    action: SignedPermutation
    """Action map."""

    def augment(self, batch: Batch) -> Batch:
        """The batch followed by its mirror image (twice the rows)."""
        return Batch(
            obs=torch.cat([batch.obs, self.obs(batch.obs)]),
            critic_obs=torch.cat([batch.critic_obs, self.critic_obs(batch.critic_obs)]),
            action=torch.cat([batch.action, self.action(batch.action)]),
            reward=batch.reward.repeat(2),
            next_obs=torch.cat([batch.next_obs, self.obs(batch.next_obs)]),
            next_critic_obs=torch.cat([batch.next_critic_obs, self.critic_obs(batch.next_critic_obs)]),
            bootstrap=batch.bootstrap.repeat(2),
        )
