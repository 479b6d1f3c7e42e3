"""The runtime's numpy observation equals the task's JAX observation, entry by entry, on random robot states."""

import jax
import numpy as np
import pytest

from sim.mjx_import import mjx
from sim.observation import TERM_KINDS, ObservationLayout, ObservationTerm
from sim.robot import load_robot
from sim2real.export import build_contract
from sim2real.sim2sim.mujoco_robot import MujocoRobot
from sim2real_runtime.contract import ObservationTermSpec, PolicyContract
from sim2real_runtime.observation import ObservationBuilder
from tasks.registry import make_env, task_names
from tests.robot_states import random_states

STATES = 1000
TOLERANCE = 1e-5


def jax_observations(layout, mjx_model, blank, qpos, qvel, infos):
    """The layout's observation of every state, computed the way the env does (MJX forward, then the terms)."""

    def one(q, v, info):
        data = mjx.forward(mjx_model, blank.replace(qpos=q, qvel=v))
        return layout(data, info)

    return np.asarray(jax.jit(jax.vmap(one))(qpos, qvel, infos))


def runtime_observations(builder, robot, qpos, qvel, commands, actions, steps):
    """The builder's observation of every state, from what the MuJoCo C robot's sensors report."""
    rows = []
    for i in range(len(qpos)):
        robot.reset(qpos[i], qvel[i])
        rows.append(builder.build(robot.sense(), commands[i], actions[i], int(steps[i])))
    return np.stack(rows)


def random_inputs(rng, count, action_size):
    return rng.uniform(-1.5, 1.5, (count, 3)), rng.uniform(-1, 1, (count, action_size)), rng.integers(0, 5000, count)


ROUGH_TWINS = {
    "quadruped_joystick_rough": "quadruped_joystick_flat",
    "humanoid_joystick_rough": "humanoid_joystick_flat",
}
"""Rough variants and the flat task whose actor observation they share (checked below instead of recomputed)."""


def test_rough_variants_build_the_same_actor_observation_as_their_flat_task():
    for rough, flat in ROUGH_TWINS.items():
        assert make_env(rough).actor_layout.contract_terms() == make_env(flat).actor_layout.contract_terms()


@pytest.mark.parametrize("task", [t for t in task_names() if t not in ROUGH_TWINS])
def test_runtime_observation_matches_every_registered_task_on_1000_random_states(task):
    env = make_env(task)
    rng = np.random.default_rng(0)
    qpos, qvel = random_states(env.mj_model, rng, STATES)
    commands, actions, steps = random_inputs(rng, STATES, env.action_size)
    reset_info = env.reset(jax.random.PRNGKey(0)).info
    infos = {"command": commands, "last_action": actions, "step": steps, "dr": reset_info["dr"]}
    in_axes = {"command": 0, "last_action": 0, "step": 0, "dr": None}
    layout = env.actor_layout

    def one(q, v, info):
        data = mjx.forward(env.mjx_model, env.data_from({"qpos": q, "qvel": v}))
        return layout(data, info)

    expected = np.asarray(jax.jit(jax.vmap(one, in_axes=(0, 0, in_axes)))(qpos, qvel, infos))
    contract = build_contract(env, np.ones(env.action_size), {"task": task})
    robot = MujocoRobot(env.robot, env.mj_model)
    got = runtime_observations(ObservationBuilder(contract), robot, qpos, qvel, commands, actions, steps)
    assert got.shape == expected.shape == (STATES, layout.size)
    assert np.abs(got - expected).max() < TOLERANCE


WALKER_MJCF = """
<mujoco model="walker">
  <compiler angle="radian"/>
  <option timestep="0.005"/>
  <worldbody>
    <body name="torso" pos="0 0 1">
      <freejoint name="root"/>
      <geom type="box" size="0.2 0.1 0.05" mass="5"/>
      <site name="imu" pos="0.05 0.02 0" euler="0.3 -0.2 0.5"/>
      <body name="left_leg" pos="0 0.1 -0.05">
        <joint name="left_hip" type="hinge" axis="0 1 0" range="-1 1"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.03" mass="1"/>
        <body name="left_shin" pos="0 0 -0.4">
          <joint name="left_knee" type="hinge" axis="0 1 0" range="-2 0"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.03" mass="0.5"/>
        </body>
      </body>
      <body name="tail" pos="-0.2 0 0">
        <joint name="tail" type="hinge" axis="0 0 1"/>
        <geom type="capsule" fromto="0 0 0 -0.3 0 0" size="0.02" mass="0.2"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="left_hip" joint="left_hip" ctrlrange="-30 30"/>
    <motor name="left_knee" joint="left_knee" ctrlrange="-30 30"/>
  </actuator>
</mujoco>
"""

WALKER_YAML = """
name: walker
mjcf: walker.xml
control: position
action_scale: 0.25
control_dt: 0.02
base_body: torso
imu_site: imu
joints:
  - {name: left_hip, default_pos: 0.2, range: [-1, 1], kp: 30, kd: 1, effort_limit: 30, velocity_limit: 20}
  - {name: left_knee, default_pos: -0.5, range: [-2, 0], kp: 30, kd: 1, effort_limit: 30, velocity_limit: 20}
"""

EVERY_KIND = [
    ObservationTerm("gyro", "base_ang_vel", scale=0.25),
    ObservationTerm("gravity", "projected_gravity"),
    ObservationTerm("command", "velocity_command", scale=2.0),
    ObservationTerm("target", "position_command", scale=0.5, clip=0.6),
    ObservationTerm("joints", "joint_pos_rel", ("left_knee", "left_hip")),
    ObservationTerm("tail_angle", "joint_cos_sin", ("tail",)),
    ObservationTerm("hip_raw", "joint_pos", ("left_hip",), clip=0.5),
    ObservationTerm("speeds", "joint_vel", ("left_hip", "tail", "left_knee"), scale=0.05, clip=0.4),
    ObservationTerm("previous_action", "last_action"),
    ObservationTerm("phase", "gait_phase", period_steps=37),
]


def test_every_term_kind_matches_on_a_floating_robot_with_an_imu(tmp_path):
    assert {t.kind for t in EVERY_KIND} == set(TERM_KINDS)
    (tmp_path / "walker.xml").write_text(WALKER_MJCF)
    (tmp_path / "robot.yaml").write_text(WALKER_YAML)
    robot = load_robot(tmp_path / "robot.yaml")
    layout = ObservationLayout(EVERY_KIND, robot, robot.mj_model)
    mjx_model = mjx.put_model(robot.mj_model, impl="jax")
    blank = mjx.make_data(robot.mj_model, impl="jax")
    rng = np.random.default_rng(1)
    qpos, qvel = random_states(robot.mj_model, rng, STATES)
    commands, actions, steps = random_inputs(rng, STATES, 2)
    infos = {"command": commands, "last_action": actions, "step": steps}
    expected = jax_observations(layout, mjx_model, blank, qpos, qvel, infos)
    contract = PolicyContract(
        robot="walker",
        task="",
        control="position",
        joint_names=("left_hip", "left_knee"),
        default_pose=(0.2, -0.5),
        action_scale=(0.25, 0.25),
        action_low=(-1.0, -1.0),
        action_high=(1.0, 1.0),
        kp=(30.0, 30.0),
        kd=(1.0, 1.0),
        control_dt=0.02,
        observation_size=layout.size,
        observation=tuple(ObservationTermSpec.from_dict(t) for t in layout.contract_terms()),
    )
    assert contract.inconsistency() is None
    got = runtime_observations(
        ObservationBuilder(contract), MujocoRobot(robot, robot.mj_model), qpos, qvel, commands, actions, steps
    )
    assert np.abs(got - expected).max() < TOLERANCE
    gravity = got[:, 3:6]
    assert np.allclose(np.linalg.norm(gravity, axis=1), 1.0, atol=1e-5)
