"""Training on several ranks with torch.distributed (launched by ``torchrun``), and the one-rank case.

Every training component talks to its peers through a :class:`Ranks` object. :data:`SINGLE` is the
one-process run: every collective is the identity and nothing is communicated. :class:`TorchRanks`
joins the process group ``torchrun`` describes in the environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``):

- gradients are averaged over the training group (NCCL on GPUs, gloo on CPU), so every rank applies
  the same optimizer step to the same weights;
- control traffic (stop decisions, health flags, checkpoint shards) goes over a gloo group, whatever
  the device;
- a peer that dies or stops answering within the timeout turns into :class:`PeerLostError` on every
  surviving rank, naming what happened.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
"""The environment ``torchrun`` gives every process it starts."""


class PeerLostError(RuntimeError):
    """Another rank stopped (killed, crashed or silent past the timeout); this rank cannot go on."""


class LaunchError(RuntimeError):
    """The process was started in a way the requested run cannot use (the message says how to launch)."""


@dataclass(frozen=True)
class Launch:
    """Where this process sits in a ``torchrun`` launch."""

    rank: int
    """Global rank (0 writes checkpoints, logs and videos)."""
    world_size: int
    """Processes in the job, over every node."""
    local_rank: int
    """Rank on this node (picks the GPU)."""


def launch_from_environment(environ: dict[str, str] | None = None) -> Launch | None:
    """The ``torchrun`` launch this process belongs to, or None when it was started on its own."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env:
        return None
    missing = [name for name in LAUNCH_VARIABLES if name not in env]
    if missing:
        raise LaunchError(f"WORLD_SIZE is set but {', '.join(missing)} are not; start the job with torchrun")
    try:
        launch = Launch(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env["LOCAL_RANK"]))
    except ValueError:
        raise LaunchError("RANK, WORLD_SIZE and LOCAL_RANK must be integers; start the job with torchrun") from None
    if not 0 <= launch.rank < launch.world_size:
        raise LaunchError(f"RANK {launch.rank} is outside WORLD_SIZE {launch.world_size}; start the job with torchrun")
    return launch


class Ranks:
    """The one-process run: collectives are identities. :class:`TorchRanks` overrides every method."""

    rank = 0
    """This process's rank."""
    world_size = 1
    """Ranks in the run."""

    @property
    def is_main(self) -> bool:
        """True on the rank that writes checkpoints, logs and videos."""
        return self.rank == 0

    def average_gradients(self, params: list[torch.nn.Parameter]) -> None:
        """Replace every gradient by its mean over the ranks (in place)."""
        del params

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over the ranks (in place; returned for chaining)."""
        return tensor

    def all_true(self, flag: bool) -> bool:
        """True when ``flag`` is true on every rank."""
        return flag

    def broadcast_from_main(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (picklable values)."""
        return value

    def gather_to_main(self, value: Any) -> list[Any] | None:
        """Every rank's ``value`` in rank order on rank 0; None elsewhere."""
        return [value]

    def broadcast_(self, tensors: list[torch.Tensor]) -> None:
        """Copy rank 0's ``tensors`` into every rank's (in place)."""
        del tensors

    def barrier(self) -> None:
        """Wait until every rank gets here."""

    def close(self) -> None:
        """Leave the process group."""


SINGLE = Ranks()
"""The one-process run."""


class TorchRanks(Ranks):
    """A rank of a ``torchrun`` job: the process group it joined and its gloo control group."""

    def __init__(self, launch: Launch, device: torch.device, timeout_s: float) -> None:
        self.rank = launch.rank
        self.world_size = launch.world_size
        self.device = device
        backend = "nccl" if device.type == "cuda" else "gloo"
        timeout = datetime.timedelta(seconds=timeout_s)
        kwargs: dict[str, Any] = {"device_id": device} if device.type == "cuda" else {}
        dist.init_process_group(backend, rank=launch.rank, world_size=launch.world_size, timeout=timeout, **kwargs)
        self.control = dist.new_group(backend="gloo", timeout=timeout) if backend != "gloo" else dist.group.WORLD

    @contextlib.contextmanager
    def _collective(self) -> Iterator[None]:
        """Turn a failed collective (a peer dead, or silent past the timeout) into :class:`PeerLostError`."""
        try:
            yield
        except (RuntimeError, dist.DistError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PeerLostError(f"lost contact with another rank ({detail[:160]})") from None

    def average_gradients(self, params: list[torch.nn.Parameter]) -> None:
        """All-reduce the gradients as one flat buffer and divide by the world size.

        Parameters without a gradient are left alone, as the optimizer skips them; the graph is the same
        on every rank, so every rank leaves out the same ones.
        """
        params = [p for p in params if p.grad is not None]
        grads = [p.grad for p in params]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        with self._collective():
            dist.all_reduce(flat)
        flat.div_(self.world_size)
        offset = 0
        for param, grad in zip(params, grads, strict=True):
            size = grad.numel()
            param.grad = flat[offset : offset + size].view_as(param).to(param.dtype)
            offset += size

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """All-reduce (sum) over the training group."""
        with self._collective():
            dist.all_reduce(tensor)
        return tensor

    def all_true(self, flag: bool) -> bool:
        """A MIN all-reduce of one integer over the control group."""
        value = torch.tensor([1 if flag else 0], dtype=torch.int32)
        with self._collective():
            dist.all_reduce(value, op=dist.ReduceOp.MIN, group=self.control)
        return bool(value.item())

    def broadcast_from_main(self, value: Any) -> Any:
        """``broadcast_object_list`` over the control group."""
        holder = [value]
        with self._collective():
            dist.broadcast_object_list(holder, src=0, group=self.control)
        return holder[0]

    def gather_to_main(self, value: Any) -> list[Any] | None:
        """``gather_object`` to rank 0 over the control group (tensors travel pickled; keep them on the CPU)."""
        gathered: list[Any] | None = [None] * self.world_size if self.is_main else None
        with self._collective():
            dist.gather_object(value, gathered, dst=0, group=self.control)
        return gathered

    def broadcast_(self, tensors: list[torch.Tensor]) -> None:
        """Broadcast each tensor from rank 0 over the training group."""
        with self._collective():
            for tensor in tensors:
                dist.broadcast(tensor.data, src=0)

    def barrier(self) -> None:
        """A barrier on the control group."""
        with self._collective():
            dist.barrier(group=self.control)

    def close(self) -> None:
        """Destroy the process group (after a failure, only this rank's side of it)."""
        if dist.is_initialized():
            dist.destroy_process_group()
