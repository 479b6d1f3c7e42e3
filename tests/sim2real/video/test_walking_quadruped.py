"""The end of ``make demo``: the shipped quadruped walks the tour across the floor; the report says how far."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.robot import load_robot
from sim.robot_pose import home_qpos
from sim2real.video.sources import TileState
from sim2real.video.travel import TravelMeter
from tests.cli_runner import in_process
from tests.sim2real.video.mp4_checks import assert_browser_playable, decode

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_QUADRUPED = ROOT / "assets" / "policies" / "quadruped_joystick_flat.onnx"
"""The trained quadruped policy ``make demo`` renders walking."""


def _tile(qpos: np.ndarray, episode: int) -> TileState:
    return TileState(qpos, np.zeros(1), episode, 0.0, None, None, None)


def test_the_travel_meter_keeps_each_tiles_farthest_planar_distance_from_its_episodes_start():
    robot = load_robot("quadruped")
    meter = TravelMeter(robot.mj_model, robot.config.base_body, tiles=2)
    start = home_qpos(robot)

    def at(x: float, y: float, z: float = 0.0) -> np.ndarray:
        qpos = start.copy()
        qpos[:3] += (x, y, z)
        return qpos

    path = [(at(0, 0), at(0, 0)), (at(2, 0, 0.5), at(0, -0.5)), (at(1, 0), at(0, -0.3))]
    for first, second in path:
        meter.update([_tile(first, 1), _tile(second, 1)])
    assert meter.farthest_m == pytest.approx([2.0, 0.5])  # height does not count; coming back keeps the farthest
    meter.update([_tile(at(9, 9), 2), _tile(at(0, 0), 1)])  # tile 0 restarts far away: a new start point
    meter.update([_tile(at(9, 12), 2), _tile(at(0, 0), 1)])
    assert meter.farthest_m == pytest.approx([3.0, 0.5])


def test_shipped_quadruped_walks_across_the_floor_in_the_demo_video(tmp_path, capsys):
    assert SHIPPED_QUADRUPED.is_file(), f"ship the trained quadruped policy at {SHIPPED_QUADRUPED}"
    out = tmp_path / "walk.mp4"
    flags = ("--engine", "mujoco", "--command-schedule", "tour", "--num-envs", "1", "--seconds", "7", "--fps", "25")
    size = ("--width", "320", "--height", "240", "--no-progress", "--json")
    result = in_process(capsys, "rollout", "--policy", SHIPPED_QUADRUPED, "--video", out, *flags, *size)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert_browser_playable(decode(out), fps=25, seconds=7, width=320, height=240)
    (travelled,) = report["travelled_m"]
    assert travelled >= 1.5, f"the base got only {travelled:.2f} m from its start in 7 s of the tour"
