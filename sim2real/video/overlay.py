"""Captions drawn on each tile: time, command vs measured base velocity, step reward, runtime mode."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TEXT = (240, 240, 240)
_ALERT = (255, 90, 70)
_BORDER = (20, 20, 20)


@dataclass(frozen=True)
class TileStatus:
    """What one tile's caption reports after a control step."""

    episode: int
    """Episodes this tile has started (1 for the first)."""
    time_s: float
    """Seconds since the episode started."""
    reward: float | None
    """Reward of the last control step (None where there is no task)."""
    command: np.ndarray | None = None
    """Commanded base velocity ``(vx, vy, yaw rate)``, for commanded tasks."""
    measured: np.ndarray | None = None
    """Measured base velocity ``(vx, vy, yaw rate)`` in the base frame, for commanded tasks."""
    mode: str | None = None
    """The runtime's mode (``ACTIVE``, ``DAMP: fault``, drawn in red) where the safety filter runs."""


def caption_lines(status: TileStatus) -> list[str]:
    """The caption's text, one entry per line."""
    reward = "" if status.reward is None else f"  r {status.reward:+.3f}"
    lines = [f"ep {status.episode}  t {status.time_s:5.2f} s{reward}"]
    if status.command is not None and status.measured is not None:
        lines.append("cmd  " + " ".join(f"{v:+.2f}" for v in status.command) + "  (vx vy wz)")
        lines.append("meas " + " ".join(f"{v:+.2f}" for v in status.measured))
    if status.mode is not None:
        lines.append(status.mode)
    return lines


def draw_caption(frame: np.ndarray, origin: tuple[int, int], tile_size: tuple[int, int], status: TileStatus) -> None:
    """Draw ``status`` in the top-left corner of the tile at ``origin`` (pixels) of size ``(width, height)``."""
    x, y = origin
    width, height = tile_size
    scale = max(0.3, min(width / 640.0, height / 480.0) * 0.8)
    thickness = 1 if scale < 0.7 else 2
    line_height = round(22 * scale) + 2
    lines = caption_lines(status)
    text_width = max(cv2.getTextSize(line, _FONT, scale, thickness)[0][0] for line in lines)
    box_right, box_bottom = min(x + text_width + 8, x + width), min(y + line_height * len(lines) + 6, y + height)
    region = frame[y:box_bottom, x:box_right]
    region[...] = (region * 0.45).astype(np.uint8)
    alert = status.mode is not None and status.mode.startswith("DAMP")
    for index, line in enumerate(lines):
        colour = _ALERT if alert and index == len(lines) - 1 else _TEXT
        baseline = y + line_height * (index + 1)
        cv2.putText(frame, line, (x + 4, baseline), _FONT, scale, colour, thickness, cv2.LINE_AA)
    frame[y : y + height, x + width - 1 : x + width] = _BORDER
    frame[y + height - 1 : y + height, x : x + width] = _BORDER
