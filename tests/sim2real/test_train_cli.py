"""The train / eval / plot commands as a user runs them: real processes, real files, real signals."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from matplotlib.image import imread

from policies.checkpoint import load_checkpoint
from sim2real.bench.learn_bench import LearnGoal
from tests.cli_runner import in_process, one_line_error, sim2real

TINY = Path(__file__).resolve().parents[1] / "data" / "train" / "tiny.yaml"


def test_a_run_killed_with_sigkill_resumes_from_its_last_checkpoint_and_finishes(tmp_path):
    run_dir = tmp_path / "killed"
    command = [sys.executable, "-m", "sim2real", "train", "--task", "cartpole_balance", "--config", TINY]
    command += ["--run-dir", run_dir, "--total-steps", "4000", "--no-progress"]
    process = subprocess.Popen(list(map(str, command)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = run_dir / "checkpoint.pt"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (checkpoint.exists() and load_checkpoint(checkpoint)["env_steps"] >= 300):
        assert process.poll() is None, "training ended before it could be killed"
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_at = load_checkpoint(checkpoint)["env_steps"]
    assert 300 <= killed_at < 4000
    resumed = sim2real("train", "--run-dir", run_dir, "--resume", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(checkpoint)["env_steps"] == 4000
    assert not list(run_dir.glob(".*.tmp"))  # a temporary file the kill may have left is gone


def test_eval_reports_returns_of_the_latest_policy_as_json(tiny_run):
    result = sim2real("eval", tiny_run, "--episodes", "3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["episodes"] == 3 and report["env_steps"] == 400 and report["algo"] == "fasttd3"
    assert 0.0 <= report["return_min"] <= report["return_mean"] <= report["return_max"] <= 50.0


def test_plot_writes_a_png_of_the_learning_curves(tiny_run, tmp_path):
    out = tmp_path / "curves.png"
    result = sim2real("plot", tiny_run, "--out", out)
    assert result.returncode == 0, result.stderr
    image = imread(out)
    assert image.shape[0] > 300 and image.shape[1] > 800 and image.std() > 0.01


def test_unknown_task_or_algorithm_lists_the_valid_ones(tmp_path):
    line = one_line_error(sim2real("train", "--task", "cartpole_juggle", "--run-dir", tmp_path / "x"))
    assert "cartpole_balance, cartpole_swingup" in line
    line = one_line_error(
        sim2real("train", "--task", "cartpole_balance", "--algo", "ddpg", "--run-dir", tmp_path / "y")
    )
    assert "ddpg" in line and "fasttd3, fastsac, brax_ppo, brax_sac" in line


def test_a_truncated_or_corrupt_checkpoint_gives_one_line(tiny_run, tmp_path):
    data = (tiny_run / "checkpoint.pt").read_bytes()
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    assert "truncated" in one_line_error(sim2real("eval", truncated))
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    (corrupt / "checkpoint.pt").write_bytes(bytes(flipped))
    assert "corrupt" in one_line_error(sim2real("eval", corrupt))
    assert "no such run folder" in one_line_error(sim2real("eval", tmp_path / "missing"))


def test_resuming_under_a_changed_config_is_refused_naming_the_fields(tiny_run):
    before = (tiny_run / "checkpoint.pt").read_bytes()
    line = one_line_error(sim2real("train", "--run-dir", tiny_run, "--resume", "--seed", "7", "--num-envs", "8"))
    assert "num_envs (run has 4, now 8)" in line and "seed (run has 0, now 7)" in line
    line = one_line_error(sim2real("train", "--task", "cartpole_balance", "--run-dir", tiny_run))
    assert "--resume" in line
    assert (tiny_run / "checkpoint.pt").read_bytes() == before


def test_until_goal_stops_at_the_first_evaluation_that_meets_the_goal_and_keeps_its_checkpoint(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr("sim2real.training.goal_for", lambda task, threshold: LearnGoal("return", -1e9))
    run_dir = tmp_path / "until-goal"
    flags = ["--task", "cartpole_balance", "--algo", "fasttd3", "--config", TINY, "--run-dir", run_dir]
    result = in_process(capsys, "train", *flags, "--no-progress", "--until-goal")
    assert result.returncode == 0, result.stderr
    checkpoint = load_checkpoint(run_dir / "checkpoint.pt")
    assert checkpoint["env_steps"] == 200  # the first evaluation (every 200 of the 400 steps) met the goal
    assert checkpoint["evals"][-1][0] == 200


def test_until_goal_is_refused_for_brax_sac_in_one_line(tmp_path, capsys):
    result = in_process(capsys, "train", "--task", "cartpole_balance", "--algo", "brax_sac", "--until-goal")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "--until-goal" in lines[0], result.stderr


@pytest.mark.parametrize("algo", ["fasttd3", "brax_sac"])
def test_init_from_is_refused_in_one_line_for_learners_other_than_brax_ppo(algo, tmp_path, capsys):
    result = in_process(capsys, "train", "--task", "cartpole_balance", "--algo", algo, "--init-from", str(tmp_path))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "--init-from" in lines[0], result.stderr
    assert not any(tmp_path.iterdir())


def test_init_from_a_folder_without_a_brax_run_is_refused_in_one_line(tmp_path, capsys):
    flags = ["--task", "cartpole_balance", "--algo", "brax_ppo", "--run-dir", str(tmp_path / "child")]
    result = in_process(capsys, "train", *flags, "--init-from", str(tmp_path / "nowhere"))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "nowhere" in lines[0], result.stderr
    assert not (tmp_path / "child").exists()
