"""``sim2real plot``: learning curves of one or more runs, read from their TensorBoard event files.

One PNG, one panel per quantity in a grid: returns, the goal's quantities (eval tracking -- the tracking metric
the run's task declares -- and eval episode length, whose shortfall from the time limit is falls), training
episode length,
every ``loss/*`` tag the learner logged and env steps per second. Runs overlay with one colour each;
panels no run has data for are left out (Brax baselines log only the eval tags).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import EngFormatter
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import read_yaml_mapping
from tasks.registry import get_task

EVAL_TAG, SECONDS_TAG, TRAIN_TAG = "eval/return_mean", "eval/seconds", "train/episode_return"
LENGTH_TAG, RATE_TAG, LOSS_PREFIX = "train/episode_length", "perf/env_steps_per_s", "loss/"
TRACKING, EVAL_LENGTH_TAG = "tracking", "eval/episode_length"
COLUMNS, PANEL_INCHES, DPI = 3, (5.0, 4.0), 110
CONFIG_NAME = "config.yaml"
"""The run's recipe, which names its task (our runs and Brax baselines alike)."""

Scalars = dict[str, list[tuple[int, float]]]
"""Tag -> ``(step, value)`` pairs sorted by step, as :func:`read_run` returns them (plus :data:`TRACKING`)."""
Points = list[tuple[float, float]]


@dataclass(frozen=True)
class Series:
    """One line of a panel: a tag against env steps, or against the eval wall-clock seconds."""

    tag: str
    """The TensorBoard scalar tag drawn, or :data:`TRACKING` for the run's tracking metric."""
    label: str = ""
    """Appended to the run's name in the legend."""
    style: dict[str, Any] = field(default_factory=dict)
    """Matplotlib line keywords (marker, alpha)."""
    by_time: bool = False
    """Plot against the eval wall-clock seconds instead of env steps."""


@dataclass(frozen=True)
class Panel:
    """One subplot: its labels, its series, and whether positive values spanning decades get a log y-axis."""

    title: str
    """Panel title (also what :class:`CurvesPlot` lists)."""
    xlabel: str
    """X-axis label."""
    ylabel: str
    """Y-axis label."""
    series: tuple[Series, ...]
    """Lines drawn per run."""
    log_when_positive: bool = False
    """Use a log y-axis when every value is positive and they span a factor of ten."""


@dataclass(frozen=True)
class CurvesPlot:
    """What :func:`plot_runs` wrote: the PNG and the titles of the panels drawn, in grid order."""

    out: Path
    """The PNG written."""
    panels: tuple[str, ...]
    """Titles of the panels drawn, in grid order."""


Line = tuple[str, str, Series, Points]
"""A line to draw: legend label, colour, the series it shows, its ``(x, y)`` points."""

EPISODE_PANELS = (
    Panel(
        "Return vs env steps",
        "env steps",
        "episode return",
        (Series(EVAL_TAG, " eval", {"marker": "o"}), Series(TRAIN_TAG, " train", {"alpha": 0.35})),
    ),
    Panel(
        "Eval return vs time",
        "wall-clock seconds",
        "eval return",
        (Series(EVAL_TAG, "", {"marker": "o"}, by_time=True),),
    ),
    Panel("Eval tracking vs env steps", "env steps", "tracking reward per step", (Series(TRACKING),)),
    Panel("Eval episode length", "env steps", "steps", (Series(EVAL_LENGTH_TAG, "", {"marker": "o"}),)),
    Panel("Training episode length", "env steps", "steps", (Series(LENGTH_TAG),)),
)
RATE_PANEL = Panel("Env steps per second", "env steps", "env steps / s", (Series(RATE_TAG),))


def _event_files(run_dir: Path) -> list[EventAccumulator]:
    """Every event file in ``run_dir``, loaded with all its scalars, in file-name order."""
    accumulators = []
    for events in sorted(run_dir.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
        accumulator.Reload()
        accumulators.append(accumulator)
    return accumulators


def read_run(run_dir: Path) -> Scalars:
    """Every scalar tag of ``run_dir`` with its ``(step, value)`` pairs over all its event files.

    A resumed run repeats the steps between its last checkpoint and the interruption; the value written
    last (by wall time) wins for each step.
    """
    latest: dict[str, dict[int, tuple[float, float]]] = {}
    for accumulator in _event_files(run_dir):
        for tag in accumulator.Tags().get("scalars", []):
            by_step = latest.setdefault(tag, {})
            for event in accumulator.Scalars(tag):
                if event.step not in by_step or event.wall_time >= by_step[event.step][0]:
                    by_step[event.step] = (event.wall_time, event.value)
    return {tag: sorted((step, value) for step, (_, value) in by_step.items()) for tag, by_step in latest.items()}


def read_scalars(run_dir: Path, tag: str) -> list[tuple[int, float]]:
    """``(step, value)`` pairs of ``tag`` over every event file in ``run_dir`` (see :func:`read_run`)."""
    return read_run(run_dir).get(tag, [])


def _load(run_dir: Path) -> Scalars:
    """The scalars of one run; a one-line ConfigError for a missing folder or a run never evaluated.

    The tag of the tracking metric its task declares is also under :data:`TRACKING`.
    """
    if not run_dir.is_dir():
        raise ConfigError.single(run_dir, "-", "no such run folder; pass folders written by sim2real train")
    scalars = read_run(run_dir)
    if not scalars.get(EVAL_TAG):
        message = f"no '{EVAL_TAG}' in its TensorBoard files; train it past an evaluation"
        raise ConfigError.single(run_dir, "-", message)
    metric = _tracking_metric(run_dir)
    if metric is not None:
        scalars[TRACKING] = scalars.get(f"eval_terms/{metric}", [])
    return scalars


def _tracking_metric(run_dir: Path) -> str | None:
    """The tracking metric of the task named in the run's ``config.yaml``; None without a readable registered one."""
    try:
        task = read_yaml_mapping(run_dir / CONFIG_NAME).get("task")
        return get_task(task).goal.tracking_metric if isinstance(task, str) else None
    except ConfigError:
        return None


def _loss_panel(tag: str) -> Panel:
    """One panel for one ``loss/*`` tag, log-scaled when the loss stays positive across decades."""
    name = tag.removeprefix(LOSS_PREFIX)
    return Panel(f"Loss: {name}", "env steps", "loss", (Series(tag),), log_when_positive=True)


def _panels(runs: dict[Path, Scalars]) -> list[Panel]:
    """The panels to consider: returns, goal quantities, episode lengths, each loss any run logged, throughput."""
    losses = sorted({tag for scalars in runs.values() for tag in scalars if tag.startswith(LOSS_PREFIX)})
    return [*EPISODE_PANELS, *map(_loss_panel, losses), RATE_PANEL]


def _points(series: Series, scalars: Scalars) -> Points:
    """``(x, y)`` of one series in one run; by time, only the steps that also logged eval seconds."""
    pairs = scalars.get(series.tag, [])
    if not series.by_time:
        return pairs
    seconds = dict(scalars.get(SECONDS_TAG, []))
    return [(seconds[step], value) for step, value in pairs if step in seconds]


def _lines(panel: Panel, runs: dict[Path, Scalars]) -> list[Line]:
    """``(label, colour, series, points)`` of every non-empty line in ``panel``; colour ``C<i>`` per run."""
    lines = []
    for index, (run_dir, scalars) in enumerate(runs.items()):
        for series in panel.series:
            points = _points(series, scalars)
            if points:
                lines.append((f"{run_dir.name}{series.label}", f"C{index % 10}", series, points))
    return lines


def _spans_decades(lines: list[Line]) -> bool:
    """Whether every value is positive and the largest is at least ten times the smallest."""
    values = [value for *_, points in lines for _, value in points]
    return min(values) > 0 and max(values) >= 10 * min(values)


def _draw(axes: Axes, panel: Panel, lines: list[Line]) -> None:
    """Draw ``lines`` into ``axes`` with the panel's labels, grid and legend."""
    for label, colour, series, points in lines:
        axes.plot(*zip(*points, strict=True), color=colour, label=label, **series.style)
    axes.set(xlabel=panel.xlabel, ylabel=panel.ylabel, title=panel.title)
    axes.xaxis.set_major_formatter(EngFormatter(sep=""))  # 400k, not 400000 (long labels overlap)
    if panel.log_when_positive and _spans_decades(lines):
        axes.set_yscale("log")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)


def plot_runs(run_dirs: list[Path], out: Path) -> CurvesPlot:
    """Learning curves of ``run_dirs`` overlaid in one PNG grid, a panel per quantity some run logged."""
    runs = {run_dir: _load(run_dir) for run_dir in run_dirs}
    drawn = [(panel, lines) for panel in _panels(runs) if (lines := _lines(panel, runs))]
    columns = min(COLUMNS, len(drawn))
    rows = math.ceil(len(drawn) / columns)
    figure, grid = plt.subplots(
        rows, columns, figsize=(PANEL_INCHES[0] * columns, PANEL_INCHES[1] * rows), squeeze=False
    )
    cells = list(grid.flat)
    for axes, (panel, lines) in zip(cells, drawn, strict=False):
        _draw(axes, panel, lines)
    for axes in cells[len(drawn) :]:
        axes.remove()
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=DPI)
    plt.close(figure)
    return CurvesPlot(out, tuple(panel.title for panel, _ in drawn))
