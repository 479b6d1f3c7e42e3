"""A device-resident replay buffer laid out ``(num_envs, capacity, dim)`` with n-step sampling.

Each env writes one transition per step into its own row, so a row is that env's history in time order
(a ring of ``capacity`` steps). Episode ends are stored as two flags: ``terminated`` (a true end: no
bootstrap) and ``truncated`` (a time-out: bootstrap from the stored pre-reset observation). An n-step
sample starting at ``t`` sums rewards up to the first end within ``t .. t+n-1`` and bootstraps from the
next observation of the step it stopped at, unless that step terminated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Batch:
    """Sampled n-step transitions (leading dimension: batch)."""

    obs: torch.Tensor
    """Actor observation at the start."""
    critic_obs: torch.Tensor
    """Critic observation at the start."""
    action: torch.Tensor
    """Action taken at the start."""
    reward: torch.Tensor
    """Discounted reward sum over the (possibly shortened) n steps."""
    next_obs: torch.Tensor
    """Actor observation after the last summed step (pre-reset at an episode end)."""
    next_critic_obs: torch.Tensor
    """Critic observation after the last summed step."""
    bootstrap: torch.Tensor
    """``gamma ** steps_summed`` where the last summed step did not terminate, else 0."""


_FIELDS = ("obs", "critic_obs", "action", "next_obs", "next_critic_obs", "reward", "terminated", "truncated")


class ReplayBuffer:
    """Fixed-size per-env ring buffers on one device."""

    def __init__(
        self,
        num_envs: int,
        capacity: int,
        obs_size: int,
        critic_obs_size: int,
        action_size: int,
        n_step: int,
        gamma: float,
        device: torch.device | str,
    ) -> None:
        if capacity < n_step:
            raise ValueError(f"capacity {capacity} is shorter than n_step {n_step}")
        self.num_envs, self.capacity, self.n_step, self.gamma = num_envs, capacity, n_step, gamma
        self.device = torch.device(device)
        sizes = {
            "obs": obs_size,
            "critic_obs": critic_obs_size,
            "action": action_size,
            "next_obs": obs_size,
            "next_critic_obs": critic_obs_size,
        }
        self.data: dict[str, torch.Tensor] = {
            name: torch.zeros(num_envs, capacity, size, device=self.device) for name, size in sizes.items()
        }
        for name in ("reward", "terminated", "truncated"):
            self.data[name] = torch.zeros(num_envs, capacity, device=self.device)
        self.writes = 0
        self._discounts = gamma ** torch.arange(n_step, device=self.device, dtype=torch.float32)

    @property
    def size(self) -> int:
        """Steps held per env."""
        return min(self.writes, self.capacity)

    def add(self, **transition: torch.Tensor) -> None:
        """Write one step for every env: each field in ``_FIELDS``, leading dimension ``num_envs``."""
        column = self.writes % self.capacity
        for name in _FIELDS:
            target = self.data[name][:, column]
            target.copy_(transition[name].reshape(target.shape))
        self.writes += 1

    def can_sample(self) -> bool:
        """Whether at least one full n-step window is stored."""
        return self.size >= self.n_step

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """Draw ``batch_size`` n-step transitions uniformly over envs and stored start times."""
        starts = self.size - self.n_step + 1
        env = torch.randint(0, self.num_envs, (batch_size,), device=self.device, generator=generator)
        start = torch.randint(0, starts, (batch_size,), device=self.device, generator=generator)
        oldest = self.writes % self.capacity if self.writes > self.capacity else 0
        offsets = torch.arange(self.n_step, device=self.device)
        times = (oldest + start.unsqueeze(1) + offsets) % self.capacity
        rows = env.unsqueeze(1).expand_as(times)

        reward = self.data["reward"][rows, times]
        terminated = self.data["terminated"][rows, times]
        ended = torch.maximum(terminated, self.data["truncated"][rows, times])
        still_running = torch.cumprod(1.0 - ended, dim=1)
        counted = torch.cat([torch.ones_like(still_running[:, :1]), still_running[:, :-1]], dim=1)
        n_return = (counted * reward * self._discounts).sum(dim=1)
        ended_or_last = ended.clone()
        ended_or_last[:, -1] = 1.0
        last = ended_or_last.argmax(dim=1)
        last_time = times.gather(1, last.unsqueeze(1)).squeeze(1)
        bootstrap = self.gamma ** (last + 1).float() * (1.0 - terminated.gather(1, last.unsqueeze(1)).squeeze(1))
        first_time = times[:, 0]
        return Batch(
            obs=self.data["obs"][env, first_time],
            critic_obs=self.data["critic_obs"][env, first_time],
            action=self.data["action"][env, first_time],
            reward=n_return,
            next_obs=self.data["next_obs"][env, last_time],
            next_critic_obs=self.data["next_critic_obs"][env, last_time],
            bootstrap=bootstrap,
        )

    def state_dict(self) -> dict[str, object]:
        """Contents and write counter (for exact resumes)."""
        return {"writes": self.writes, **{name: tensor.cpu() for name, tensor in self.data.items()}}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore :meth:`state_dict`; shapes must match this buffer's."""
        for name, tensor in self.data.items():
            saved = state[name]
            if not isinstance(saved, torch.Tensor) or saved.shape != tensor.shape:
                got = tuple(saved.shape) if isinstance(saved, torch.Tensor) else type(saved).__name__
                raise ValueError(f"replay buffer field {name}: saved shape {got}, expected {tuple(tensor.shape)}")
            tensor.copy_(saved)
        self.writes = int(state["writes"])  # type: ignore[arg-type]
