"""Tiled headless rendering with MuJoCo's renderer: N copies of a model side by side in one frame.

Each tile shows one physics state (``qpos``, ``qvel``) through its own camera: ``track`` follows the
robot's base body at a fixed distance and angle, ``fixed`` looks at where the base starts from further
away. Shadows and reflections are off, and so is multisampling on software OpenGL (Mesa's llvmpipe,
what EGL gives on a machine without a GPU): each would cost as much as the rest of the frame there.
"""

from __future__ import annotations

import copy
import math
import os

import mujoco
import numpy as np

from sim.headless_gl import headless_gl_problem
from sim2real_runtime.errors import ConfigError

CAMERAS = ("track", "fixed")
"""Camera modes: follow the base body, or stay where the base started."""

SMALLEST_TILE = 32
"""Fewest pixels a tile may have on a side."""

_ELEVATION_DEG = -20.0
_AZIMUTH_DEG = 90.0  # looking along +y: a side view of motion along x


def grid_shape(tiles: int) -> tuple[int, int]:
    """``(rows, columns)`` of the most nearly square grid holding ``tiles`` tiles (columns >= rows)."""
    columns = math.ceil(math.sqrt(tiles))
    return math.ceil(tiles / columns), columns


def open_gl_renderer(model: mujoco.MjModel, height: int, width: int) -> mujoco.Renderer:
    """``mujoco.Renderer`` of that size; one-line :class:`ConfigError` when no OpenGL context opens."""
    backend = os.environ.get("MUJOCO_GL", "")
    if backend == "disable":
        raise ConfigError.single("MUJOCO_GL", backend, headless_gl_problem())
    try:
        return mujoco.Renderer(model, height, width)
    except Exception as exc:  # the GL backends raise ImportError, RuntimeError, FatalError, GLError...
        raise ConfigError.single("MUJOCO_GL", backend or "unset", headless_gl_problem(exc)) from None


def is_software_gl(model: mujoco.MjModel) -> bool:
    """Whether MuJoCo's OpenGL context renders on the CPU (llvmpipe, softpipe, swrast)."""
    probe = open_gl_renderer(model, 16, 16)
    try:
        from OpenGL import GL  # PyOpenGL, a MuJoCo dependency; the probe's context is current

        name = bytes(GL.glGetString(GL.GL_RENDERER) or b"").lower()
    finally:
        probe.close()
    return any(word in name for word in (b"llvmpipe", b"softpipe", b"swrast"))


def robot_extent(model: mujoco.MjModel, data: mujoco.MjData, body_id: int) -> float:
    """Radius of the sphere around the body's subtree centre of mass that holds the subtree's geoms."""
    centre = data.subtree_com[body_id]
    reach = [
        np.linalg.norm(data.geom_xpos[g] - centre) + model.geom_rbound[g]
        for g in range(model.ngeom)
        if _in_subtree(model, int(model.geom_bodyid[g]), body_id)
    ]
    return float(max(reach)) if reach else float(model.stat.extent)


def _in_subtree(model: mujoco.MjModel, body: int, root: int) -> bool:
    """Whether ``body`` is ``root`` or one of its descendants."""
    while body not in (root, 0):
        body = int(model.body_parentid[body])
    return body == root


class TiledRenderer:
    """Renders ``tiles`` physics states of one model into a ``height`` x ``width`` RGB frame."""

    def __init__(self, model: mujoco.MjModel, base_body: str, tiles: int, width: int, height: int, camera: str) -> None:
        if camera not in CAMERAS:
            raise ConfigError.single("--camera", camera, f"unknown camera; choose one of: {', '.join(CAMERAS)}")
        self.rows, self.columns = grid_shape(tiles)
        self.tile_width, self.tile_height = width // self.columns, height // self.rows
        if min(self.tile_width, self.tile_height) < SMALLEST_TILE:
            message = (
                f"{tiles} tiles in {width}x{height} are {self.tile_width}x{self.tile_height} pixels each; "
                f"show fewer envs or make the frame larger (tiles need {SMALLEST_TILE} pixels a side)"
            )
            raise ConfigError.single("--num-envs", str(tiles), message)
        self.width, self.height = width, height
        self.model = copy.deepcopy(model)
        visual = self.model.vis.global_
        visual.offwidth = max(visual.offwidth, self.tile_width)
        visual.offheight = max(visual.offheight, self.tile_height)
        if is_software_gl(self.model):
            self.model.vis.quality.offsamples = 0
        self.data = [mujoco.MjData(self.model) for _ in range(tiles)]
        self.base_id = self.model.body(base_body).id
        start = self.data[0]
        mujoco.mj_forward(self.model, start)
        extent = max(robot_extent(self.model, start, self.base_id), 0.25)
        self._cameras = [self._camera(camera, extent, start.subtree_com[self.base_id]) for _ in range(tiles)]
        self._renderer = open_gl_renderer(self.model, self.tile_height, self.tile_width)
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION):
            self._renderer.scene.flags[flag] = False
        self._frame = np.zeros((height, width, 3), np.uint8)

    def _camera(self, mode: str, extent: float, start: np.ndarray) -> mujoco.MjvCamera:
        camera = mujoco.MjvCamera()
        camera.elevation, camera.azimuth = _ELEVATION_DEG, _AZIMUTH_DEG
        if mode == "track":
            camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
            camera.trackbodyid = self.base_id
            camera.distance = 3.0 * extent
        else:
            camera.type = mujoco.mjtCamera.mjCAMERA_FREE
            camera.lookat[:] = start
            camera.distance = 5.0 * extent
        return camera

    def tile_origin(self, index: int) -> tuple[int, int]:
        """Pixel ``(x, y)`` of tile ``index``'s top-left corner (tiles fill rows left to right)."""
        row, column = divmod(index, self.columns)
        return column * self.tile_width, row * self.tile_height

    def set_state(self, index: int, qpos: np.ndarray, qvel: np.ndarray) -> mujoco.MjData:
        """Put tile ``index`` in state ``(qpos, qvel)`` (kinematics and velocities computed); returns its data."""
        data = self.data[index]
        data.qpos[:] = qpos
        data.qvel[:] = qvel
        mujoco.mj_forward(self.model, data)
        return data

    def render(self) -> np.ndarray:
        """The frame of every tile's current state (the returned array is reused by the next call)."""
        for index, (data, camera) in enumerate(zip(self.data, self._cameras, strict=True)):
            self._renderer.update_scene(data, camera)
            x, y = self.tile_origin(index)
            self._frame[y : y + self.tile_height, x : x + self.tile_width] = self._renderer.render()
        return self._frame

    def close(self) -> None:
        """Free the OpenGL context."""
        self._renderer.close()
