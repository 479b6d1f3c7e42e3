"""H.264 MP4 files from RGB frames, through the FFmpeg binary that ``imageio-ffmpeg`` ships (libx264).

Frames are piped to an FFmpeg process that writes a hidden temporary file beside the target; only a
complete, cleanly closed video is renamed into place. Any failure or interruption (an exception, Ctrl-C)
kills FFmpeg and removes the temporary file, so no half-written video is ever left behind. The temporary
file is created as other outputs are (mode 0666 less the umask), so the video gets their permissions.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

import imageio_ffmpeg
import numpy as np

from sim2real_runtime.errors import ConfigError

_LARGEST_SIDE = 4096  # libx264's level limits; far beyond anything a CPU renders in reasonable time


def check_video_request(out: Path, width: int, height: int, fps: float) -> None:
    """Refuse (one line) a target or size that cannot become an H.264 MP4 a browser plays."""
    if out.suffix.lower() != ".mp4":
        raise ConfigError.single("--video", str(out), "must end in .mp4 (the video is H.264 in an MP4 container)")
    for flag, value in (("--width", width), ("--height", height)):
        if not 16 <= value <= _LARGEST_SIDE or value % 2:
            raise ConfigError.single(flag, str(value), f"must be an even number of pixels from 16 to {_LARGEST_SIDE}")
    if not 0 < fps <= 240:
        raise ConfigError.single("--fps", f"{fps:g}", "must be a frame rate above 0 and at most 240")
    if out.is_dir():
        raise ConfigError.single("--video", str(out), "is a folder; name the .mp4 file to write")


def _new_partial(out: Path) -> Path:
    """A new empty hidden file beside ``out`` with the mode other outputs get (0666 less the umask)."""
    while True:
        path = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path


class Mp4Writer:
    """Context manager that encodes ``width`` x ``height`` RGB frames at ``fps`` into ``out`` (H.264)."""

    def __init__(self, out: Path, width: int, height: int, fps: float, title: str = "") -> None:
        check_video_request(out, width, height, fps)
        self.out, self.width, self.height, self.fps, self.title = out, width, height, fps, title
        self.frames = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._partial: Path | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> Mp4Writer:
        try:
            self._partial = _new_partial(self.out)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            error = ConfigError.single("--video", str(self.out), f"cannot write there ({reason}); pick a writable path")
            raise error from None
        self._log = tempfile.TemporaryFile()  # FFmpeg's stderr, closed in __exit__
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{self.width}x{self.height}", "-r", f"{self.fps:g}",
            "-i", "-",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", "-metadata", f"title={self.title}", "-f", "mp4", str(self._partial),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(height, width, 3)`` uint8 RGB frame."""
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be ({self.height}, {self.width}, 3) uint8, got {frame.shape} {frame.dtype}")
        assert self._process is not None and self._process.stdin is not None, "use Mp4Writer as a context manager"
        try:
            self._process.stdin.write(frame.tobytes())
        except BrokenPipeError:
            self._process.wait()
            raise OSError(f"FFmpeg stopped while writing {self.out}: {self._ffmpeg_error()}") from None
        self.frames += 1

    def _ffmpeg_error(self) -> str:
        assert self._log is not None
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        process, partial, log = self._process, self._partial, self._log
        assert process is not None and partial is not None and log is not None and process.stdin is not None
        try:
            if kind is None:
                process.stdin.close()
                if process.wait() != 0:
                    raise OSError(f"FFmpeg failed to write {self.out}: {self._ffmpeg_error()}")
                os.replace(partial, self.out)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            partial.unlink(missing_ok=True)
            log.close()
