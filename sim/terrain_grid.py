"""A terrain curriculum grid: one heightfield of square tiles, harder level by level (legged_gym style).

A :class:`TerrainGridConfig` lays ``levels x columns`` square tiles of side ``tile_size`` on one height
grid centred on the world origin, so all parallel envs share one MuJoCo model. Level ``l`` (rows of tiles
along world x) has difficulty ``l / (levels - 1)`` (0 when there is one level); column ``c`` (along world
y) has one terrain kind, the kinds taking columns in proportion to ``proportions``. The centre of tile
``(l, c)`` is ``x = (l + 0.5) * tile_size - levels * tile_size / 2``, ``y = (c + 0.5) * tile_size -
columns * tile_size / 2``: a curriculum spawns a robot there and moves it up or down a level.

Each tile is the :class:`~sim.terrain.TerrainConfig` that :func:`tile_config` gives (the ``tile``
template's shape parameters, the column's kind, the level's difficulty, a seed derived from the grid's
seed, the level and the column), so its heights are exactly ``terrain_heights`` of that config. Neighbouring
tiles share the samples on their common edge: such a sample takes the height of the tile with the higher
level (along x) or the higher column (along y), i.e. a tile owns its samples except those on its high-x and
high-y edges, which belong to the next tile (the last level and column own theirs).

The ground between samples, the heightfield in MuJoCo and MJX, and what it costs are as in
:mod:`sim.terrain`. Beyond the grid's edges there is no ground; :func:`grid_height_at` gives the nearest
edge's height there.
"""

from __future__ import annotations

from typing import Annotated, Self

import jax
import mujoco
import numpy as np
from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from sim.robot import Robot
from sim.terrain import (
    ArrayLike,
    TerrainConfig,
    TerrainFeatures,
    TerrainKind,
    add_heightfield,
    heightfield_height,
    robot_on_heightfield,
    terrain_heights,
)
from sim2real_runtime.yaml_io import FILE_MODEL_CONFIG

_GRID_TOLERANCE = 1e-6
"""Relative slack allowed when checking that the resolution divides the tile size."""


def _normalised(proportions: dict[TerrainKind, float]) -> dict[TerrainKind, float]:
    """Check that some kind has a positive share and scale the shares to sum to 1."""
    total = sum(proportions.values())
    if total <= 0.0:
        raise ValueError("give at least one terrain kind a positive share, e.g. {'flat': 1.0}")
    return {kind: share / total for kind, share in proportions.items()}


Proportions = Annotated[dict[TerrainKind, Annotated[float, Field(ge=0.0)]], AfterValidator(_normalised)]
"""Share of the columns per terrain kind (non-negative, some positive), stored normalised to sum to 1."""


class TerrainGridConfig(BaseModel):
    """A grid of square terrain tiles: difficulty rises along x (levels), kinds vary along y (columns)."""

    model_config = FILE_MODEL_CONFIG

    levels: int = Field(6, ge=1, description="Rows of tiles along world x, of difficulty 0 to 1 in equal steps.")
    columns: int = Field(10, ge=1, description="Tiles per level, along world y; the kinds share them by proportion.")
    tile_size: float = Field(4.0, gt=0.0, description="Side length (m) of each square tile.")
    resolution: float = Field(
        0.05, gt=0.0, description="Grid spacing (m) between height samples; must divide tile_size."
    )
    proportions: Proportions = Field(
        {"flat": 0.2, "rough": 0.6, "obstacles": 0.2},
        validate_default=True,
        description="Share of the columns per terrain kind, in column order (normalised; largest-remainder "
        "rounding, and every kind with a positive share gets at least one column).",
    )
    seed: int = Field(0, ge=0, description="Random seed of the grid; each tile's seed derives from it.")
    tile: TerrainFeatures = Field(
        default_factory=TerrainFeatures,
        description="Shape parameters of every tile (roughness, stairs, obstacles, platform); each tile's "
        "kind, size, resolution, difficulty and seed come from the grid.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Cross-field checks: the grid divides the tiles, every kind gets a column, every kind's tile is valid."""
        cells = self.tile_size / self.resolution
        if abs(cells - round(cells)) > _GRID_TOLERANCE * max(1.0, cells) or round(cells) < 2:
            raise ValueError(
                f"resolution {self.resolution} m must divide tile_size {self.tile_size} m into at least 2 cells; "
                f"pick e.g. {self.tile_size / max(2, round(cells))} m"
            )
        kinds = [kind for kind, share in self.proportions.items() if share > 0.0]
        if self.columns < len(kinds):
            raise ValueError(
                f"columns {self.columns} is fewer than the {len(kinds)} kinds with a positive share in proportions; "
                f"use at least {len(kinds)} columns"
            )
        for kind in kinds:
            try:
                _tile_terrain(self, kind, 0.0, 0)
            except ValidationError as error:
                message = error.errors()[0]["msg"].removeprefix("Value error, ")
                raise ValueError(f"tile, for the {kind} tiles: {message}") from None
        return self

    @property
    def cells_per_tile(self) -> int:
        """Grid cells along each side of a tile (``tile_size / resolution``)."""
        return round(self.tile_size / self.resolution)

    @property
    def extent(self) -> tuple[float, float]:
        """Length (m) of the whole grid along x (levels) and along y (columns)."""
        return (self.levels * self.tile_size, self.columns * self.tile_size)


def _tile_terrain(config: TerrainGridConfig, kind: str, difficulty: float, seed: int) -> TerrainConfig:
    """A tile's terrain config (validated): the grid's tile template with this kind, difficulty and seed."""
    return TerrainConfig.model_validate(
        {
            **config.tile.model_dump(),
            "kind": kind,
            "size": config.tile_size,
            "resolution": config.resolution,
            "difficulty": difficulty,
            "seed": seed,
        }
    )


def _column_counts(config: TerrainGridConfig) -> np.ndarray:
    """Columns per kind (in ``proportions`` order): largest remainder, at least one per positive share."""
    shares = np.array(list(config.proportions.values()))
    quota = shares * config.columns
    counts = np.where(shares > 0.0, np.maximum(np.floor(quota), 1.0), 0.0)
    while counts.sum() < config.columns:
        counts[np.argmax(quota - counts)] += 1.0
    while counts.sum() > config.columns:
        counts[np.argmin(np.where(counts > 1.0, quota - counts, np.inf))] -= 1.0
    return counts.astype(int)


def tile_kinds(config: TerrainGridConfig) -> tuple[str, ...]:
    """Terrain kind of each column, in order: each kind's columns side by side, kinds in ``proportions`` order."""
    return tuple(
        kind for kind, count in zip(config.proportions, _column_counts(config), strict=True) for _ in range(count)
    )


def level_difficulty(config: TerrainGridConfig, level: int) -> float:
    """Difficulty of a level: ``level / (levels - 1)``, 0 when there is one level."""
    return level / (config.levels - 1) if config.levels > 1 else 0.0


def tile_config(config: TerrainGridConfig, level: int, column: int) -> TerrainConfig:
    """The terrain of tile ``(level, column)``: its column's kind, its level's difficulty, its own seed."""
    seed = int(np.random.SeedSequence([config.seed, level, column]).generate_state(1)[0])
    return _tile_terrain(config, tile_kinds(config)[column], level_difficulty(config, level), seed)


def tile_centers(config: TerrainGridConfig) -> np.ndarray:
    """World ``(x, y)`` (m) of each tile's centre, shape ``(levels, columns, 2)``."""
    x = (np.arange(config.levels) + 0.5) * config.tile_size - config.extent[0] / 2.0
    y = (np.arange(config.columns) + 0.5) * config.tile_size - config.extent[1] / 2.0
    return np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1)


def grid_heights(config: TerrainGridConfig) -> np.ndarray:
    """Ground height (m) at each sample of the grid, rows along y and columns along x (MuJoCo's hfield layout).

    Shape ``(columns * n + 1, levels * n + 1)`` with ``n = tile_size / resolution``; a sample on an edge
    between tiles takes the height of the tile with the higher level or column.
    """
    n = config.cells_per_tile
    heights = np.zeros((config.columns * n + 1, config.levels * n + 1))
    for level in range(config.levels):
        for column in range(config.columns):
            tile = terrain_heights(tile_config(config, level, column))
            heights[column * n : (column + 1) * n + 1, level * n : (level + 1) * n + 1] = tile
    return heights


def grid_height_at(config: TerrainGridConfig, heights: np.ndarray | jax.Array, x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Ground height (m) under world points ``(x, y)`` of the grid whose ``grid_heights`` are ``heights``.

    The ground between samples is the triangles MuJoCo collides with (as :func:`sim.terrain.height_at`).
    Works on numpy arrays, or on JAX arrays (jit-safe) if any argument is one. Points beyond the grid get
    the height of the nearest edge point.
    """
    return heightfield_height(heights, config.extent, x, y)


def add_terrain_grid(spec: mujoco.MjSpec, config: TerrainGridConfig) -> mujoco.MjsGeom:
    """Make the spec's ``floor`` geom the grid's heightfield and return that geom.

    As :func:`sim.terrain.add_heightfield`: an hfield asset named ``terrain``; the floor keeps its name,
    friction, contype/conaffinity, solver parameters and material; margin and gap become 0 (MJX needs it).
    A spec without a ``floor`` gets one.
    """
    return add_heightfield(spec, grid_heights(config), config.extent)


def robot_on_terrain_grid(robot: Robot, config: TerrainGridConfig) -> Robot:
    """The robot with its MJCF's ``floor`` made the grid (joint and actuator indices unchanged).

    The robot's home pose is kept (it starts at the world origin, z = 0); a task spawns it on a tile with
    :func:`tile_centers` and :func:`grid_height_at`.
    """
    return robot_on_heightfield(robot, grid_heights(config), config.extent)
