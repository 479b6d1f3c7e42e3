"""MP4 files as outputs: written like every other output the stack writes."""

import os

import numpy as np
import pytest

from sim2real.video.mp4 import Mp4Writer


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask 022", "umask 077"])
def test_a_video_gets_the_permissions_any_other_output_gets_under_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        (tmp_path / "other.txt").write_text("any other output")
        with Mp4Writer(tmp_path / "clip.mp4", 16, 16, 10) as writer:
            writer.write(np.zeros((16, 16, 3), dtype=np.uint8))
    finally:
        os.umask(previous)
    mode = (tmp_path / "clip.mp4").stat().st_mode & 0o777
    assert mode == (tmp_path / "other.txt").stat().st_mode & 0o777 == 0o666 & ~umask
