"""Read back a video the way a user's tools would: OpenCV's decoder, the stream's fourcc, every frame."""

from dataclasses import dataclass

import cv2
import numpy as np

H264_FOURCCS = {"avc1", "h264", "H264"}


@dataclass
class DecodedVideo:
    fourcc: str
    fps: float
    width: int
    height: int
    frames: list[np.ndarray]


def decode(path):
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"OpenCV cannot open {path}"
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode(errors="replace")
    fps = capture.get(cv2.CAP_PROP_FPS)
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return DecodedVideo(fourcc, fps, width, height, frames)


def assert_browser_playable(video, fps, seconds, width, height):
    """H.264, the asked size and rate, exactly fps x seconds frames, none of them blank."""
    assert video.fourcc in H264_FOURCCS, video.fourcc
    assert (video.width, video.height) == (width, height)
    assert video.fps == fps
    assert len(video.frames) == round(fps * seconds)
    assert all(frame.shape == (height, width, 3) for frame in video.frames)
    assert min(float(frame.std()) for frame in video.frames) > 10.0  # a rendered scene, not a flat colour


def frame_change(a, b):
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def leftovers(folder):
    """Video or temporary files in ``folder`` (a refused or failed rollout must leave none)."""
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".mp4", ".partial"))
