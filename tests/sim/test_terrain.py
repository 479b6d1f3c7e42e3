"""Terrains: generated heights, config validation, the MuJoCo model, and bodies resting on it in MuJoCo C and MJX.

Drop test: a sphere (r 5 cm) and a capsule lying along x (r 4 cm) fall 1 cm onto each terrain at four
points; their free joints are damped (2 N s/m, 2 N m s/rad) so they settle within 0.75 s instead of
rocking. The sphere's centre must end at ``height_at + radius`` within 2 mm (measured: 0.5 mm at worst,
from contact softness and, on rough ground, the slope under the sphere); the capsule does the same where
the ground under it is flat (flat, stair treads). MJX (float32) and MuJoCo C (float64) agree on every final
position within 3 mm (measured: 0.06 mm for spheres, 1 mm for capsules on rough ground).
"""

import functools

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest
from pydantic import ValidationError

from sim.mjx_import import mjx
from sim.robot import load_robot
from sim.terrain import (
    FLOOR_GEOM,
    TERRAIN_KINDS,
    TerrainConfig,
    add_terrain,
    height_at,
    robot_on_terrain,
    terrain_heights,
)

SCENE = """
<mujoco>
  <compiler angle="radian"/>
  <option timestep="0.005" iterations="8" ls_iterations="8"/>
  <asset><material name="ground" rgba="0.5 0.5 0.5 1"/></asset>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 0.05" contype="0" conaffinity="1" friction="0.8 0.005 0.0001"
          material="ground"/>
    <body name="ball">
      <joint type="free" damping="2"/>
      <geom type="sphere" size="0.05" mass="1" contype="1" conaffinity="0"/>
    </body>
    <body name="rod">
      <joint type="free" damping="2"/>
      <geom type="capsule" size="0.04 0.1" euler="0 1.5707963 0" mass="1" contype="1" conaffinity="0"/>
    </body>
  </worldbody>
</mujoco>
"""
SPHERE_RADIUS = 0.05
CAPSULE_RADIUS = 0.04
DROP = 0.01
STEPS = 150
REST_TOLERANCE = 2e-3
C_MJX_TOLERANCE = 3e-3
SMALL = {
    "size": 2.0,
    "resolution": 0.1,
    "roughness": 0.04,
    "feature_length": 0.5,
    "step_height": 0.1,
    "tread_width": 0.3,
    "platform_size": 0.6,
    "obstacle_height": 0.05,
    "obstacle_width": (0.2, 0.5),
    "obstacle_count": 6,
    "seed": 3,
}
"""A 2 m terrain on a 21 x 21 grid: stair treads centred at 0.5 m and 0.8 m from the centre; 6 obstacles."""
KINDS = ["flat", "rough", "stairs"]
SPHERE_POINTS = np.array([[0.0, 0.0], [0.5, 0.1], [-0.1, -0.8], [0.8, 0.8]])
CAPSULE_POINTS = np.array([[0.0, 0.0], [0.0, 0.5], [0.1, -0.8], [0.0, -0.5]])
"""Where the capsule (axis along x) lies along a stair tread or on the platform."""


def small(kind, **overrides):
    return TerrainConfig(kind=kind, **{**SMALL, **overrides})


def scene(config, xml=SCENE):
    spec = mujoco.MjSpec.from_string(xml)
    add_terrain(spec, config)
    return spec.compile()


def test_same_seed_gives_the_same_field_and_another_seed_a_different_one():
    first, again = terrain_heights(small("rough")), terrain_heights(small("rough"))
    other = terrain_heights(small("rough", seed=4))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0.01


def test_roughness_is_the_peak_amplitude_and_scales_the_peak_to_peak():
    low, high = terrain_heights(small("rough", roughness=0.02)), terrain_heights(small("rough", roughness=0.04))
    assert np.abs(high).max() == pytest.approx(0.04)
    assert np.ptp(high) == pytest.approx(2.0 * np.ptp(low))
    assert np.ptp(high) > 0.04


def test_difficulty_picks_between_the_easy_and_hard_values():
    config = small("rough", roughness=(0.02, 0.06), step_height=(0.04, 0.12), obstacle_height=(0.02, 0.1))
    assert config.with_difficulty(0.0).amplitude == pytest.approx(0.02)
    assert config.with_difficulty(0.5).amplitude == pytest.approx(0.04)
    assert config.with_difficulty(1.0).rise == pytest.approx(0.12)
    assert config.with_difficulty(0.25).box_height == pytest.approx(0.04)
    assert np.abs(terrain_heights(config.with_difficulty(0.5))).max() == pytest.approx(0.04)


def test_a_single_number_means_the_same_value_at_every_difficulty():
    assert small("rough", roughness=0.03, difficulty=0.2).roughness == (0.03, 0.03)


@pytest.mark.parametrize("descending", [False, True])
def test_stairs_terraces_differ_by_the_step_height_around_a_flat_centre(descending):
    config = small("stairs", descending=descending)
    heights = terrain_heights(config)
    sign = -1.0 if descending else 1.0
    levels = np.unique(np.round(heights / (sign * config.rise), 9))
    np.testing.assert_allclose(levels, np.arange(len(levels)))
    assert len(levels) == 3
    coords = np.arange(config.samples) * config.resolution - config.size / 2
    platform = np.abs(coords) <= config.platform_size / 2 + 1e-9
    assert np.all(heights[np.ix_(platform, platform)] == 0.0)
    centre_row = heights[config.samples // 2]
    np.testing.assert_allclose(np.diff(np.unique(centre_row)), config.rise)


def test_obstacles_are_boxes_of_the_obstacle_height_around_a_flat_platform():
    config = small("obstacles")
    heights = terrain_heights(config)
    np.testing.assert_array_equal(np.unique(heights), [0.0, 0.05])
    coords = np.arange(config.samples) * config.resolution - config.size / 2
    platform = np.abs(coords) <= config.platform_size / 2 + 1e-9
    assert np.all(heights[np.ix_(platform, platform)] == 0.0)
    np.testing.assert_array_equal(heights, terrain_heights(small("obstacles")))
    assert np.abs(heights - terrain_heights(small("obstacles", seed=4))).max() > 0.0


def test_no_obstacles_leave_flat_ground():
    assert np.all(terrain_heights(small("obstacles", obstacle_count=0)) == 0.0)


def test_flat_terrain_is_zero_everywhere():
    config = small("flat")
    assert np.all(terrain_heights(config) == 0.0)
    assert float(height_at(config, terrain_heights(config), 0.3, -0.7)) == 0.0


@pytest.mark.parametrize("kind", ["rough", "stairs", "obstacles"])
def test_height_at_matches_a_mujoco_ray_cast_onto_the_hfield(kind):
    config = small(kind)
    model = scene(config)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    points = np.random.default_rng(0).uniform(-1.0, 1.0, (100, 2))
    hit = np.zeros(1, dtype=np.int32)
    ray = [
        5.0 - mujoco.mj_ray(model, data, np.array([x, y, 5.0]), np.array([0.0, 0.0, -1.0]), None, True, -1, hit)
        for x, y in points
    ]
    np.testing.assert_allclose(height_at(config, terrain_heights(config), points[:, 0], points[:, 1]), ray, atol=1e-6)


def test_height_at_gives_the_samples_on_the_grid_and_the_edge_outside_it():
    config = small("rough")
    heights = terrain_heights(config)
    coords = np.arange(config.samples) * config.resolution - config.size / 2
    x, y = np.meshgrid(coords, coords)
    np.testing.assert_allclose(height_at(config, heights, x, y), heights, atol=1e-12)
    np.testing.assert_allclose(height_at(config, heights, 5.0, -7.0), heights[0, -1])


def test_height_at_runs_under_jit_on_jax_arrays():
    config = small("rough")
    heights = terrain_heights(config)
    points = np.random.default_rng(1).uniform(-1.0, 1.0, (20, 2))
    lookup = jax.jit(lambda h, p: height_at(config, h, p[:, 0], p[:, 1]))
    np.testing.assert_allclose(
        lookup(jnp.asarray(heights), jnp.asarray(points)),
        height_at(config, heights, points[:, 0], points[:, 1]),
        atol=1e-6,
    )


@pytest.mark.parametrize("kind", TERRAIN_KINDS)
def test_each_kind_compiles_into_a_model_whose_floor_keeps_its_contact_settings(kind):
    model = scene(small(kind))
    floor = model.geom(FLOOR_GEOM)
    expected = mujoco.mjtGeom.mjGEOM_PLANE if kind == "flat" else mujoco.mjtGeom.mjGEOM_HFIELD
    assert floor.type[0] == expected
    assert model.nhfield == (0 if kind == "flat" else 1)
    assert (floor.contype[0], floor.conaffinity[0]) == (0, 1)
    np.testing.assert_allclose(floor.friction, [0.8, 0.005, 0.0001])
    assert floor.matid[0] == model.material("ground").id


def test_hfield_holds_the_heights_mujoco_collides_with():
    config = small("rough")
    model = scene(config)
    heights = terrain_heights(config)
    size = model.hfield_size[0]
    world = model.geom(FLOOR_GEOM).pos[2] + model.hfield_data.reshape(heights.shape) * size[2]
    np.testing.assert_allclose(world, heights, atol=1e-7)
    np.testing.assert_allclose(size[:2], config.size / 2)


def test_a_spec_without_a_floor_gets_the_terrain_anyway():
    spec = mujoco.MjSpec()
    add_terrain(spec, small("stairs"))
    model = spec.compile()
    floor = model.geom(FLOOR_GEOM)
    assert floor.type[0] == mujoco.mjtGeom.mjGEOM_HFIELD
    assert (floor.contype[0], floor.conaffinity[0]) == (0, 1)


def test_a_floor_that_is_not_a_plane_is_refused():
    spec = mujoco.MjSpec.from_string(
        '<mujoco><worldbody><geom name="floor" type="box" size="1 1 1"/></worldbody></mujoco>'
    )
    with pytest.raises(ValueError, match="must be a plane"):
        add_terrain(spec, small("rough"))


@pytest.mark.parametrize(
    ("geom", "supported"),
    [("sphere", True), ("capsule", True), ("box", True), ("cylinder", False), ("ellipsoid", False)],
)
def test_mjx_collides_hfields_with_spheres_capsules_and_boxes_only(geom, supported):
    xml = f"""<mujoco><worldbody><geom name="floor" type="plane" size="0 0 0.05" contype="0" conaffinity="1"/>
    <body><freejoint/><geom type="{geom}" size="0.05 0.05 0.05" contype="1" conaffinity="0"/></body>
    </worldbody></mujoco>"""
    model = scene(small("rough"), xml)
    if supported:
        mjx.put_model(model, impl="jax")
    else:
        with pytest.raises(NotImplementedError, match="collisions not implemented"):
            mjx.put_model(model, impl="jax")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"roughness": -0.01}, "roughness"),
        ({"roughness": (0.05, 0.02)}, "roughness"),
        ({"step_height": -0.1}, "step_height"),
        ({"resolution": 0.3}, "resolution"),
        ({"resolution": 1.5}, "resolution"),
        ({"size": 0.0}, "size"),
        ({"difficulty": 1.5}, "difficulty"),
        ({"seed": -1}, "seed"),
        ({"roughness": float("nan")}, "roughness"),
        ({"feature_length": 0.05, "kind": "rough"}, "feature_length"),
        ({"tread_width": 0.15, "kind": "stairs"}, "tread_width"),
        ({"platform_size": 2.0, "kind": "stairs"}, "platform_size"),
        ({"platform_size": 2.0, "kind": "obstacles"}, "platform_size"),
        ({"obstacle_width": (0.1, 0.5), "kind": "obstacles"}, "obstacle_width"),
        ({"obstacle_width": (0.5, 0.3)}, "obstacle_width"),
        ({"obstacle_width": 0.0}, "obstacle_width"),
        ({"obstacle_height": -0.02}, "obstacle_height"),
        ({"obstacle_count": -1}, "obstacle_count"),
        ({"bumpiness": 1.0}, "bumpiness"),
    ],
)
def test_bad_values_are_refused_naming_the_field(overrides, field):
    with pytest.raises(ValidationError, match=field):
        TerrainConfig(**{"kind": "rough", **SMALL, **overrides})


def test_config_is_frozen():
    with pytest.raises(ValidationError):
        small("rough").seed = 5


def start_positions(model, config):
    """qpos per drop: sphere and capsule 1 cm above the ground at SPHERE_POINTS / CAPSULE_POINTS."""
    heights = terrain_heights(config)
    qpos = np.tile(model.qpos0, (len(SPHERE_POINTS), 1))
    qpos[:, 0:2], qpos[:, 7:9] = SPHERE_POINTS, CAPSULE_POINTS
    qpos[:, 2] = height_at(config, heights, *SPHERE_POINTS.T) + SPHERE_RADIUS + DROP
    qpos[:, 9] = height_at(config, heights, *CAPSULE_POINTS.T) + CAPSULE_RADIUS + DROP
    return qpos


@functools.cache
def drop(kind):
    """Final qpos of each drop on the terrain: (MuJoCo C, MJX)."""
    config = small(kind)
    model = scene(config)
    qpos = start_positions(model, config)
    data = mujoco.MjData(model)
    c_final = np.empty_like(qpos)
    for i, q in enumerate(qpos):
        mujoco.mj_resetData(model, data)
        data.qpos[:] = q
        for _ in range(STEPS):
            mujoco.mj_step(model, data)
        c_final[i] = data.qpos
    mjx_model = mjx.put_model(model, impl="jax")
    blank = mjx.make_data(model, impl="jax")

    def settle(q):
        def physics_step(d, _):
            return mjx.step(mjx_model, d), None

        return jax.lax.scan(physics_step, blank.replace(qpos=q), None, length=STEPS)[0].qpos

    return c_final, np.asarray(jax.jit(jax.vmap(settle))(qpos))


@pytest.mark.parametrize("kind", KINDS)
def test_a_sphere_dropped_in_mjx_rests_at_ground_height_plus_radius(kind):
    config = small(kind)
    final = drop(kind)[1]
    ground = height_at(config, terrain_heights(config), final[:, 0], final[:, 1])
    np.testing.assert_allclose(final[:, 2], ground + SPHERE_RADIUS, atol=REST_TOLERANCE)


@pytest.mark.parametrize("kind", ["flat", "stairs"])
def test_a_capsule_dropped_in_mjx_lies_on_flat_ground_at_its_radius(kind):
    config = small(kind)
    final = drop(kind)[1]
    ground = height_at(config, terrain_heights(config), final[:, 7], final[:, 8])
    np.testing.assert_allclose(final[:, 9], ground + CAPSULE_RADIUS, atol=REST_TOLERANCE)


@pytest.mark.parametrize("kind", KINDS)
def test_mjx_drops_end_where_mujoco_c_drops_end(kind):
    c_final, mjx_final = drop(kind)
    positions = [0, 1, 2, 7, 8, 9]
    np.testing.assert_allclose(mjx_final[:, positions], c_final[:, positions], atol=C_MJX_TOLERANCE)


@pytest.mark.parametrize("kind", ["rough", "stairs", "obstacles"])
def test_a_shipped_legged_robot_on_terrain_keeps_its_joints_and_gains_a_heightfield_floor(kind):
    robot = load_robot("quadruped")
    on_terrain = robot_on_terrain(robot, TerrainConfig(kind=kind))
    model = on_terrain.mj_model
    assert model.nhfield == 1 and model.geom(FLOOR_GEOM).type == mujoco.mjtGeom.mjGEOM_HFIELD
    assert (model.nq, model.nv, model.nu) == (robot.mj_model.nq, robot.mj_model.nv, robot.mj_model.nu)
    assert on_terrain.joint_names == robot.joint_names and (on_terrain.qpos_adr == robot.qpos_adr).all()
    assert robot_on_terrain(robot, TerrainConfig(kind="flat")) is robot
