"""sim2real rollout: a policy's episodes rendered headless, tiled, captioned, as an H.264 MP4 a browser plays."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from sim2real.video.policy_source import RolloutRequest, open_rollout_source
from sim2real.video.rollout import VideoSettings, plan_frames, record
from tests.cli_runner import in_process, one_line_error, sim2real
from tests.sim2real.test_contract_refusals import renamed_term, rewritten
from tests.sim2real.video.mp4_checks import assert_browser_playable, decode, frame_change, leftovers

SMALL = ("--width", "320", "--height", "240", "--num-envs", "2", "--no-progress")


def test_a_run_folder_renders_an_h264_mp4_of_fps_times_seconds_frames_at_the_asked_size(tiny_run, tmp_path, capsys):
    out = tmp_path / "run.mp4"
    result = in_process(capsys, "rollout", "--policy", tiny_run, "--video", out, "--seconds", "1.2", *SMALL)
    assert result.returncode == 0, result.stderr
    assert "s of video per second" in result.stdout
    assert_browser_playable(decode(out), fps=50, seconds=1.2, width=320, height=240)
    assert leftovers(tmp_path) == ["run.mp4"]


class RecordedSource:
    """A rollout source that remembers every state it hands out since its last start."""

    def __init__(self, source):
        self.source = source
        self.model, self.base_body = source.model, source.base_body
        self.control_dt, self.num_envs = source.control_dt, source.num_envs

    def start(self):
        tiles = self.source.start()
        self.states = [np.concatenate([t.qpos for t in tiles])]
        return tiles

    def step(self):
        tiles = self.source.step()
        self.states.append(np.concatenate([t.qpos for t in tiles]))
        return tiles


def test_frames_change_whenever_the_robot_moves(fresh_policy, tmp_path):
    request = RolloutRequest(fresh_policy.path, None, "mjx", 2, seed=3)
    source = RecordedSource(open_rollout_source(request)[0])
    settings = VideoSettings(seconds=1.0, width=320, height=240, overlay=False, fps=25, progress=False)
    report = record(source, tmp_path / "moving.mp4", settings, "test")
    frames = decode(report.path).frames
    states = source.states[:: report.plan.steps_per_frame]
    assert len(frames) == len(states) == 25
    moving = [i for i in range(len(frames) - 1) if np.abs(states[i + 1] - states[i]).max() > 2e-3]
    assert len(moving) >= 20, "the untrained policy should keep the cart-pole moving"
    assert all(frame_change(frames[i], frames[i + 1]) > 0.1 for i in moving)


def test_the_deployment_runtime_engine_renders_an_onnx_policy_with_a_fixed_camera(fresh_policy, tmp_path, capsys):
    out = tmp_path / "runtime.mp4"
    flags = ("--engine", "mujoco", "--camera", "fixed", "--seconds", "0.6", "--fps", "100", "--json")
    result = in_process(capsys, "rollout", "--policy", fresh_policy.path, "--video", out, *flags, *SMALL)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert (report["frames"], report["fps"], report["tiles"]) == (60, 100.0, 2)
    assert report["video_s_per_wall_s"] > 0
    assert_browser_playable(decode(out), fps=100, seconds=0.6, width=320, height=240)


def test_the_frame_rate_is_the_control_rate_or_a_whole_fraction_of_it():
    assert plan_frames(0.01, VideoSettings(seconds=2)).fps == 50  # 100 Hz control: every other step
    assert plan_frames(0.02, VideoSettings(seconds=2)).fps == 50
    assert plan_frames(0.04, VideoSettings(seconds=2)).fps == 25
    plan = plan_frames(0.01, VideoSettings(seconds=1.5, fps=20))
    assert (plan.fps, plan.steps_per_frame, plan.frames) == (20, 5, 30)


def badly_fitting_policy(fresh_policy, folder):
    return rewritten(fresh_policy.path, folder / "renamed.onnx", renamed_term)


REFUSALS = {
    "missing policy": (lambda fresh, tmp: ["--policy", tmp / "nowhere"], "--policy"),
    "not a policy": (lambda fresh, tmp: ["--policy", Path(__file__)], "neither a run folder nor an .onnx file"),
    "contract does not fit": (lambda fresh, tmp: ["--policy", badly_fitting_policy(fresh, tmp)], "terms differ"),
    "no such folder": (lambda fresh, tmp: ["--video", tmp / "missing" / "out.mp4"], "cannot write there"),
    "folder is a file": (lambda fresh, tmp: ["--video", Path(__file__) / "out.mp4"], "cannot write there"),
    "not an mp4": (lambda fresh, tmp: ["--video", tmp / "out.avi"], "must end in .mp4"),
    "odd width": (lambda fresh, tmp: ["--width", "321"], "--width"),
    "fps not a fraction of the control rate": (lambda fresh, tmp: ["--fps", "30"], "control rate (100 Hz)"),
    "unknown camera": (lambda fresh, tmp: ["--camera", "orbit"], "track, fixed"),
    "unknown engine": (lambda fresh, tmp: ["--engine", "isaac"], "mjx, mujoco"),
    "no envs": (lambda fresh, tmp: ["--num-envs", "0"], "--num-envs"),
    "tiles too small": (lambda fresh, tmp: ["--num-envs", "64", "--width", "160", "--height", "120"], "tiles need"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_input_is_refused_in_one_line_and_leaves_no_video(case, fresh_policy, tmp_path, capsys):
    flags, message = REFUSALS[case]
    defaults = {"--policy": fresh_policy.path, "--video": tmp_path / "out.mp4", "--seconds": "0.2"}
    given = flags(fresh_policy, tmp_path)
    pairs = dict(zip(given[::2], given[1::2], strict=True))
    args = [str(a) for item in ({**defaults, **pairs}).items() for a in item]
    result = in_process(capsys, "rollout", *args, "--no-progress")
    assert result.returncode == 2
    assert message in one_line_error(result)
    assert leftovers(tmp_path) == []


def test_missing_egl_is_one_line_naming_it_and_leaves_no_video(fresh_policy, tmp_path):
    broken = tmp_path / "lib"
    broken.mkdir()
    (broken / "libEGL.so.1").write_bytes(b"")  # present but unloadable: what a machine without EGL gives
    out = tmp_path / "out.mp4"
    env_path = os.pathsep.join(filter(None, [str(broken), os.environ.get("LD_LIBRARY_PATH")]))
    result = sim2real(
        "rollout", "--policy", fresh_policy.path, "--video", out, "--seconds", "0.2", "--no-progress",
        env={"LD_LIBRARY_PATH": env_path, "MUJOCO_GL": "egl"},
    )  # fmt: skip
    line = one_line_error(result)
    assert result.returncode == 2
    assert "EGL could not be loaded" in line and "MUJOCO_GL=osmesa" in line
    assert leftovers(tmp_path) == []


class FailingSource(RecordedSource):
    """Breaks after a few frames, as a diverging simulation or a crashing policy would."""

    def step(self):
        if len(self.states) > 12:
            raise RuntimeError("simulated crash")
        return super().step()


def test_a_failure_mid_clip_keeps_the_previous_video_and_leaves_no_partial_file(fresh_policy, tmp_path):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"the previous video")
    source = FailingSource(open_rollout_source(RolloutRequest(fresh_policy.path, None, "mjx", 1, seed=0))[0])
    settings = VideoSettings(seconds=1.0, width=160, height=120, progress=False)
    with pytest.raises(RuntimeError, match="simulated crash"):
        record(source, out, settings, "test")
    assert out.read_bytes() == b"the previous video"
    assert leftovers(tmp_path) == ["clip.mp4"]
