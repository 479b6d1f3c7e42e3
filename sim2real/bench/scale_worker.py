"""One side of ``sim2real bench scale``: time training iterations in one process or on every rank of a torchrun job.

``python -m sim2real.bench.scale_worker --out F --task T --algo A --num-envs N --warmup W --iterations K``
(or the same under ``torchrun``): build the trainer as ``sim2real train`` does, run ``W`` iterations (JIT,
warm-up, first updates), then time ``K`` iterations between two barriers. Rank 0 writes one JSON object to
``F``: env steps/s and updates/s over the whole job.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from policies.distributed import SINGLE
from policies.train_config import resolve_train_config
from policies.trainer import Trainer
from sim.jax_cache import enable_compilation_cache
from sim2real.rank_setup import check_launch, join_ranks


def measure(task: str, algo: str, num_envs: int, warmup: int, iterations: int, seed: int) -> dict[str, float] | None:
    """Time ``iterations`` training iterations after ``warmup``; the job's rates on rank 0, None elsewhere."""
    launch = check_launch(distributed="WORLD_SIZE" in os.environ)
    world_size = 1 if launch is None else launch.world_size
    flags = {
        "num_envs": num_envs,
        "seed": seed,
        "total_steps": 10**12,
        "eval_every": 10**12,
        "checkpoint_every": 10**12,
        "distributed": {"world_size": world_size},
    }
    config = resolve_train_config(task, algo, flags=flags)
    ranks, device = (SINGLE, None) if launch is None else join_ranks(config, launch)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), progress=False, ranks=ranks, device=device)
        for _ in range(max(warmup, config.learner.learning_starts + 1)):
            trainer.train_iteration()
        ranks.barrier()
        updates, started = trainer.agent.updates, time.perf_counter()
        for _ in range(iterations):
            trainer.train_iteration()
        ranks.barrier()
        seconds = time.perf_counter() - started
        updates = trainer.agent.updates - updates
    ranks.close()
    if not ranks.is_main:
        return None
    return {
        "ranks": world_size,
        "seconds": seconds,
        "env_steps_per_s": iterations * config.scaling.total_envs / seconds,
        "updates_per_s": updates / seconds,
        "samples_per_s": updates * config.scaling.effective_batch / seconds,
    }


def main() -> None:
    """Parse the flags, measure, and write rank 0's result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--algo", required=True)
    parser.add_argument("--num-envs", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    enable_compilation_cache()
    result = measure(args.task, args.algo, args.num_envs, args.warmup, args.iterations, args.seed)
    if result is not None:
        args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
