"""Tile captions: what they say and that a latched fault stands out."""

import numpy as np

from sim2real.video.overlay import TileStatus, caption_lines, draw_caption


def test_a_commanded_task_captions_commanded_beside_measured_velocity():
    status = TileStatus(2, 1.5, 0.25, np.array([0.5, 0.0, -0.2]), np.array([0.45, 0.02, -0.1]), "ACTIVE")
    lines = caption_lines(status)
    assert lines[0] == "ep 2  t  1.50 s  r +0.250"
    assert lines[1].startswith("cmd  +0.50 +0.00 -0.20") and lines[2] == "meas +0.45 +0.02 -0.10"
    assert lines[3] == "ACTIVE"


def test_a_task_without_command_or_runtime_captions_time_and_reward_only():
    assert caption_lines(TileStatus(1, 0.0, None)) == ["ep 1  t  0.00 s"]


def red_pixels(frame):
    return int(np.sum((frame[..., 0] > 200) & (frame[..., 1] < 120)))


def test_a_latched_fault_is_captioned_in_red_inside_its_tile():
    frame = np.full((240, 640, 3), 128, np.uint8)
    draw_caption(frame, (320, 0), (320, 240), TileStatus(1, 0.1, 0.0, mode="DAMP: tilt 1.2 rad > 1.0"))
    assert red_pixels(frame[:, 320:]) > 20
    assert red_pixels(frame[:, :320]) == 0 and (frame[:, :320] == 128).all()  # the other tile is untouched
    calm = np.full((240, 320, 3), 128, np.uint8)
    draw_caption(calm, (0, 0), (320, 240), TileStatus(1, 0.1, 0.0, mode="ACTIVE"))
    assert red_pixels(calm) == 0
