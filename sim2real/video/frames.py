"""One video frame: every tile put in its state, rendered, and captioned."""

from __future__ import annotations

import mujoco
import numpy as np

from sim.render import TiledRenderer
from sim2real.video.overlay import TileStatus, draw_caption
from sim2real.video.sources import TileState


def base_velocity(model: mujoco.MjModel, data: mujoco.MjData, body: int) -> np.ndarray:
    """The body's ``(vx, vy, yaw rate)`` in its own frame."""
    velocity = np.empty(6)
    mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, body, velocity, 1)
    return np.array([velocity[3], velocity[4], velocity[2]])


def draw_tiles(renderer: TiledRenderer, tiles: list[TileState], overlay: bool) -> np.ndarray:
    """The frame showing ``tiles`` (captioned when ``overlay``); the array is reused by the next call."""
    for index, tile in enumerate(tiles):
        renderer.set_state(index, tile.qpos, tile.qvel)
    frame = renderer.render()
    if overlay:
        size = (renderer.tile_width, renderer.tile_height)
        for index, tile in enumerate(tiles):
            measured = None
            if tile.command is not None:
                measured = base_velocity(renderer.model, renderer.data[index], renderer.base_id)
            status = TileStatus(tile.episode, tile.time_s, tile.reward, tile.command, measured, tile.mode)
            draw_caption(frame, renderer.tile_origin(index), size, status)
    return frame
