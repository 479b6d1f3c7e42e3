"""Run by torchrun in ``test_distributed``: ``sim2real train --distributed`` with a check after every update.

Usage: ``torchrun ... rank_check_worker.py OUT_DIR TRAIN_FLAGS...``. After each agent update every rank
all-gathers a digest of the agent's shared tensors (weights, target critics, normalizer statistics,
temperature) and of the batch it just learned from; each rank writes ``OUT_DIR/rank<r>.json`` with what it saw.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from policies.fast_sac import FastSAC
from policies.fast_td3 import FastTD3
from sim2real.cli import main

seen = {"updates": 0, "weights_differ": 0, "batches_equal": 0, "shared_names": []}


def digest(tensors: list[torch.Tensor]) -> str:
    """SHA-256 over the tensors' bytes."""
    hasher = hashlib.sha256()
    for tensor in tensors:
        hasher.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return hasher.hexdigest()


def checked(update):
    """Wrap an agent class's ``update`` with the cross-rank comparison."""

    def wrapper(self, batch):
        losses = update(self, batch)
        state = self.state_dict()
        shared = [name for name in state if name not in self.EXPLORATION]
        seen["shared_names"] = shared
        pair = (digest([state[name] for name in shared]), digest([batch.obs, batch.action]))
        gathered = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, pair)
        seen["updates"] += 1
        seen["weights_differ"] += len({weights for weights, _ in gathered}) != 1
        seen["batches_equal"] += len({batch for _, batch in gathered}) != len(gathered)
        return losses

    return wrapper


FastTD3.update = checked(FastTD3.update)
FastSAC.update = checked(FastSAC.update)
out = Path(sys.argv[1])
code = main(sys.argv[2:])
(out / f"rank{os.environ['RANK']}.json").write_text(json.dumps({**seen, "exit_code": code}))
sys.exit(code)
