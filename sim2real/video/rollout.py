"""Record a rollout source as a tiled, captioned H.264 MP4, and report how fast it went.

Frames are taken every ``k`` control steps, where ``k`` makes the frame rate a whole fraction of the
control rate (so frames are evenly spaced in simulated time): by default the control rate itself, or
the largest such fraction at or below 50 fps. A clip of S seconds at F fps holds exactly round(F x S)
frames; the first shows the episodes' initial states.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from sim.render import TiledRenderer
from sim2real.video.mp4 import Mp4Writer, check_video_request
from sim2real.video.pipeline import FramePipeline
from sim2real.video.sources import RolloutSource
from sim2real.video.travel import TravelMeter
from sim2real_runtime.errors import ConfigError

DEFAULT_FPS_CAP = 50.0
"""Without ``--fps``, frames come at the control rate or its largest whole fraction at or below this."""


@dataclass(frozen=True)
class VideoSettings:
    """How the clip looks."""

    seconds: float = 10.0
    """Simulated seconds of video."""
    width: int = 640
    """Frame width in pixels (even)."""
    height: int = 480
    """Frame height in pixels (even)."""
    camera: str = "track"
    """``track`` (follow the base body) or ``fixed`` (look at where it started)."""
    overlay: bool = True
    """Caption every tile (time, command vs measured velocity, reward, runtime mode)."""
    fps: float | None = None
    """Frames per second; must divide the control rate (default: see the module docstring)."""
    progress: bool = True
    """Show a progress bar."""


@dataclass(frozen=True)
class FramePlan:
    """When frames are taken."""

    fps: float
    """Frames per second of video."""
    steps_per_frame: int
    """Control steps between frames."""
    frames: int
    """Frames in the clip."""


def plan_frames(control_dt: float, settings: VideoSettings) -> FramePlan:
    """The frame rate, spacing and count for a clip; one-line errors for rates the control rate cannot give."""
    rate = 1.0 / control_dt
    if settings.fps is None:
        steps = max(1, math.ceil(rate / DEFAULT_FPS_CAP - 1e-9))
    else:
        ratio = rate / settings.fps if settings.fps > 0 else 0.0
        steps = round(ratio)
        if steps < 1 or abs(ratio - steps) > 1e-6 * ratio:
            choices = ", ".join(f"{rate / k:g}" for k in range(1, 6))
            message = f"must be the control rate ({rate:g} Hz) divided by a whole number, e.g. {choices}"
            raise ConfigError.single("--fps", f"{settings.fps:g}", message)
    fps = rate / steps
    frames = round(fps * settings.seconds)
    if not math.isfinite(settings.seconds) or frames < 1:
        raise ConfigError.single("--seconds", f"{settings.seconds:g}", f"must give at least one frame at {fps:g} fps")
    return FramePlan(fps, steps, frames)


@dataclass(frozen=True)
class RolloutReport:
    """The written clip and where the time went."""

    path: Path
    """The MP4 file."""
    plan: FramePlan
    """Frame rate, spacing and count."""
    width: int
    """Frame width."""
    height: int
    """Frame height."""
    tiles: int
    """Envs shown."""
    setup_s: float
    """Seconds to compile and load before the first frame (JIT, onnxruntime sessions); not in ``wall_s``."""
    wall_s: float
    """Seconds from the first frame's step to the closed file."""
    simulate_s: float
    """Seconds in physics and policy (the caller's thread)."""
    render_s: float
    """Seconds drawing tiles and captions (the render thread, overlapping the simulation)."""
    encode_s: float
    """Seconds the render thread spent handing frames to FFmpeg (which encodes in its own process)."""
    travelled_m: tuple[float, ...]
    """Per tile, the farthest planar distance (m) the base got from where its episode started."""

    @property
    def video_s(self) -> float:
        """Seconds of video written."""
        return self.plan.frames / self.plan.fps

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "video": str(self.path),
            "frames": self.plan.frames,
            "fps": self.plan.fps,
            "width": self.width,
            "height": self.height,
            "tiles": self.tiles,
            "setup_s": self.setup_s,
            "video_s": self.video_s,
            "wall_s": self.wall_s,
            "video_s_per_wall_s": self.video_s / self.wall_s,
            "simulate_s": self.simulate_s,
            "render_s": self.render_s,
            "encode_s": self.encode_s,
            "travelled_m": list(self.travelled_m),
        }

    def format(self) -> str:
        """Two readable lines: the clip and its timing, then how far each tile's base travelled."""
        travelled = ", ".join(f"{d:.2f}" for d in self.travelled_m)
        return (
            f"wrote {self.path}: {self.plan.frames} frames {self.width}x{self.height} at {self.plan.fps:g} fps "
            f"({self.video_s:g} s, {self.tiles} tiles) in {self.wall_s:.1f} s = {self.video_s / self.wall_s:.2f} s of "
            f"video per second (simulate {self.simulate_s:.1f} s, render {self.render_s:.1f} s, "
            f"encode {self.encode_s:.1f} s; {self.setup_s:.1f} s of compiling and loading before)\n"
            f"base travelled (farthest planar distance from its episode's start, per tile): {travelled} m"
        )


def record(source: RolloutSource, out: Path, settings: VideoSettings, title: str) -> RolloutReport:
    """Play ``source`` for ``settings.seconds`` and write the clip to ``out`` (all or nothing)."""
    plan = plan_frames(source.control_dt, settings)
    check_video_request(out, settings.width, settings.height, plan.fps)

    def make_renderer() -> TiledRenderer:
        return TiledRenderer(
            source.model, source.base_body, source.num_envs, settings.width, settings.height, settings.camera
        )

    bar = tqdm(total=plan.frames, unit="frame", desc="rendering", disable=not settings.progress, leave=False)
    with (
        Mp4Writer(out, settings.width, settings.height, plan.fps, title) as writer,
        FramePipeline(make_renderer, writer, settings.overlay) as pipeline,
        bar,
    ):
        warming = time.perf_counter()
        source.start()
        source.step()  # compiles and loads everything once, before the clock starts
        bar.reset()  # its rate and time left count from here
        started = time.perf_counter()
        simulate_s = 0.0
        travel = TravelMeter(source.model, source.base_body, source.num_envs)
        for index in range(plan.frames):
            clock = time.perf_counter()
            if index == 0:
                tiles = source.start()
                travel.update(tiles)
            else:
                for _ in range(plan.steps_per_frame):
                    tiles = source.step()
                    travel.update(tiles)
            simulate_s += time.perf_counter() - clock
            pipeline.put(tiles)
            bar.update()
    return RolloutReport(
        out,
        plan,
        settings.width,
        settings.height,
        source.num_envs,
        setup_s=started - warming,
        wall_s=time.perf_counter() - started,
        simulate_s=simulate_s,
        render_s=pipeline.render_s,
        encode_s=pipeline.encode_s,
        travelled_m=tuple(travel.farthest_m),
    )
