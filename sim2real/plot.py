"""``sim2real plot``: learning curves of one or more runs, read from their TensorBoard event files."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sim.errors import ConfigError

EVAL_TAG, SECONDS_TAG, TRAIN_TAG = "eval/return_mean", "eval/seconds", "train/episode_return"


def read_scalars(run_dir: Path, tag: str) -> list[tuple[int, float]]:
    """``(step, value)`` pairs of ``tag`` over every event file in ``run_dir``.

    A resumed run repeats the steps between its last checkpoint and the interruption; the value written
    last (by wall time) wins for each step.
    """
    latest: dict[int, tuple[float, float]] = {}
    for events in sorted(run_dir.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
        accumulator.Reload()
        if tag not in accumulator.Tags().get("scalars", []):
            continue
        for event in accumulator.Scalars(tag):
            if event.step not in latest or event.wall_time >= latest[event.step][0]:
                latest[event.step] = (event.wall_time, event.value)
    return sorted((step, value) for step, (_, value) in latest.items())


def plot_runs(run_dirs: list[Path], out: Path) -> Path:
    """Eval return against env steps and against wall-clock seconds (plus training return) as a PNG."""
    curves = {}
    for run_dir in run_dirs:
        if not run_dir.is_dir():
            raise ConfigError.single(run_dir, "-", "no such run folder; pass folders written by sim2real train")
        evals = read_scalars(run_dir, EVAL_TAG)
        if not evals:
            message = f"no '{EVAL_TAG}' in its TensorBoard files; train it past an evaluation"
            raise ConfigError.single(run_dir, "-", message)
        curves[run_dir] = (evals, dict(read_scalars(run_dir, SECONDS_TAG)), read_scalars(run_dir, TRAIN_TAG))
    figure, (by_steps, by_time) = plt.subplots(1, 2, figsize=(12, 4.5))
    for run_dir, (evals, seconds, train) in curves.items():
        steps, values = zip(*evals, strict=True)
        (line,) = by_steps.plot(steps, values, marker="o", label=f"{run_dir.name} eval")
        if train:
            by_steps.plot(*zip(*train, strict=True), color=line.get_color(), alpha=0.35, label=f"{run_dir.name} train")
        timed = [(seconds[s], v) for s, v in evals if s in seconds]
        if timed:
            by_time.plot(*zip(*timed, strict=True), marker="o", color=line.get_color(), label=run_dir.name)
    by_steps.set(xlabel="env steps", ylabel="episode return", title="Return vs env steps")
    by_time.set(xlabel="wall-clock seconds", ylabel="eval return", title="Eval return vs time")
    for axes in (by_steps, by_time):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
