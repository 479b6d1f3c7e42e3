"""How far each tile's robot got across the floor: the base's planar distance from where its episode started."""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.video.sources import TileState


class TravelMeter:
    """Per tile, the farthest planar (x, y) distance the base body got from its position at its episode's start."""

    def __init__(self, model: mujoco.MjModel, base_body: str, tiles: int) -> None:
        self._model, self._data = model, mujoco.MjData(model)
        self._base = model.body(base_body).id
        self._episodes = [0] * tiles
        self._starts = np.zeros((tiles, 2))
        self.farthest_m = [0.0] * tiles
        """Per tile, the farthest distance (m) so far, over all its episodes."""

    def _base_xy(self, tile: TileState) -> np.ndarray:
        self._data.qpos[:] = tile.qpos
        mujoco.mj_kinematics(self._model, self._data)
        return self._data.xpos[self._base, :2].copy()

    def update(self, tiles: list[TileState]) -> None:
        """Take the tiles after a control step (or an episode's start, which resets that tile's start point)."""
        for index, tile in enumerate(tiles):
            xy = self._base_xy(tile)
            if tile.episode != self._episodes[index]:
                self._episodes[index], self._starts[index] = tile.episode, xy
            distance = float(np.linalg.norm(xy - self._starts[index]))
            self.farthest_m[index] = max(self.farthest_m[index], distance)
