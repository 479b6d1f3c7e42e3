"""Every shipped robot renders: held at its default pose by its own PD gains from perturbed starts."""

import pytest

from sim.assets import shipped_robot_names
from tests.cli_runner import in_process
from tests.sim2real.video.mp4_checks import assert_browser_playable, decode, frame_change


@pytest.mark.parametrize("robot", shipped_robot_names())
def test_the_shipped_robot_renders_moving_from_a_perturbed_start(robot, tmp_path, capsys):
    out = tmp_path / f"{robot}.mp4"
    flags = ("--seconds", "1", "--fps", "25", "--width", "320", "--height", "240", "--num-envs", "2")
    result = in_process(capsys, "preview", robot, "--video", out, *flags, "--no-overlay", "--no-progress")
    assert result.returncode == 0, result.stderr
    video = decode(out)
    assert_browser_playable(video, fps=25, seconds=1, width=320, height=240)
    assert frame_change(video.frames[0], video.frames[5]) > 0.1, "the robot should move as it settles"
