"""The train / eval / plot commands as a user runs them: real processes, real files, real signals."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from matplotlib.image import imread

from policies.checkpoint import load_checkpoint
from policies.trainer import Trainer
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


def test_ctrl_c_writes_a_checkpoint_and_the_resume_command_it_prints_finishes_the_run(tmp_path):
    run_dir = tmp_path / "interrupted"
    command = [sys.executable, "-m", "sim2real", "train", "--task", "cartpole_balance", "--config", TINY]
    command += ["--run-dir", run_dir, "--total-steps", "4000"]
    process = subprocess.Popen(list(map(str, command)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # the line after the first iteration: training is under way
        seen.append(line)
        if "filling the replay buffer" in line:
            break
    assert process.poll() is None, "".join(seen)
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=300)[1]
    assert process.returncode == 130, rest
    stopped = [line for line in rest.splitlines() if "stopped by SIGINT" in line]
    assert len(stopped) == 1, rest
    at = re.search(r"at env step (\d+) of 4000; checkpoint (\S+) written; resume with: (.+)$", stopped[0])
    assert at is not None, stopped[0]
    assert 0 < int(at[1]) < 4000 and at[2] == str(run_dir / "checkpoint.pt")
    assert load_checkpoint(run_dir / "checkpoint.pt")["env_steps"] == int(at[1])
    assert not any("sim2real train: warning" in line for line in seen + rest.splitlines())  # a CPU-sized recipe
    resume = shlex.split(at[3])
    assert resume == ["sim2real", "train", "--resume", "--run-dir", str(run_dir)]
    resumed = sim2real(*resume[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(run_dir / "checkpoint.pt")["env_steps"] == 4000


def interrupt_at_iteration(monkeypatch, iteration, *signals):
    """Make the trainer send itself ``signals`` during the given iteration."""
    train_iteration = Trainer.train_iteration

    def signalled(trainer):
        if trainer.iteration + 1 == iteration:
            for signum in signals:
                os.kill(os.getpid(), signum)
        return train_iteration(trainer)

    monkeypatch.setattr(Trainer, "train_iteration", signalled)


def test_sigterm_finishes_the_iteration_writes_a_checkpoint_and_exits_143(tmp_path, monkeypatch, capsys):
    before = signal.getsignal(signal.SIGTERM)
    interrupt_at_iteration(monkeypatch, 5, signal.SIGTERM)
    run_dir = tmp_path / "terminated"
    flags = ["--task", "cartpole_balance", "--config", TINY, "--run-dir", run_dir, "--no-progress"]
    result = in_process(capsys, "train", *flags)
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    line = one_line_error(result)
    assert line.startswith("sim2real train: stopped by SIGTERM at env step 20 of 400;")
    assert line.endswith(f"resume with: sim2real train --resume --run-dir {run_dir}")
    assert load_checkpoint(run_dir / "checkpoint.pt")["env_steps"] == 20  # iteration 5 of 4 envs
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_second_ctrl_c_quits_at_once_without_a_checkpoint(tmp_path, monkeypatch, capfd):
    interrupt_at_iteration(monkeypatch, 5, signal.SIGINT, signal.SIGINT)
    run_dir = tmp_path / "quit"
    flags = ["--task", "cartpole_balance", "--config", TINY, "--run-dir", run_dir, "--no-progress"]
    result = in_process(capfd, "train", *flags)
    lines = [line for line in result.stderr.splitlines() if line.startswith("sim2real train:")]
    assert result.returncode == 130 and lines == [
        "sim2real train: SIGINT: stopping after this iteration to write a checkpoint (Ctrl-C again quits without one)",
        "sim2real train: interrupted",
    ], result.stderr
    assert not (run_dir / "checkpoint.pt").exists()  # the first checkpoint is due at env step 100


def test_progress_lines_start_before_the_first_compile_and_go_on_through_the_replay_prefill(tmp_path, capsys):
    flags = ["--task", "cartpole_balance", "--config", TINY, "--run-dir", tmp_path / "run", "--total-steps", "200"]
    result = in_process(capsys, "train", *flags)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()

    def first(pattern):
        return next(i for i, line in enumerate(lines) if re.match(f"sim2real train: {pattern}", line))

    starting = first(r"env step 0 of 200 \(0%\): starting; the first iteration compiles the env step")
    prefill = first(r"env step 4 of 200 \(2%\): filling the replay buffer \(1 of 10 steps per env\)")
    updates = first(r"env step 40 of 200 \(20%\): update 1 of 2 this step")
    evaluation = first(r"eval at env step 200: return")
    assert starting < prefill < updates < evaluation


def test_a_gpu_sized_learner_on_the_cpu_gets_a_one_line_warning_before_training(tmp_path, capsys):
    config = yaml.safe_load(TINY.read_text())
    config["learner"] |= {"batch_size": 4096, "updates_per_step": 8}
    config_file = tmp_path / "gpu_sized.yaml"
    config_file.write_text(yaml.safe_dump(config))
    flags = ["--task", "cartpole_balance", "--config", config_file, "--run-dir", tmp_path / "run"]
    result = in_process(capsys, "train", *flags, "--total-steps", "8", "--no-progress")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("sim2real train: warning: learner batch 4096 x 8")
    assert "cartpole_balance's CPU recipe (batch 512 x 2" in warnings[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine with CUDA trains device: cuda")
def test_device_cuda_without_a_gpu_is_refused_in_one_line_naming_device_auto(tmp_path, capsys):
    config_file = tmp_path / "cuda.yaml"
    config_file.write_text(f"{TINY.read_text()}device: cuda\n")
    flags = ["--task", "cartpole_balance", "--config", config_file, "--run-dir", tmp_path / "run"]
    line = one_line_error(in_process(capsys, "train", *flags))
    assert "device" in line and "no CUDA GPU" in line and "device: auto" in line
    assert not (tmp_path / "run").exists()


def test_eval_reports_returns_lengths_and_falls_of_the_latest_policy_as_json(tiny_run):
    result = sim2real("eval", tiny_run, "--episodes", "3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["episodes"] == 3 and report["env_steps"] == 400 and report["algo"] == "fasttd3"
    assert 0.0 <= report["return_min"] <= report["return_mean"] <= report["return_max"] <= 50.0
    assert 0 <= report["falls"] <= 3 and 0 < report["episode_length_mean"] <= 50
    assert (report["falls"] == 0) == (report["episode_length_mean"] == 50)  # a fall is an episode cut short
    assert report["tracking"] is None and "tracking_lin_vel" not in report  # the cart-pole tracks no command


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
    header = data[: data.index(b"\n") + 1]
    policy_end = len(header) + int(header.split()[2])  # eval reads the policy archive, a resume everything after it too
    for at, command in ((policy_end - 1, ["eval"]), (len(data) - 1, ["train", "--resume", "--run-dir"])):
        corrupt = tmp_path / f"corrupt-at-{at}"
        corrupt.mkdir()
        flipped = bytearray(data)
        flipped[at] ^= 0xFF
        (corrupt / "checkpoint.pt").write_bytes(bytes(flipped))
        assert "corrupt" in one_line_error(sim2real(*command, corrupt))
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


@pytest.mark.parametrize(("algo", "task"), [("brax_ppo", "arm_reach"), ("brax_sac", "humanoid_joystick_flat")])
def test_a_brax_baseline_without_settings_for_the_task_is_refused_in_one_line_before_compiling(
    algo, task, tmp_path, capsys
):
    run_dir = tmp_path / "run"
    result = in_process(capsys, "train", "--task", task, "--algo", algo, "--run-dir", str(run_dir))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert task in lines[0] and "no settings" in lines[0] and "fasttd3" in lines[0], lines[0]
    assert not run_dir.exists()
