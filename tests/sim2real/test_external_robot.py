"""A robot defined outside the repository (a user's MJCF + robot.yaml in their own folder) is a first-class robot.

It validates, is inspected, renders, and a task runs on it by path -- trained, saved, evaluated -- with no
change to the code. Paths in YAML files are relative to the file that holds them, not to the working folder.
"""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from sim.assets import ROBOTS_DIR
from sim2real_runtime.policy_runner import read_contract
from tests.cli_runner import in_process
from tests.sim2real.test_train_cli import TINY
from tests.sim2real.video.mp4_checks import assert_browser_playable, decode

ROBOT_YAML = """\
# A user's own cart-pole: a longer, heavier pole than the shipped one, and a gentler motor.
name: long_pole_cartpole
mjcf: model/long_pole.xml
control: torque
action_scale: 8.0
control_dt: 0.01
base_body: cart
joints:
  - {name: slider, actuator: slide, default_pos: 0.0, range: [-1.8, 1.8], effort_limit: 8.0, velocity_limit: 10.0}
"""

TASK_YAML = """\
task: cartpole_balance
robot: ../robots/long_pole/robot.yaml
episode_length: 50
"""


def write_user_folder(user: Path) -> Path:
    """``USER/robots/long_pole/{robot.yaml, model/long_pole.xml}`` and ``USER/tasks/balance.yaml``; returns USER."""
    robot_dir = user / "robots" / "long_pole"
    (robot_dir / "model").mkdir(parents=True)
    mjcf = (ROBOTS_DIR / "cartpole" / "cartpole.xml").read_text()
    mjcf = mjcf.replace(
        'fromto="0 0 0 0 0 1" size="0.045" mass="0.1"', 'fromto="0 0 0 0 0 1.3" size="0.045" mass="0.15"'
    )
    assert "0 0 1.3" in mjcf
    (robot_dir / "model" / "long_pole.xml").write_text(mjcf)
    (robot_dir / "robot.yaml").write_text(ROBOT_YAML)
    (user / "tasks").mkdir()
    (user / "tasks" / "balance.yaml").write_text(TASK_YAML)
    return user


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A user's folder (:func:`write_user_folder`); cwd elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return write_user_folder(tmp_path / "user")


def test_a_robot_outside_the_repo_validates_and_is_inspected(user_folder, capsys):
    robot, task = user_folder / "robots" / "long_pole" / "robot.yaml", user_folder / "tasks" / "balance.yaml"
    result = in_process(capsys, "validate", robot, task)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{robot}: ok (robot long_pole_cartpole: 1 actuated joint, 1.15 kg)",
        f"{task}: ok (task YAML overriding cartpole_balance, on robot long_pole_cartpole)",
    ]
    result = in_process(capsys, "inspect", "robot", robot, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "long_pole_cartpole" and data["mjcf_path"] == str(robot.parent / "model" / "long_pole.xml")
    assert data["total_mass"] == pytest.approx(1.15) and data["height"] == pytest.approx(1.445)


def test_a_robot_outside_the_repo_renders(user_folder, capsys):
    out = user_folder / "preview.mp4"
    robot = user_folder / "robots" / "long_pole" / "robot.yaml"
    flags = ("--seconds", "0.4", "--width", "160", "--height", "120", "--num-envs", "1", "--no-progress")
    result = in_process(capsys, "preview", robot, "--video", out, *flags)
    assert result.returncode == 0, result.stderr
    assert_browser_playable(decode(out), fps=50, seconds=0.4, width=160, height=120)


def test_a_task_runs_on_a_robot_outside_the_repo_by_path_and_the_run_remembers_it(user_folder, capsys):
    run_dir = user_folder / "run"
    task = user_folder / "tasks" / "balance.yaml"
    result = in_process(capsys, "train", "--task", task, "--config", TINY, "--run-dir", run_dir, "--no-progress")
    assert result.returncode == 0, result.stderr
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["task"] == "cartpole_balance"
    assert saved["env"]["robot"] == str(user_folder / "robots" / "long_pole" / "robot.yaml")
    shutil.move(str(user_folder / "tasks"), str(user_folder / "tasks_moved"))
    result = in_process(capsys, "eval", run_dir, "--episodes", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["task"] == "cartpole_balance"
    result = in_process(capsys, "export", run_dir)
    assert result.returncode == 0, result.stderr
    assert "long_pole_cartpole cartpole_balance" in result.stdout
    origin = read_contract(run_dir / "policy.onnx").origin
    robot = user_folder / "robots" / "long_pole"
    assert (origin.robot_yaml, origin.mjcf) == (str(robot / "robot.yaml"), str(robot / "model" / "long_pole.xml"))
    assert origin.task_overrides["robot"] == str(robot / "robot.yaml") and origin.task_overrides["episode_length"] == 50
