"""sim2sim and rollout on the locomotion and arm tasks: an exported policy through the runtime in MuJoCo C.

The fast test runs the quadruped: an untrained FastSAC policy (small outputs: the robot holds its pose
under PD) plays the same short episodes in MJX and in MuJoCo C. The runtime's observation equals the
task's entry by entry, pushes reach both engines, and the two returns agree. The slow test does the same
and renders a clip for every task.
"""

import json

import pytest

from tests.cli_runner import sim2real
from tests.sim2real.conftest import export_fresh_agent
from tests.sim2real.video.mp4_checks import decode

NEW_TASKS = [
    "quadruped_joystick_flat",
    "quadruped_joystick_rough",
    "humanoid_joystick_flat",
    "humanoid_joystick_rough",
    "arm_reach",
]


def short_task(folder, task: str, steps: int):
    path = folder / f"{task}.yaml"
    path.write_text(f"task: {task}\nepisode_length: {steps}\n")
    return path


def sim2sim_report(policy, task_yaml, episodes: int = 2):
    result = sim2real("sim2sim", "--policy", policy, "--task", task_yaml, "--episodes", str(episodes), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_exported_quadruped_policy_plays_the_same_episodes_in_mujoco_c_as_in_mjx(tmp_path):
    policy = export_fresh_agent("fastsac", tmp_path, "quadruped_joystick_flat", head_std=1e-3).path
    report = sim2sim_report(policy, short_task(tmp_path, "quadruped_joystick_flat", 50))
    assert report["faults"] == [] and report["episode_length_mean"] == 50
    assert report["observation_mismatch_max"] < 1e-4
    assert report["return_ratio"] == pytest.approx(1.0, abs=0.1)
    assert report["tracking_ratio"] == pytest.approx(1.0, abs=0.1)
    assert report["linear_tracking_error"] is not None


@pytest.mark.slow
@pytest.mark.parametrize("task", NEW_TASKS)
def test_every_new_task_runs_in_sim2sim_and_renders_a_rollout(task, tmp_path):
    policy = export_fresh_agent("fastsac", tmp_path, task, head_std=1e-3).path
    yaml = short_task(tmp_path, task, 40)
    report = sim2sim_report(policy, yaml)
    assert report["episodes"] == 2 and report["faults"] == []
    assert report["observation_mismatch_max"] < 1e-4
    assert report["tracking_ratio"] is not None  # velocity tracking, or the arm's reach
    assert (report["linear_tracking_error"] is None) == (task == "arm_reach")  # the arm takes no velocity
    video = tmp_path / f"{task}.mp4"
    flags = ("--engine", "mujoco", "--num-envs", "1", "--seconds", "0.4", "--width", "160", "--height", "120")
    result = sim2real("rollout", "--policy", policy, "--task", yaml, "--video", video, *flags)
    assert result.returncode == 0, result.stderr
    assert len(decode(video).frames) == 20
