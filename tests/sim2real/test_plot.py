"""``sim2real plot`` on synthetic TensorBoard runs: which panels are drawn, overlays, resumed runs, refusals."""

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread
from torch.utils.tensorboard import SummaryWriter

from sim2real.plot import plot_runs, read_run, read_scalars
from tests.cli_runner import in_process, one_line_error

STEPS = range(0, 1000, 100)
RETURN_PANELS = ("Return vs env steps", "Eval return vs time")
FULL_PANELS = (*RETURN_PANELS, "Training episode length", "Loss: actor", "Loss: critic", "Env steps per second")


def write_scalars(run_dir: Path, curves: dict[str, list[tuple[int, float]]], walltime: float = 1000.0) -> None:
    writer = SummaryWriter(str(run_dir))
    for tag, points in curves.items():
        for step, value in points:
            writer.add_scalar(tag, value, step, walltime=walltime + step)
    writer.close()


def eval_curves(offset: float = 0.0) -> dict[str, list[tuple[int, float]]]:
    return {
        "eval/return_mean": [(s, offset + s / 10) for s in STEPS],
        "eval/seconds": [(s, s / 50) for s in STEPS],
    }


def fasttd3_run(run_dir: Path, offset: float = 0.0) -> Path:
    write_scalars(
        run_dir,
        {
            **eval_curves(offset),
            "train/episode_return": [(s, offset + s / 12) for s in STEPS],
            "train/episode_length": [(s, 10 + s / 20) for s in STEPS],
            "loss/critic": [(s, 1 / (1 + s)) for s in STEPS],
            "loss/actor": [(s, -s / 100) for s in STEPS],
            "perf/env_steps_per_s": [(s, 5000.0 + s) for s in STEPS],
        },
    )
    return run_dir


def has_colour(image: np.ndarray, colour: str) -> bool:
    return bool((np.abs(image[..., :3] - to_rgb(colour)).max(axis=-1) < 0.02).any())


def test_a_fasttd3_run_draws_returns_episode_length_each_loss_and_throughput(tmp_path):
    run_dir = fasttd3_run(tmp_path / "td3")
    plot = plot_runs([run_dir], tmp_path / "curves.png")
    assert plot.out == tmp_path / "curves.png"
    assert plot.panels == FULL_PANELS
    image = imread(plot.out)
    assert image.shape[:2] == (880, 1650)  # 2 rows x 3 columns of 5 x 4 inch panels at 110 dpi
    assert image.std() > 0.01


def test_losses_are_discovered_from_the_event_files_not_a_fixed_list(tmp_path):
    run_dir = fasttd3_run(tmp_path / "sac")
    write_scalars(run_dir, {"loss/alpha": [(s, 0.1) for s in STEPS]}, walltime=5000.0)
    assert {"loss/actor", "loss/alpha", "loss/critic"} <= set(read_run(run_dir))
    panels = plot_runs([run_dir], tmp_path / "curves.png").panels
    assert [title for title in panels if title.startswith("Loss")] == ["Loss: actor", "Loss: alpha", "Loss: critic"]


def test_a_brax_run_with_only_eval_tags_draws_only_the_return_panels(tmp_path):
    run_dir = tmp_path / "brax"
    write_scalars(run_dir, eval_curves())
    assert sorted(read_run(run_dir)) == ["eval/return_mean", "eval/seconds"]
    plot = plot_runs([run_dir], tmp_path / "curves.png")
    assert plot.panels == RETURN_PANELS
    assert imread(plot.out).shape[:2] == (440, 1100)


@pytest.mark.parametrize(("task", "term"), [("quadruped_joystick_flat", "tracking_lin_vel"), ("arm_reach", "reach")])
def test_a_run_draws_the_tracking_term_its_task_declares_and_eval_episode_length(tmp_path, task, term):
    run_dir = tmp_path / "ppo"
    goal = {f"eval_terms/{term}": [(s, s / 1000) for s in STEPS], "eval/episode_length": [(s, 900.0) for s in STEPS]}
    write_scalars(run_dir, {**eval_curves(), **goal})
    assert plot_runs([run_dir], tmp_path / "bare.png").panels == (*RETURN_PANELS, "Eval episode length")
    (run_dir / "config.yaml").write_text(f"task: {task}\n")
    plot = plot_runs([run_dir], tmp_path / "curves.png")
    assert plot.panels == (*RETURN_PANELS, "Eval tracking vs env steps", "Eval episode length")


def test_two_runs_overlay_in_the_same_panels_with_the_union_of_their_quantities(tmp_path):
    brax, td3 = tmp_path / "brax", fasttd3_run(tmp_path / "td3", offset=5.0)
    write_scalars(brax, eval_curves())
    plot = plot_runs([brax, td3], tmp_path / "both.png")
    assert plot.panels == FULL_PANELS
    image = imread(plot.out)
    assert image.shape[:2] == (880, 1650)
    assert has_colour(image, "C0") and has_colour(image, "C1")  # one colour per run


def test_a_single_run_is_drawn_in_one_colour(tmp_path):
    image = imread(plot_runs([fasttd3_run(tmp_path / "td3")], tmp_path / "one.png").out)
    assert has_colour(image, "C0") and not has_colour(image, "C1")


def test_a_resumed_run_keeps_the_values_written_last_for_repeated_steps(tmp_path):
    run_dir = tmp_path / "resumed"
    write_scalars(run_dir, {"eval/return_mean": [(s, 1.0) for s in STEPS]}, walltime=1000.0)
    write_scalars(run_dir, {"eval/return_mean": [(s, 2.0) for s in STEPS if s >= 500]}, walltime=9000.0)
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 2
    assert read_scalars(run_dir, "eval/return_mean") == [(s, 1.0 if s < 500 else 2.0) for s in STEPS]
    assert read_scalars(run_dir, "loss/critic") == []


def test_the_cli_writes_the_png_and_names_the_panels_drawn(capsys, tmp_path):
    run_dir = fasttd3_run(tmp_path / "td3")
    result = in_process(capsys, "plot", run_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {run_dir / 'learning_curves.png'}",
        f"panels: {', '.join(FULL_PANELS)}",
    ]
    assert imread(run_dir / "learning_curves.png").shape[:2] == (880, 1650)


def test_a_folder_without_events_or_a_missing_folder_is_one_line_and_exit_code_2(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = in_process(capsys, "plot", empty, "--out", tmp_path / "x.png")
    assert result.returncode == 2
    assert "eval/return_mean" in one_line_error(result)
    result = in_process(capsys, "plot", tmp_path / "missing", "--out", tmp_path / "x.png")
    assert result.returncode == 2
    assert "no such run folder" in one_line_error(result)
    assert not (tmp_path / "x.png").exists()
