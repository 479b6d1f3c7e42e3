"""A maker's model used as written: the Menagerie-style Go2 of ``tests/data/menagerie_style_go2`` goes through every
stage with no edit to its MJCF.

The MJCF has position servos, a mesh for the trunk's look, elliptic cones with impratio 100, condim 1 on the
collision geoms (condim 6 on the feet), Go2 cylinders that would touch boxes, a 2 ms step and no ground; its robot
YAML names no gains. ``validate``, ``preview``, ``train`` (800 env steps of a small CPU config),
``export``, ``sim2sim`` and ``rollout --engine mujoco`` (both without ``--task``: the policy knows its robot and
task), then the bridge and the emulator as ``sim.launch.py`` starts them, over DDS.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.cli_runner import in_process
from tests.ros.conftest import ROOT
from tests.sim2real.video.mp4_checks import decode

GO2 = ROOT / "tests" / "data" / "menagerie_style_go2"
"""The Menagerie-style robot: go2.xml (unedited), assets/base.obj, robot.yaml and walk.yaml (the joystick task)."""

CPU_CONFIG = """\
# A few hundred env steps, small enough for a test: 32-wide networks, short episodes (the task YAML's 50 steps).
num_envs: 8
total_steps: 800
eval_every: 400
checkpoint_every: 400
eval_envs: 2
torch_threads: 1
learner:
  actor_hidden: [32, 32]
  critic_hidden: [32, 32]
  batch_size: 64
  buffer_steps: 1000
  num_atoms: 11
  learning_starts: 16
"""


@pytest.fixture
def go2(tmp_path: Path) -> Path:
    """A copy of the robot's folder, its MJCF byte for byte as the test data holds it."""
    folder = tmp_path / "go2"
    shutil.copytree(GO2, folder)
    return folder


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_menagerie_style_model_goes_from_validate_to_the_bridge_with_no_edit(go2, tmp_path, capsys, launch, probe):
    mjcf_before = (go2 / "go2.xml").read_bytes()
    robot_yaml, task_yaml = go2 / "robot.yaml", go2 / "walk.yaml"

    result = in_process(capsys, "validate", robot_yaml)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr

    preview = tmp_path / "preview.mp4"
    result = in_process(capsys, "preview", robot_yaml, "--video", preview, "--seconds", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert len(decode(preview).frames) > 0

    config = tmp_path / "cpu.yaml"
    config.write_text(CPU_CONFIG)
    run_dir = tmp_path / "run"
    result = in_process(
        capsys, "train", "--task", task_yaml, "--algo", "fasttd3", "--config", config, "--run-dir", run_dir,
        "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    policy = run_dir / "policy.onnx"
    result = in_process(capsys, "export", run_dir, "--out", policy)
    assert result.returncode == 0, result.stderr

    result = in_process(capsys, "sim2sim", "--policy", policy, "--episodes", "2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["episodes"] == 2 and report["observation_mismatch_max"] < 1e-3, report

    video = tmp_path / "rollout.mp4"
    result = in_process(
        capsys, "rollout", "--policy", policy, "--engine", "mujoco", "--num-envs", "1", "--seconds", "1",
        "--video", video, "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(decode(video).frames) > 0

    # On the robot the runtime reads no MJCF: its refusal names what to write into the robot YAML, and
    # `inspect robot --json` gives the values training resolved from the servos.
    as_written = {"robot": "quadruped", "robot_yaml": robot_yaml, "policy": policy}
    refused = launch("sim.launch.py", "policy_bridge", as_written)
    assert refused.process.wait(60) == 2 and "effort_limit" in refused.output(), refused.output()
    deploy_yaml = go2 / "robot_deploy.yaml"
    result = in_process(capsys, "inspect", "robot", robot_yaml, "--json")
    resolved = json.loads(result.stdout.strip().splitlines()[-1])
    fields = ("name", "mjcf", "control", "action_scale", "control_dt", "base_body", "imu_site", "foot_geoms", "joints")
    deploy_yaml.write_text(yaml.safe_dump({key: resolved[key] for key in (*fields, "termination_contact_bodies")}))

    nodes = {"robot": "quadruped", "robot_yaml": deploy_yaml, "policy": policy}
    bridge = launch("sim.launch.py", "policy_bridge", nodes)
    assert probe.wait_for(lambda: probe.mode == "PASSIVE", 60), bridge.output()
    emulator = launch("sim.launch.py", "mujoco_robot", nodes, {"physics_dt": 0.004})  # the task's sim_dt
    assert probe.wait_for(lambda: probe.mode == "ACTIVE", 60), (probe.modes, bridge.output(), emulator.output())
    probe.spin(1.0)
    assert probe.states and probe.commands, (bridge.output(), emulator.output())
    assert "Traceback" not in bridge.output() + emulator.output()

    assert (go2 / "go2.xml").read_bytes() == mjcf_before
