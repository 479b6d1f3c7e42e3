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


@pytest.mark.parametrize("terrain", ["rough", "stairs"])
def test_a_legged_robot_previews_standing_on_generated_terrain(terrain, tmp_path, capsys):
    out = tmp_path / f"{terrain}.mp4"
    flags = ("--seconds", "0.4", "--width", "160", "--height", "120", "--num-envs", "1", "--no-progress")
    result = in_process(capsys, "preview", "quadruped", "--terrain", terrain, "--video", out, *flags)
    assert result.returncode == 0, result.stderr
    assert_browser_playable(decode(out), fps=50, seconds=0.4, width=160, height=120)


def test_an_unknown_terrain_is_refused_in_one_line(tmp_path, capsys):
    result = in_process(capsys, "preview", "quadruped", "--terrain", "lava", "--video", tmp_path / "x.mp4")
    assert (
        result.returncode == 2
        and "--terrain: lava: unknown terrain; choose one of: flat, rough, stairs" in result.stderr
    )
    assert not (tmp_path / "x.mp4").exists()
