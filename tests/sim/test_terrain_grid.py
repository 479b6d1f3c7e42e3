"""Terrain curriculum grid: column allocation, layout, per-tile heights, difficulty, the MuJoCo model and MJX."""

import functools

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest
from pydantic import ValidationError

from sim.mjx_import import mjx
from sim.robot import load_robot
from sim.terrain import FLOOR_GEOM, height_at, terrain_heights
from sim.terrain_grid import (
    TerrainGridConfig,
    add_terrain_grid,
    grid_height_at,
    grid_heights,
    level_difficulty,
    robot_on_terrain_grid,
    tile_centers,
    tile_config,
    tile_kinds,
)

SMALL = {
    "levels": 3,
    "columns": 4,
    "tile_size": 2.0,
    "resolution": 0.1,
    "proportions": {"flat": 1.0, "rough": 1.0, "stairs": 1.0, "obstacles": 1.0},
    "seed": 7,
    "tile": {
        "roughness": (0.01, 0.05),
        "platform_size": 0.6,
        "obstacle_width": (0.2, 0.5),
        "obstacle_count": 6,
    },
}
"""Three levels of 2 m tiles on a 0.1 m grid, one column of each kind: 81 x 61 samples (rows along y)."""
SCENE = """
<mujoco>
  <compiler angle="radian"/>
  <asset><material name="ground" rgba="0.5 0.5 0.5 1"/></asset>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 0.05" contype="0" conaffinity="1" friction="0.8 0.005 0.0001"
          material="ground"/>
  </worldbody>
</mujoco>
"""


@functools.cache
def small_grid(**overrides):
    config = TerrainGridConfig(**{**SMALL, **overrides})
    return config, grid_heights(config)


def owned(config, heights, level, column):
    """The samples tile (level, column) owns: all but its high-x / high-y edge, unless it is the grid's last."""
    n = config.cells_per_tile
    rows = slice(column * n, (column + 1) * n + (column == config.columns - 1))
    cols = slice(level * n, (level + 1) * n + (level == config.levels - 1))
    return heights[rows, cols], (slice(0, rows.stop - rows.start), slice(0, cols.stop - cols.start))


def test_default_grid_gives_two_flat_six_rough_and_two_obstacle_columns_on_481_by_801_samples():
    config = TerrainGridConfig()
    assert tile_kinds(config) == ("flat",) * 2 + ("rough",) * 6 + ("obstacles",) * 2
    assert grid_heights(config).shape == (801, 481)


@pytest.mark.parametrize(
    ("proportions", "columns", "expected"),
    [
        ({"flat": 1.0, "rough": 1.0, "stairs": 1.0}, 10, ("flat",) * 4 + ("rough",) * 3 + ("stairs",) * 3),
        ({"rough": 0.9, "stairs": 0.05, "obstacles": 0.05}, 5, ("rough",) * 3 + ("stairs", "obstacles")),
        ({"rough": 3.0, "flat": 1.0}, 4, ("rough",) * 3 + ("flat",)),
        ({"rough": 1.0, "stairs": 0.0}, 3, ("rough",) * 3),
    ],
)
def test_kinds_get_columns_by_largest_remainder_and_every_positive_share_at_least_one(proportions, columns, expected):
    assert tile_kinds(TerrainGridConfig(proportions=proportions, columns=columns)) == expected


def test_proportions_are_normalised():
    assert TerrainGridConfig(proportions={"flat": 1.0, "rough": 3.0}).proportions == {"flat": 0.25, "rough": 0.75}


def test_tile_centres_are_laid_out_levels_along_x_and_columns_along_y_around_the_origin():
    config, _ = small_grid()
    centres = tile_centers(config)
    assert centres.shape == (3, 4, 2)
    np.testing.assert_allclose(centres[:, 0, 0], [-2.0, 0.0, 2.0])
    np.testing.assert_allclose(centres[0, :, 1], [-3.0, -1.0, 1.0, 3.0])
    np.testing.assert_allclose(centres[2, 3], [2.0, 3.0])


def test_each_tile_holds_the_heights_of_its_own_terrain_config():
    config, heights = small_grid()
    seeds = set()
    for level in range(config.levels):
        for column, kind in enumerate(tile_kinds(config)):
            tile = tile_config(config, level, column)
            assert (tile.kind, tile.size, tile.resolution) == (kind, config.tile_size, config.resolution)
            assert tile.difficulty == level_difficulty(config, level)
            assert tile.platform_size == 0.6
            seeds.add(tile.seed)
            block, region = owned(config, heights, level, column)
            np.testing.assert_array_equal(block, terrain_heights(tile)[region])
    assert len(seeds) == config.levels * config.columns


def test_a_tile_centre_has_the_height_of_its_own_terrain_centre():
    config, heights = small_grid()
    centres = tile_centers(config)
    for level in range(config.levels):
        for column in range(config.columns):
            tile = tile_config(config, level, column)
            x, y = centres[level, column]
            grid = grid_height_at(config, heights, x + 0.13, y - 0.27)
            assert grid == pytest.approx(height_at(tile, terrain_heights(tile), 0.13, -0.27), abs=1e-12)


def test_levels_run_from_difficulty_zero_to_one_in_equal_steps():
    config, _ = small_grid()
    assert [level_difficulty(config, level) for level in range(3)] == [0.0, 0.5, 1.0]
    assert level_difficulty(TerrainGridConfig(levels=1), 0) == 0.0


def test_rough_amplitude_and_obstacle_height_rise_with_the_level():
    config, heights = small_grid()
    kinds = tile_kinds(config)
    rough, obstacles = kinds.index("rough"), kinds.index("obstacles")
    amplitude = [np.abs(terrain_heights(tile_config(config, level, rough))).max() for level in range(3)]
    np.testing.assert_allclose(amplitude, [0.01, 0.03, 0.05])
    boxes = [owned(config, heights, level, obstacles)[0].max() for level in range(3)]
    np.testing.assert_allclose(boxes, [0.02, 0.05, 0.08])


@pytest.mark.parametrize("kind", ["stairs", "obstacles"])
def test_the_platform_at_each_stairs_and_obstacles_tile_centre_is_flat(kind):
    config, heights = small_grid()
    column = tile_kinds(config).index(kind)
    offsets = np.random.default_rng(0).uniform(-0.3, 0.3, (50, 2))
    for level in range(config.levels):
        x, y = tile_centers(config)[level, column]
        ground = grid_height_at(config, heights, x + offsets[:, 0], y + offsets[:, 1])
        np.testing.assert_allclose(ground, 0.0, atol=1e-12)
        assert np.ptp(owned(config, heights, level, column)[0]) > 0.0


def test_same_seed_gives_the_same_grid_and_another_seed_a_different_one():
    _, first = small_grid()
    _, other = small_grid(seed=8)
    np.testing.assert_array_equal(first, grid_heights(TerrainGridConfig(**SMALL)))
    assert np.abs(first - other).max() > 0.01


def compiled_small_grid():
    config, heights = small_grid()
    spec = mujoco.MjSpec.from_string(SCENE)
    add_terrain_grid(spec, config)
    return config, heights, spec.compile()


def test_grid_height_at_matches_a_mujoco_ray_cast_onto_the_hfield():
    config, heights, model = compiled_small_grid()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (300, 2)) * config.extent
    hit = np.zeros(1, dtype=np.int32)
    ray = [
        5.0 - mujoco.mj_ray(model, data, np.array([x, y, 5.0]), np.array([0.0, 0.0, -1.0]), None, True, -1, hit)
        for x, y in points
    ]
    np.testing.assert_allclose(grid_height_at(config, heights, points[:, 0], points[:, 1]), ray, atol=1e-6)


def test_the_grid_floor_keeps_its_contact_settings_and_spans_the_grid():
    _, heights, model = compiled_small_grid()
    floor = model.geom(FLOOR_GEOM)
    assert floor.type[0] == mujoco.mjtGeom.mjGEOM_HFIELD
    assert (floor.contype[0], floor.conaffinity[0]) == (0, 1)
    assert (floor.margin[0], floor.gap[0]) == (0.0, 0.0)
    np.testing.assert_allclose(floor.friction, [0.8, 0.005, 0.0001])
    assert floor.matid[0] == model.material("ground").id
    assert (model.hfield_nrow[0], model.hfield_ncol[0]) == heights.shape == (81, 61)
    np.testing.assert_allclose(model.hfield_size[0, :2], [3.0, 4.0])


def test_grid_height_at_gives_the_nearest_edge_beyond_the_grid():
    config, heights = small_grid()
    assert grid_height_at(config, heights, 10.0, -10.0) == heights[0, -1]
    assert grid_height_at(config, heights, -10.0, 10.0) == heights[-1, 0]


def test_grid_height_at_runs_under_jit_on_jax_arrays():
    config, heights = small_grid()
    points = np.random.default_rng(1).uniform(-0.5, 0.5, (20, 2)) * config.extent
    lookup = jax.jit(lambda h, p: grid_height_at(config, h, p[:, 0], p[:, 1]))
    np.testing.assert_allclose(
        lookup(jnp.asarray(heights), jnp.asarray(points)),
        grid_height_at(config, heights, points[:, 0], points[:, 1]),
        atol=1e-6,
    )


def test_the_quadruped_stands_on_the_default_grid_with_its_joints_and_loads_in_mjx():
    robot = load_robot("quadruped")
    on_grid = robot_on_terrain_grid(robot, TerrainGridConfig())
    model = on_grid.mj_model
    assert model.nhfield == 1 and model.geom(FLOOR_GEOM).type == mujoco.mjtGeom.mjGEOM_HFIELD
    assert (model.hfield_nrow[0], model.hfield_ncol[0]) == (801, 481)
    assert (model.nq, model.nv, model.nu) == (robot.mj_model.nq, robot.mj_model.nv, robot.mj_model.nu)
    assert on_grid.joint_names == robot.joint_names and (on_grid.qpos_adr == robot.qpos_adr).all()
    mjx_model = mjx.put_model(model, impl="jax")
    assert mjx_model.hfield_data.shape == (801 * 481,)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"levels": 0}, "levels"),
        ({"columns": 3}, "columns"),
        ({"tile_size": -1.0}, "tile_size"),
        ({"resolution": 0.3}, "resolution"),
        ({"resolution": 1.5}, "resolution"),
        ({"proportions": {}}, "proportions"),
        ({"proportions": {"lava": 1.0}}, "proportions"),
        ({"proportions": {"rough": -1.0, "flat": 2.0}}, "proportions"),
        ({"proportions": {"rough": 0.0}}, "proportions"),
        ({"seed": -1}, "seed"),
        ({"tile": {"size": 3.0}}, "tile.size"),
        ({"tile": {"tread_width": 0.15}}, "tread_width"),
        ({"tile": {"obstacle_width": (0.1, 0.5)}}, "obstacle_width"),
        ({"tile": {"platform_size": 2.0}}, "platform_size"),
        ({"tile": {"roughness": (float("nan"), 0.05)}}, "roughness"),
        ({"bumpiness": 1.0}, "bumpiness"),
    ],
)
def test_bad_values_are_refused_in_one_error_naming_the_field(overrides, field):
    with pytest.raises(ValidationError, match=field) as error:
        TerrainGridConfig(**{**SMALL, **overrides})
    assert error.value.error_count() == 1


def test_config_is_frozen():
    with pytest.raises(ValidationError):
        small_grid()[0].levels = 5
