"""The legged tasks' machinery on states built in MuJoCo C: spawning, curricula, commands, mirror maps, refusals.

Nothing here compiles a physics step: states come from MuJoCo C (``mj_forward``) converted to MJX arrays, and
the task's functions run eagerly on them.
"""

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from sim.robot_pose import home_qpos
from sim.terrain_grid import grid_height_at, grid_heights, tile_centers
from sim2real.sim2sim.scoring import TaskScorer
from sim2real_runtime.errors import ConfigError
from tasks.registry import get_task, load_task_yaml, make_env, make_evaluation_env


@pytest.fixture(scope="module")
def rough():
    return make_env("quadruped_joystick_rough")


def mjx_state(env, qpos, qvel=None):
    """MJX data of ``(qpos, qvel)`` (forward dynamics by MuJoCo C)."""
    data = mujoco.MjData(env.mj_model)
    data.qpos[:] = qpos
    if qvel is not None:
        data.qvel[:] = qvel
    mujoco.mj_forward(env.mj_model, data)
    return env.data_from({k: jnp.asarray(v) for k, v in TaskScorer(env).mjx_data(data).items()})


def test_rough_episodes_spawn_on_their_level_tile_at_home_height_above_the_ground(rough):
    config = rough.config
    centers = tile_centers(config.terrain)
    heights = grid_heights(config.terrain)
    home_z = home_qpos(rough.robot)[2]
    for seed, level in [(0, 0), (1, 3), (2, 5)]:
        curriculum = {
            "penalty_scale": jnp.asarray(0.5),
            "command_scale": jnp.asarray(1.0),
            "terrain_level": jnp.asarray(level),
        }
        qpos, _, extra = rough.start_episode(jax.random.PRNGKey(seed), curriculum)
        xy = np.asarray(qpos[:2])
        distances = np.abs(centers[level] - xy).max(axis=1)
        assert distances.min() <= config.initial_pose.position + 1e-6
        ground = grid_height_at(config.terrain, heights, xy[0], xy[1])
        assert float(qpos[2]) == pytest.approx(ground + home_z + config.initial_pose.drop, abs=1e-5)
        assert np.allclose(extra["spawn_xy"], xy)


def curriculum_after(env, level, walked, failed, commanded=1.0, steps=1000, tracking=0.5, command_scale=0.5):
    spawn = np.array([0.0, 0.0])
    qpos = home_qpos(env.robot)
    qpos[:2] = spawn + np.array([walked, 0.0])
    info = {
        "step": jnp.asarray(steps),
        "rng": jax.random.PRNGKey(0),
        "spawn_xy": jnp.asarray(spawn),
        "commanded_distance": jnp.asarray(commanded),
        "tracking_sum": jnp.asarray(tracking * steps),
        "curriculum": {
            "penalty_scale": jnp.asarray(0.7),
            "command_scale": jnp.asarray(command_scale),
            "terrain_level": jnp.asarray(level),
        },
    }
    return jax.device_get(env._next_curriculum(info, mjx_state(env, qpos), jnp.asarray(failed)))


def test_terrain_curriculum_promotes_after_a_walk_across_half_a_tile_and_demotes_after_a_fall(rough):
    tile = rough.config.terrain.tile_size
    assert int(curriculum_after(rough, 2, walked=0.6 * tile, failed=False)["terrain_level"]) == 3
    assert int(curriculum_after(rough, 2, walked=0.6 * tile, failed=True)["terrain_level"]) == 1
    assert int(curriculum_after(rough, 2, walked=0.1, failed=False, commanded=5.0)["terrain_level"]) == 1
    assert int(curriculum_after(rough, 2, walked=0.3 * tile, failed=False, commanded=1.0)["terrain_level"]) == 2
    assert int(curriculum_after(rough, 0, walked=0.0, failed=True)["terrain_level"]) == 0
    top = rough.config.terrain.levels - 1
    assert 0 <= int(curriculum_after(rough, top, walked=tile, failed=False)["terrain_level"]) <= top


def test_penalty_curriculum_rises_after_long_episodes_and_falls_after_short_ones(rough):
    rule = rough.config.penalty_curriculum
    long = curriculum_after(rough, 0, walked=0.0, failed=False, steps=1000)["penalty_scale"]
    short = curriculum_after(rough, 0, walked=0.0, failed=True, steps=100)["penalty_scale"]
    middle = curriculum_after(rough, 0, walked=0.0, failed=True, steps=700)["penalty_scale"]
    assert float(long) == pytest.approx(0.7 + rule.step)
    assert float(short) == pytest.approx(0.7 - rule.step)
    assert float(middle) == pytest.approx(0.7)


def test_command_curriculum_widens_after_a_tracked_full_episode_and_narrows_after_a_fall():
    env = make_env("quadruped_joystick_flat", {"command_curriculum": {"start": 0.3, "step": 0.1, "raise_above": 0.7}})

    def scale(**kwargs):
        return float(curriculum_after(env, 0, walked=0.0, **kwargs)["command_scale"])

    assert scale(failed=False, tracking=0.9) == pytest.approx(0.6)
    assert scale(failed=False, tracking=0.5) == pytest.approx(0.5)  # ran its time but tracked poorly
    assert scale(failed=False, tracking=0.9, steps=600) == pytest.approx(0.5)  # cut short, not a time-out
    assert scale(failed=True, tracking=0.9, steps=600) == pytest.approx(0.4)
    assert scale(failed=True, command_scale=0.3) == pytest.approx(0.3)  # never below start
    assert scale(failed=False, tracking=0.9, command_scale=1.0) == pytest.approx(1.0)  # never above 1


def test_command_curriculum_scales_the_drawn_commands_and_evaluation_uses_the_full_ranges():
    overrides = {"command_curriculum": {"start": 0.3}, "commands": {"standing_fraction": 0.0}}
    env = make_env("quadruped_joystick_flat", overrides)
    curriculum = env.initial_curriculum(jax.random.PRNGKey(1))
    assert float(curriculum["command_scale"]) == pytest.approx(0.3)
    ranges = np.array(list(env.command_ranges().values()))
    for seed in range(20):
        _, _, extra = env.start_episode(jax.random.PRNGKey(seed), curriculum)
        assert (np.abs(np.asarray(extra["command"])) <= 0.3 * np.abs(ranges).max(axis=1) + 1e-6).all()
    evaluation = make_evaluation_env("quadruped_joystick_flat", overrides)
    assert float(evaluation.initial_curriculum(jax.random.PRNGKey(1))["command_scale"]) == 1.0
    assert evaluation.config.commands.standing_fraction == 0.0  # the rest of the overrides stand


def test_commands_are_redrawn_during_episodes_and_pushes_come_on_schedule():
    env = make_env("quadruped_joystick_flat")
    curriculum = env.initial_curriculum(jax.random.PRNGKey(1))
    qpos, _, extra = env.start_episode(jax.random.PRNGKey(0), curriculum)
    info = {**extra, "rng": jax.random.PRNGKey(2), "step": jnp.asarray(0), "curriculum": curriculum}
    data = mjx_state(env, np.asarray(qpos))
    no = jnp.asarray(False)
    held = env.update_info({**info, "command_steps_left": jnp.asarray(3)}, data, jnp.zeros(12), no, no)
    assert np.allclose(held["command"], info["command"]) and int(held["command_steps_left"]) == 2
    redrawn = env.update_info({**info, "command_steps_left": jnp.asarray(1)}, data, jnp.zeros(12), no, no)
    assert not np.allclose(redrawn["command"], info["command"])
    pushed = env.update_info({**info, "push_steps_left": jnp.asarray(1)}, data, jnp.zeros(12), no, no)
    kick = np.asarray(pushed["push_velocity"])
    assert np.abs(kick).max() > 0 and np.abs(kick).max() <= env.config.pushes.velocity
    low, high = env.config.pushes.interval_s
    assert low / env.dt <= int(pushed["push_steps_left"]) <= high / env.dt
    quiet = env.update_info({**info, "push_steps_left": jnp.asarray(9)}, data, jnp.zeros(12), no, no)
    assert not np.asarray(quiet["push_velocity"]).any()


@pytest.mark.parametrize("task", ["quadruped_joystick_flat", "humanoid_joystick_flat"])
def test_mirror_maps_are_signed_permutations_that_undo_themselves(task):
    env = make_env(task)
    sizes = env.observation_size
    mirror = env.mirror_map()
    for key, size in (("actor", sizes["actor"][0]), ("critic", sizes["critic"][0]), ("action", env.action_size)):
        index, sign = mirror[key]
        assert sorted(index.tolist()) == list(range(size)), key
        x = np.random.default_rng(0).normal(size=size)
        once = sign * x[index]
        assert np.allclose(sign * once[index], x), f"{key}: mirroring twice is not the identity"


def test_humanoid_and_quadruped_actors_see_their_gait_clocks():
    humanoid, quadruped = make_env("humanoid_joystick_flat"), make_env("quadruped_joystick_flat")
    assert [t.name for t in humanoid.actor_terms()][-1] == "gait_phase"
    assert [(t.name, t.period_steps) for t in quadruped.actor_terms()][-1] == ("gait_phase", 25)
    assert "base_lin_vel" not in [t.kind for t in humanoid.actor_terms()]


def test_an_unknown_reward_term_is_named_with_the_known_ones_when_the_task_yaml_is_read(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text("task: quadruped_joystick_flat\nreward_weights: {tracking_lin_vel: 1.0, moonwalk: 2.0}\n")
    with pytest.raises(ConfigError, match="moonwalk: unknown reward term; known terms: action_rate, alive") as info:
        load_task_yaml(path)
    assert [(p.file, p.field) for p in info.value.problems] == [(str(path), "reward_weights.moonwalk")]


def test_a_legged_task_refuses_a_robot_without_feet_or_imu():
    spec = get_task("quadruped_joystick_flat")
    with pytest.raises(ConfigError, match="a legged task needs a free joint on its base body, an imu_site, foot_geoms"):
        spec.build(spec.config({"robot": "arm"}))


def reflected(env, qpos, qvel):
    """The state mirrored in the x-z plane: base y, roll and yaw flip; joints follow the robot's mirror map."""
    index, sign = env.robot.mirror_index, env.robot.mirror_signs
    q, v = qpos.copy(), qvel.copy()
    q[1] = -q[1]
    q[4], q[6] = -q[4], -q[6]  # quaternion (w, x, y, z): x and z flip under the reflection
    v[1] = -v[1]
    v[3], v[5] = -v[3], -v[5]
    q[env.robot.qpos_adr] = sign * qpos[env.robot.qpos_adr][index]
    v[env.robot.dof_adr] = sign * qvel[env.robot.dof_adr][index]
    return q, v


@pytest.mark.parametrize("task", ["quadruped_joystick_flat", "humanoid_joystick_flat"])
def test_the_actor_mirror_map_is_the_observation_of_the_mirrored_robot(task):
    env = make_env(task)
    index, sign = env.mirror_map()["actor"]
    action_index, action_sign = env.mirror_map()["action"]
    rng = np.random.default_rng(3)
    period = env.GAIT_PERIOD_STEPS or 1
    for _ in range(3):
        qpos = home_qpos(env.robot)
        qpos[env.robot.qpos_adr] += rng.uniform(-0.3, 0.3, env.action_size)
        qpos[3:7] = rng.normal(size=4)
        qpos[3:7] /= np.linalg.norm(qpos[3:7])
        qvel = rng.normal(size=env.mj_model.nv)
        command, action = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, env.action_size)
        info = {"command": jnp.asarray(command), "last_action": jnp.asarray(action), "step": jnp.asarray(7)}
        mirrored_info = {
            "command": jnp.asarray(command * np.array([1.0, -1.0, -1.0])),
            "last_action": jnp.asarray(action_sign * action[action_index]),
            "step": jnp.asarray(7 + period / 2),  # half a period (the trot clock's is 12.5 steps)
        }
        obs = np.asarray(env.actor_layout(mjx_state(env, qpos, qvel), info))
        mirrored = np.asarray(env.actor_layout(mjx_state(env, *reflected(env, qpos, qvel)), mirrored_info))
        assert np.allclose(mirrored, sign * obs[index], atol=1e-5)
