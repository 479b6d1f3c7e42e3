"""Frames drawn and encoded on a worker thread while the caller simulates the next ones.

MuJoCo's renderer and the pipe to FFmpeg run without Python's lock for most of a frame, so a rollout
whose simulation is Python-bound (the deployment runtime in MuJoCo C) overlaps the two and runs up to
the slower of them instead of their sum. The OpenGL context belongs to the worker thread: it is made
there, used there and freed there.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from types import TracebackType

from sim.render import TiledRenderer
from sim2real.video.frames import draw_tiles
from sim2real.video.mp4 import Mp4Writer
from sim2real.video.sources import TileState

_POLL_S = 0.05


class FramePipeline:
    """Context manager: ``put`` tile states; a worker renders, captions and encodes them in order."""

    def __init__(self, make_renderer: Callable[[], TiledRenderer], writer: Mp4Writer, overlay: bool) -> None:
        self._make_renderer = make_renderer
        self._writer = writer
        self._overlay = overlay
        self._queue: queue.Queue[list[TileState] | None] = queue.Queue(maxsize=4)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="rollout-render", daemon=True)
        self.render_s = 0.0
        """Seconds the worker spent drawing frames."""
        self.encode_s = 0.0
        """Seconds the worker spent handing frames to FFmpeg."""

    def __enter__(self) -> FramePipeline:
        self._thread.start()
        self._ready.wait()
        self._raise_failure()
        return self

    def _work(self) -> None:
        try:
            renderer = self._make_renderer()
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.is_set() and (tiles := self._queue.get()) is not None:
                start = time.perf_counter()
                frame = draw_tiles(renderer, tiles, self._overlay)
                drawn = time.perf_counter()
                self._writer.write(frame)
                self.render_s += drawn - start
                self.encode_s += time.perf_counter() - drawn
        except BaseException as exc:
            self._failure = exc
        finally:
            renderer.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def put(self, tiles: list[TileState]) -> None:
        """Queue one frame's tiles (waits while the worker is behind); raises what the worker raised."""
        while True:
            self._raise_failure()
            try:
                self._queue.put(tiles, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self._put_end()
            self._thread.join()
            self._raise_failure()
            return
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join()

    def _put_end(self) -> None:
        """Tell the worker the last frame is queued (unless it has stopped already)."""
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=_POLL_S)
                return
            except queue.Full:
                continue
