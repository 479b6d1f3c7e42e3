"""sim2sim: the exported policy on the robot in MuJoCo C, through the runtime, scored by the task's own code."""

import json

import mujoco
import numpy as np
import pytest

from sim.robot import load_robot
from sim2real.sim2sim.mujoco_robot import MujocoRobot, SensorNoise
from sim2real_runtime.state import JointCommand
from tests.cli_runner import in_process, sim2real


@pytest.fixture(scope="module")
def short_task(tmp_path_factory):
    path = tmp_path_factory.mktemp("task") / "short.yaml"
    path.write_text("task: cartpole_balance\nepisode_length: 100\n")
    return path


def last_json(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sim2sim_scores_the_same_episodes_as_mjx_and_feeds_the_policy_the_task_observation(tiny_run, short_task):
    report = last_json(
        sim2real("sim2sim", "--policy", tiny_run / "policy.onnx", "--task", short_task, "--episodes", "3", "--json")
    )
    assert report["episodes"] == 3 and report["episode_length_mean"] == 100
    assert report["falls"] == 0 and report["faults"] == []
    assert report["return_ratio"] == pytest.approx(1.0, abs=0.01)  # float64 C vs float32 MJX, same episodes
    assert report["observation_mismatch_max"] < 1e-5
    assert 0 < report["inference_us_p50"] <= report["inference_us_p99"]
    assert report["linear_tracking_error"] is None  # the cart-pole takes no velocity command


def test_sim2sim_defaults_to_the_task_the_policy_was_trained_on(tiny_run, capsys):
    result = in_process(capsys, "sim2sim", "--policy", tiny_run / "policy.onnx", "--episodes", "1", "--json")
    report = last_json(result)
    assert report["task"] == "cartpole_balance" and report["episode_length_mean"] <= 1000


def test_sim2sim_refuses_bad_flags_in_one_line(tiny_run, capsys):
    for flags, message in (
        (["--episodes", "0"], "--episodes: 0: must be at least 1"),
        (["--latency-ms", "-5"], "--latency-ms: -5.0: must be a finite number >= 0"),
        (["--gyro-noise", "nan"], "--gyro-noise"),
        (["--task", "cartpole_juggle"], "unknown task"),
    ):
        result = in_process(capsys, "sim2sim", "--policy", tiny_run / "policy.onnx", *flags)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
    missing = in_process(capsys, "sim2sim", "--policy", "nowhere.onnx")
    assert missing.returncode == 2 and "no such policy file" in missing.stderr


@pytest.fixture
def cartpole():
    robot = load_robot("cartpole")
    model = robot.mj_model
    model.opt.timestep = 0.005
    return robot, model


def push(effort):
    one = np.ones(1)
    return JointCommand(one * 0.0, one * 0.0, one * 0.0, one * 0.0, one * effort)


def test_an_injected_latency_delays_each_command_by_whole_physics_steps(cartpole):
    robot, model = cartpole
    sim = MujocoRobot(robot, model, latency_s=0.02)
    assert sim.latency_steps == 4
    sim.send(push(5.0), np.array([0.5]))
    sim.step(3)
    assert sim.active_action[0] == 0.0 and sim.data.ctrl[0] == 0.0
    sim.step(2)
    assert sim.active_action[0] == 0.5
    assert sim.data.qfrc_actuator[robot.dof_adr[0]] == pytest.approx(5.0)  # 5 N on the cart, through the gear


def test_pd_efforts_are_clipped_to_the_effort_limit_at_physics_rate(cartpole):
    robot, model = cartpole
    sim = MujocoRobot(robot, model)
    one = np.ones(1)
    sim.send(JointCommand(one * 1.0, one * 0.0, one * 1000.0, one * 0.0, one * 0.0), one)
    sim.step(1)
    assert sim.data.qfrc_actuator[robot.dof_adr[0]] == pytest.approx(10.0)  # 1000 N asked, 10 N allowed


def test_sensor_noise_perturbs_reported_joints_within_its_half_width(cartpole):
    robot, model = cartpole
    sim = MujocoRobot(robot, model, noise=SensorNoise(joint_position=0.01, joint_velocity=0.1), seed=3)
    clean = MujocoRobot(robot, model).sense()
    noisy = np.array([sim.sense().position for _ in range(200)])
    spread = noisy - clean.position
    assert np.abs(spread).max() <= 0.01 and np.abs(spread).max() > 0.005
    assert sim.sense().joint_names == ("slider", "hinge")


def test_base_velocity_is_reported_in_the_base_frame(tmp_path):
    (tmp_path / "box.xml").write_text(
        """<mujoco><worldbody><body name="base" euler="0 0 90"><freejoint/><geom type="box" size=".1 .1 .1"/>
        <body name="arm"><joint name="j" type="hinge"/><geom type="capsule" fromto="0 0 0 .2 0 0" size=".02"/>
        </body></body></worldbody><actuator><motor joint="j"/></actuator></mujoco>"""
    )
    (tmp_path / "robot.yaml").write_text(
        "name: box\nmjcf: box.xml\ncontrol: torque\naction_scale: 1\nbase_body: base\njoints:\n"
        "  - {name: j, default_pos: 0, range: [-1, 1], effort_limit: 1, velocity_limit: 1}\n"
    )
    robot = load_robot(tmp_path / "robot.yaml")
    sim = MujocoRobot(robot, robot.mj_model)
    qvel = np.zeros(robot.mj_model.nv)
    qvel[:3] = [1.0, 0.0, 0.0]  # moving along world x, base turned 90 degrees about z
    qvel[5] = 0.3  # yaw rate (free joint angular velocity is in the body frame)
    sim.reset(robot.mj_model.qpos0, qvel)
    linear, angular = sim.base_velocity()
    assert linear == pytest.approx([0.0, -1.0, 0.0], abs=1e-9)
    assert angular == pytest.approx([0.0, 0.0, 0.3], abs=1e-9)
    assert isinstance(sim.model, mujoco.MjModel)


@pytest.mark.slow
def test_the_demo_policy_keeps_90_percent_of_its_mjx_return_in_mujoco_c(tmp_path):
    run_dir = tmp_path / "demo"
    trained = sim2real(
        "train", "--task", "cartpole_balance", "--algo", "fasttd3", "--run-dir", run_dir, "--no-progress", timeout=1800
    )
    assert trained.returncode == 0, trained.stderr
    assert sim2real("export", run_dir).returncode == 0
    report = last_json(
        sim2real("sim2sim", "--policy", run_dir / "policy.onnx", "--episodes", "8", "--json", timeout=1800)
    )
    assert report["mjx_return_mean"] > 900
    assert report["return_ratio"] >= 0.9
