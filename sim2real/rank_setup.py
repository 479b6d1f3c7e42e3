"""Joining a ``torchrun`` job for training: the rank's devices, its process group and its stop signal."""

from __future__ import annotations

import os
import signal
from types import FrameType

import jax
import torch

from policies.distributed import Launch, LaunchError, Ranks, TorchRanks, launch_from_environment
from policies.train_config import TrainConfig
from policies.trainer import resolve_device
from sim2real_runtime.errors import ConfigError


class RankStoppedError(RuntimeError):
    """The rank got SIGTERM: torchrun stops every rank when one of them fails."""


def check_launch(distributed: bool) -> Launch | None:
    """The torchrun launch ``--distributed`` trains under; one-line errors for a flag and launch that disagree."""
    try:
        launch = launch_from_environment()
    except LaunchError as exc:
        raise ConfigError.single("--distributed", "environment", str(exc)) from None
    if distributed and launch is None:
        raise ConfigError.single(
            "--distributed",
            "-",
            "needs a torchrun launch: torchrun --nproc-per-node N -m sim2real train ... --distributed",
        )
    if not distributed and launch is not None and launch.world_size > 1:
        raise ConfigError.single(
            "--distributed",
            "-",
            f"torchrun started {launch.world_size} processes but --distributed is not given; add it, "
            "or run one process without torchrun",
        )
    if launch is not None and launch.world_size > 1:
        # Ranks that share a GPU must not each grab most of its memory when JAX starts.
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    return launch if distributed else None


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    del frame
    raise RankStoppedError(f"stopped by {signal.Signals(signum).name} (torchrun stops every rank when one fails)")


def join_ranks(config: TrainConfig, launch: Launch) -> tuple[Ranks, torch.device]:
    """Put the rank on its device (torch and JAX), join the process group; SIGTERM then raises RankStoppedError."""
    device = resolve_device(config, launch.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
        if jax.default_backend() == "gpu":
            jax.config.update("jax_default_device", jax.devices("gpu")[device.index])
    ranks = TorchRanks(launch, device, config.distributed.timeout_s)
    signal.signal(signal.SIGTERM, _raise_stopped)
    return ranks, device
