"""Terrains for legged tasks: a flat plane, a seeded rough heightfield, a pyramid of stairs, or obstacles.

A :class:`TerrainConfig` describes a square terrain centred on the world origin. ``terrain_heights``
samples it on a regular grid (row ``i`` at ``y = -size/2 + i * resolution``, column ``j`` at
``x = -size/2 + j * resolution``, MuJoCo's hfield layout), ``height_at`` gives the ground height under
world points (numpy or JAX, so a jitted reset can spawn robots on it), and ``add_terrain`` turns the
``floor`` geom of an ``MjSpec`` into that terrain. ``heightfield_height``, ``add_heightfield`` and
``robot_on_heightfield`` do the same for any rectangular height grid centred on the origin (``sim.terrain_grid``
builds one from many terrains).

Obstacles are seeded random axis-aligned boxes, all ``obstacle_height`` tall, on flat ground; like the
stairs they leave a flat spawn platform of ``platform_size`` at the centre.

The ground between samples is the surface MuJoCo collides with: each grid cell is split into two
triangles along its diagonal from ``(x0, y0)`` to ``(x1, y1)``; ``height_at`` interpolates on the same
triangles, so a sphere of radius r resting on a flat patch has its centre at ``height_at + r`` in MuJoCo C
and in MJX alike. A stair riser therefore slopes across one grid cell: pick a resolution well below the
tread width for sharp steps, and an obstacle's sides slope the same way.

Difficulty: ``roughness``, ``step_height`` and ``obstacle_height`` are ``[easy, hard]`` pairs (a single
number means both); the terrain uses ``easy + difficulty * (hard - easy)``. A curriculum builds harder
terrains with ``config.with_difficulty(d)``.

MJX (mujoco-mjx 3.17, ``impl="jax"``) collides a heightfield with spheres, capsules, boxes and convex
meshes only (``hfield_sphere``, ``hfield_capsule``, ``hfield_convex``), and plane-hfield pairs are
skipped. It implements no margin or gap for heightfield pairs, so the terrain geom gets margin 0. A robot
on a terrain is rebuilt through :mod:`sim.model_adaptation`, which makes its cylinders touching the
heightfield capsules, zeroes small margins of its geoms and refuses ellipsoids (:mod:`sim.mjx_limits`).
Each hfield pair reserves 4 contacts (a sphere on a plane reserves 1) and tests the grid cells under the
geom's bounding sphere, so its cost grows with (geom size / resolution)^2: keep feet small spheres and
the resolution no finer than needed.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self, get_args

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator

from sim.ground import FLOOR_GEOM, add_floor
from sim.robot import Robot, rebuilt_robot
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG, LIST_AS_TUPLE

HFIELD_NAME = "terrain"
"""Name of the hfield asset that ``add_terrain`` adds."""
BASE_DEPTH = 0.1
"""Thickness (m) of the solid slab under the heightfield's lowest point (MuJoCo's ``hfield.size[3]``)."""
TerrainKind = Literal["flat", "rough", "stairs", "obstacles"]
"""The kinds of terrain."""
TERRAIN_KINDS: tuple[str, ...] = get_args(TerrainKind)
"""The kinds of terrain, as ``--terrain`` lists them."""
_FLAT_TOLERANCE = 1e-9
"""Elevation range (m) below which a heightfield counts as flat."""
_GRID_TOLERANCE = 1e-6
"""Relative slack allowed when checking that the resolution divides the size."""


def _as_pair(value: object) -> object:
    """Let a single number stand for an ``[easy, hard]`` pair of equal values."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value, value)
    return value


def _check_pair(value: tuple[float, float]) -> tuple[float, float]:
    """Check that an ``[easy, hard]`` pair is non-negative and ordered."""
    if value[0] < 0.0:
        raise ValueError(f"easy value {value[0]} is negative; use a value >= 0")
    if value[0] > value[1]:
        raise ValueError(f"easy value {value[0]} exceeds hard value {value[1]}; list [easy, hard]")
    return value


DifficultyRange = Annotated[tuple[float, float], LIST_AS_TUPLE, BeforeValidator(_as_pair), AfterValidator(_check_pair)]
"""An ``[easy, hard]`` pair in metres (or one number for both), picked between by ``difficulty``."""


def _check_span(value: tuple[float, float]) -> tuple[float, float]:
    """Check that a ``[smallest, largest]`` pair is positive and ordered."""
    if value[0] <= 0.0:
        raise ValueError(f"smallest value {value[0]} is not positive; use a value > 0")
    if value[0] > value[1]:
        raise ValueError(f"smallest value {value[0]} exceeds largest value {value[1]}; list [smallest, largest]")
    return value


SizeRange = Annotated[tuple[float, float], LIST_AS_TUPLE, BeforeValidator(_as_pair), AfterValidator(_check_span)]
"""A ``[smallest, largest]`` pair of lengths in metres (or one number for both), drawn between uniformly."""


class TerrainFeatures(BaseModel):
    """The shape parameters of each kind of terrain, without its kind, size, resolution, difficulty or seed."""

    model_config = FILE_MODEL_CONFIG

    roughness: DifficultyRange = Field(
        (0.0, 0.05), description="Rough: peak height amplitude (m), [easy, hard]; heights lie in +-amplitude."
    )
    feature_length: float = Field(
        0.5,
        gt=0.0,
        description="Rough: spacing (m) of the random lattice the field is interpolated from (bump width); "
        "equal to resolution gives independent noise per sample.",
    )
    step_height: DifficultyRange = Field((0.05, 0.15), description="Stairs: rise (m) of each step, [easy, hard].")
    tread_width: float = Field(0.3, gt=0.0, description="Stairs: run (m) of each step, at least 2 x resolution.")
    platform_size: float = Field(
        1.0, gt=0.0, description="Stairs and obstacles: side (m) of the flat square spawn platform at the centre."
    )
    descending: bool = Field(
        False,
        description="Stairs: if true the steps go down away from the platform (it is a summit); otherwise "
        "they go up (it is a pit). The platform is at height 0 either way.",
    )
    obstacle_height: DifficultyRange = Field(
        (0.02, 0.08), description="Obstacles: height (m) of every box above the ground, [easy, hard]."
    )
    obstacle_width: SizeRange = Field(
        (0.3, 1.0),
        description="Obstacles: [smallest, largest] side (m) of a box; each side is drawn uniformly in it, "
        "the smallest at least 2 x resolution.",
    )
    obstacle_count: int = Field(
        12,
        ge=0,
        description="Obstacles: number of boxes per terrain (overlapping boxes merge; the platform cuts them).",
    )


class TerrainConfig(TerrainFeatures):
    """A square terrain centred on the world origin: flat, rough (procedural heightfield), stairs or obstacles."""

    kind: TerrainKind = Field(
        "flat",
        description="'flat': a plane; 'rough': seeded smooth noise; 'stairs': a pyramid of steps; "
        "'obstacles': seeded random boxes on flat ground.",
    )
    size: float = Field(8.0, gt=0.0, description="Side length (m) of the square terrain.")
    resolution: float = Field(0.05, gt=0.0, description="Grid spacing (m) between height samples; must divide size.")
    difficulty: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="0 picks the easy end of roughness/step_height/obstacle_height, 1 the hard end.",
    )
    seed: int = Field(
        0, ge=0, description="Random seed of the rough field and the obstacles' layout: same seed, same terrain."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Cross-field checks: the grid divides the size; the kind's features fit on the grid."""
        cells = self.size / self.resolution
        if abs(cells - round(cells)) > _GRID_TOLERANCE * max(1.0, cells) or round(cells) < 2:
            raise ValueError(
                f"resolution {self.resolution} m must divide size {self.size} m into at least 2 cells; "
                f"pick e.g. {self.size / max(2, round(cells))} m"
            )
        if self.kind == "rough" and self.feature_length < self.resolution:
            raise ValueError(f"feature_length {self.feature_length} m is below resolution {self.resolution} m")
        if self.kind == "stairs" and self.tread_width < 2.0 * self.resolution:
            raise ValueError(f"tread_width {self.tread_width} m must be at least 2 x resolution ({self.resolution} m)")
        if self.kind == "obstacles" and self.obstacle_width[0] < 2.0 * self.resolution:
            raise ValueError(
                f"obstacle_width {self.obstacle_width[0]} m must be at least 2 x resolution ({self.resolution} m)"
            )
        if self.kind in ("stairs", "obstacles") and self.platform_size >= self.size:
            raise ValueError(f"platform_size {self.platform_size} m must be below size {self.size} m")
        return self

    @property
    def samples(self) -> int:
        """Height samples along each side (``size / resolution + 1``)."""
        return round(self.size / self.resolution) + 1

    @property
    def amplitude(self) -> float:
        """Rough terrain's peak height (m) at this difficulty."""
        low, high = self.roughness
        return low + self.difficulty * (high - low)

    @property
    def rise(self) -> float:
        """Stairs' step height (m) at this difficulty."""
        low, high = self.step_height
        return low + self.difficulty * (high - low)

    @property
    def box_height(self) -> float:
        """Obstacles' box height (m) at this difficulty."""
        low, high = self.obstacle_height
        return low + self.difficulty * (high - low)

    def with_difficulty(self, difficulty: float) -> TerrainConfig:
        """The same terrain at another difficulty (validated)."""
        return TerrainConfig.model_validate({**self.model_dump(), "difficulty": difficulty})


ArrayLike = np.ndarray | jax.Array | float
"""A number or an array of numbers (numpy or JAX)."""


def _grid_coordinates(config: TerrainConfig) -> np.ndarray:
    """World coordinate (m) of each sample along a side, from ``-size/2`` to ``size/2``."""
    return np.arange(config.samples) * config.resolution - config.size / 2.0


def _rough_heights(config: TerrainConfig) -> np.ndarray:
    """Value noise: uniform random heights on a lattice of pitch ``feature_length``, smoothly interpolated."""
    lattice = math.ceil(config.size / config.feature_length) + 2
    values = np.random.default_rng(config.seed).uniform(-1.0, 1.0, (lattice, lattice))
    t = (_grid_coordinates(config) + config.size / 2.0) / config.feature_length
    index = np.minimum(np.floor(t).astype(int), lattice - 2)
    frac = t - index
    weight = frac * frac * (3.0 - 2.0 * frac)
    rows, cols = index[:, None], index[None, :]
    wy, wx = weight[:, None], weight[None, :]
    bottom = values[rows, cols] * (1 - wx) + values[rows, cols + 1] * wx
    top = values[rows + 1, cols] * (1 - wx) + values[rows + 1, cols + 1] * wx
    field = bottom * (1 - wy) + top * wy
    peak = np.abs(field).max()
    return field * (config.amplitude / peak) if peak > 0.0 else field


def _stairs_heights(config: TerrainConfig) -> np.ndarray:
    """Square rings of steps around the platform: ring k (k >= 1) is k rises above or below it.

    Only whole treads fit: the outermost ring also takes the leftover strip at the terrain's edge.
    """
    coords = np.abs(_grid_coordinates(config))
    distance = np.maximum(coords[:, None], coords[None, :])
    beyond = (distance - config.platform_size / 2.0) / config.tread_width
    whole_treads = math.floor((config.size - config.platform_size) / 2.0 / config.tread_width + _GRID_TOLERANCE)
    ring = np.clip(np.ceil(beyond - _GRID_TOLERANCE), 0.0, whole_treads)
    sign = -1.0 if config.descending else 1.0
    return sign * config.rise * ring


def _obstacles_heights(config: TerrainConfig) -> np.ndarray:
    """Boxes with uniformly random centres (anywhere on the terrain) and sides, then the platform cleared."""
    coords = _grid_coordinates(config)
    rng = np.random.default_rng(config.seed)
    centres = rng.uniform(-config.size / 2.0, config.size / 2.0, (config.obstacle_count, 2))
    sides = rng.uniform(*config.obstacle_width, (config.obstacle_count, 2))
    heights = np.zeros((config.samples, config.samples))
    for (cx, cy), (wx, wy) in zip(centres, sides, strict=True):
        inside_x, inside_y = np.abs(coords - cx) <= wx / 2.0, np.abs(coords - cy) <= wy / 2.0
        heights[np.ix_(inside_y, inside_x)] = config.box_height
    platform = np.abs(coords) <= config.platform_size / 2.0 + _GRID_TOLERANCE * config.resolution
    heights[np.ix_(platform, platform)] = 0.0
    return heights


def _flat_heights(config: TerrainConfig) -> np.ndarray:
    """Zero everywhere."""
    return np.zeros((config.samples, config.samples))


_HEIGHTS = {"flat": _flat_heights, "rough": _rough_heights, "stairs": _stairs_heights, "obstacles": _obstacles_heights}
"""The height generator of each terrain kind."""


def terrain_heights(config: TerrainConfig) -> np.ndarray:
    """Ground height (m) at each grid sample, shape ``(samples, samples)``, rows along y and columns along x."""
    return _HEIGHTS[config.kind](config)


def heightfield_height(
    heights: np.ndarray | jax.Array, extent: tuple[float, float], x: ArrayLike, y: ArrayLike
) -> ArrayLike:
    """Ground height (m) under world points ``(x, y)`` on a height grid centred on the world origin.

    ``heights`` has rows along y and columns along x (MuJoCo's hfield layout) and spans ``extent`` =
    ``(length along x, length along y)`` metres; between samples the ground is the triangles MuJoCo collides
    with. Works on numpy arrays, or on JAX arrays (jit-safe) if any argument is one. Points outside the grid
    get the height of the nearest edge point.
    """
    xp = jnp if any(isinstance(a, jax.Array) for a in (heights, x, y)) else np
    last_row, last_col = heights.shape[0] - 1, heights.shape[1] - 1
    gx = xp.clip((xp.asarray(x) + extent[0] / 2.0) * (last_col / extent[0]), 0.0, last_col)
    gy = xp.clip((xp.asarray(y) + extent[1] / 2.0) * (last_row / extent[1]), 0.0, last_row)
    col = xp.minimum(xp.floor(gx), last_col - 1).astype(int)
    row = xp.minimum(xp.floor(gy), last_row - 1).astype(int)
    u, v = gx - col, gy - row
    h = xp.asarray(heights)
    h00, h10 = h[row, col], h[row, col + 1]
    h01, h11 = h[row + 1, col], h[row + 1, col + 1]
    upper = h00 + u * (h11 - h01) + v * (h01 - h00)
    lower = h00 + u * (h10 - h00) + v * (h11 - h10)
    return xp.where(v >= u, upper, lower)


def height_at(config: TerrainConfig, heights: np.ndarray | jax.Array, x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Ground height (m) under world points ``(x, y)`` of the terrain whose ``terrain_heights`` are ``heights``.

    The ground between samples is the triangles MuJoCo collides with. Works on numpy arrays, or on JAX
    arrays (jit-safe) if any argument is one. Points outside the terrain get the height of the nearest
    edge point.
    """
    return heightfield_height(heights, (config.size, config.size), x, y)


def _floor_geom(spec: mujoco.MjSpec, ground: str | None = FLOOR_GEOM) -> mujoco.MjsGeom:
    """The worldbody plane named ``ground``; the project's floor (:func:`sim.ground.add_floor`) if there is none."""
    floor = spec.geom(ground) if ground else None
    if floor is None:
        return add_floor(spec)
    if floor.type != mujoco.mjtGeom.mjGEOM_PLANE or floor.parent != spec.worldbody:
        raise ValueError(f"geom '{ground}' must be a plane in the worldbody to be replaced by a terrain")
    return floor


def add_heightfield(
    spec: mujoco.MjSpec, heights: np.ndarray, extent: tuple[float, float], ground: str | None = FLOOR_GEOM
) -> mujoco.MjsGeom:
    """Make the spec's ground (the geom named ``ground``) a heightfield of ``heights`` centred on the origin.

    ``heights`` (m) has rows along y and columns along x and spans ``extent`` = ``(length along x, length
    along y)`` metres. Adds an hfield asset named ``terrain`` and turns ``floor`` into an hfield geom (its
    name, friction, contype/conaffinity, solver parameters and material stay; margin and gap become 0, which
    MJX needs). A spec without that geom gets the project's ``floor``. Returns the heightfield geom.
    """
    floor = _floor_geom(spec, ground)
    low = float(heights.min())
    elevation = float(heights.max()) - low
    flat = elevation < _FLAT_TOLERANCE
    hfield = spec.add_hfield()
    hfield.name = HFIELD_NAME
    hfield.nrow, hfield.ncol = heights.shape
    hfield.size = [extent[0] / 2.0, extent[1] / 2.0, 1.0 if flat else elevation, BASE_DEPTH]
    normalized = np.zeros_like(heights) if flat else (heights - low) / elevation
    hfield.userdata = normalized.ravel().tolist()
    floor.type = mujoco.mjtGeom.mjGEOM_HFIELD
    floor.hfieldname = HFIELD_NAME
    floor.pos = [0.0, 0.0, low]
    floor.alt.type = mujoco.mjtOrientation.mjORIENTATION_QUAT
    floor.quat = [1.0, 0.0, 0.0, 0.0]
    floor.margin, floor.gap = 0.0, 0.0
    return floor


def add_terrain(spec: mujoco.MjSpec, config: TerrainConfig) -> mujoco.MjsGeom:
    """Make the spec's ``floor`` geom the configured terrain and return that geom.

    Flat keeps the plane. The other kinds become a heightfield (see :func:`add_heightfield`). A spec
    without a ``floor`` gets one.
    """
    if config.kind == "flat":
        return _floor_geom(spec)
    return add_heightfield(spec, terrain_heights(config), (config.size, config.size))


def robot_on_heightfield(robot: Robot, heights: np.ndarray, extent: tuple[float, float]) -> Robot:
    """The robot with its ground made a heightfield (see :func:`add_heightfield`).

    The model is rebuilt from the MJCF through the robot's adaptation (:func:`sim.robot.rebuilt_robot`),
    so what MJX cannot collide with a heightfield is adapted or refused. Joint and actuator indices are
    unchanged; the robot's home pose is kept, so it starts where the floor was (z = 0).
    """

    def lay(spec: mujoco.MjSpec, ground: str | None) -> None:
        try:
            add_heightfield(spec, heights, extent, ground or FLOOR_GEOM)
        except ValueError as exc:
            raise ConfigError.single(robot.mjcf_path, f"geom '{ground}'", f"{exc}; make it a plane") from None

    return rebuilt_robot(robot, lay)


def robot_on_terrain(robot: Robot, config: TerrainConfig) -> Robot:
    """The robot with its MJCF's ``floor`` made the configured terrain (joint and actuator indices unchanged).

    The robot's home pose is kept, so on generated ground the robot starts where the floor was (z = 0);
    :func:`height_at` gives the ground under it for tasks that spawn robots on the terrain.
    """
    if config.kind == "flat":
        return robot
    return robot_on_heightfield(robot, terrain_heights(config), (config.size, config.size))
