"""``sim2real bench scale``: training throughput on 1 rank against N torch.distributed ranks on this machine.

Each side runs the same task, learner and per-rank env count as ``sim2real train`` would: one plain process
(the run a user starts without torchrun), then ``torchrun --standalone --nproc-per-node N`` with
``--distributed``'s code path (gloo on the CPU, NCCL on GPUs). Each times a fixed number of training
iterations after a warm-up (JIT, first updates), in alternating rounds, best round kept. Every rank steps
its own envs and gradients are averaged, so N ranks take N times the env steps and learn from N times the
batch per update. Scaling efficiency is N ranks' env steps/s over N times one rank's (learned samples/s give
the same ratio, as every iteration runs the same updates): 1.0 is perfect scaling.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

WORKER = "sim2real.bench.scale_worker"


class ScaleBenchError(RuntimeError):
    """A side of the bench failed; the message holds the tail of its output."""


@dataclass(frozen=True)
class ScaleRow:
    """One side's best round."""

    ranks: int
    """Ranks it trained on."""
    env_steps_per_s: float
    """Env steps per second over all ranks."""
    updates_per_s: float
    """Averaged gradient updates per second (every rank applies each one)."""
    samples_per_s: float
    """Replay transitions learned from per second (updates/s times the effective batch)."""


@dataclass(frozen=True)
class ScaleBench:
    """The two sides and how well N ranks scale."""

    task: str
    """Task trained."""
    algo: str
    """Learner."""
    envs_per_rank: int
    """Training envs each rank steps."""
    iterations: int
    """Timed iterations per round."""
    rows: tuple[ScaleRow, ScaleRow]
    """One rank, then N ranks."""

    @property
    def efficiency(self) -> float:
        """N ranks' env steps/s over N times one rank's (the same ratio holds for learned samples/s)."""
        one, many = self.rows
        return many.env_steps_per_s / (many.ranks * one.env_steps_per_s)


def _side(ranks: int, out: Path, flags: list[str]) -> dict[str, float]:
    """Run one side once; its rank 0's measurement."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    if ranks == 1:
        command = [sys.executable, "-m", WORKER]
    else:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={ranks}",
            "-m",
            WORKER,
        ]
    done = subprocess.run([*command, "--out", str(out), *flags], capture_output=True, text=True, env=env)
    if done.returncode != 0 or not out.is_file():
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
        raise ScaleBenchError(f"the {ranks}-rank side failed (exit {done.returncode}): {tail}")
    return json.loads(out.read_text())


def run_scale_bench(
    task: str, algo: str, ranks: int, envs_per_rank: int, warmup: int, iterations: int, rounds: int, seed: int = 0
) -> ScaleBench:
    """Alternate one process and ``ranks`` ranks for ``rounds`` rounds; keep each side's best round."""
    flags = ["--task", task, "--algo", algo, "--num-envs", str(envs_per_rank), "--warmup", str(warmup)]
    flags += ["--iterations", str(iterations), "--seed", str(seed)]
    best: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(rounds):
            for side in (1, ranks):
                result = _side(side, Path(folder) / f"{side}-{round_index}.json", flags)
                if side not in best or result["env_steps_per_s"] > best[side]["env_steps_per_s"]:
                    best[side] = result
    one, many = (
        ScaleRow(side, best[side]["env_steps_per_s"], best[side]["updates_per_s"], best[side]["samples_per_s"])
        for side in (1, ranks)
    )
    return ScaleBench(task, algo, envs_per_rank, iterations, (one, many))


def format_scale_bench(bench: ScaleBench) -> str:
    """A table of both sides and the scaling efficiencies."""
    lines = [
        f"{bench.task} ({bench.algo}), {bench.envs_per_rank} envs per rank, {bench.iterations} timed iterations",
        f"{'ranks':>5} {'env steps/s':>12} {'updates/s':>10} {'samples/s':>11}",
    ]
    for row in bench.rows:
        lines.append(
            f"{row.ranks:>5} {row.env_steps_per_s:>12,.0f} {row.updates_per_s:>10.1f} {row.samples_per_s:>11,.0f}"
        )
    lines.append(f"scaling efficiency at {bench.rows[1].ranks} ranks: {bench.efficiency:.2f} (1.0 = perfect)")
    return "\n".join(lines)


def scale_bench_as_dict(bench: ScaleBench) -> dict[str, Any]:
    """The bench as plain data for ``--json``."""
    return {
        **{k: v for k, v in asdict(bench).items() if k != "rows"},
        "rows": [asdict(row) for row in bench.rows],
        "efficiency": bench.efficiency,
    }
