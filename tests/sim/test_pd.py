"""PD at physics rate with torque limits: MJX matches MuJoCo C running the same law; torques saturate.

A two-link arm written here (its motors geared 2:1, so torque per ctrl is not 1) keeps the compile short.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim.mjx_import import mjx
from sim.pd import JointPD, pd_physics, pd_torque
from sim.robot import load_robot
from sim2real.sim2sim.mujoco_robot import MujocoRobot
from sim2real_runtime.state import JointCommand

SUBSTEPS = 10
MJCF = """
<mujoco model="two_link">
  <compiler angle="radian"/>
  <option timestep="0.002"/>
  <worldbody>
    <body name="base">
      <geom type="box" size="0.05 0.05 0.05" mass="1"/>
      <body name="upper" pos="0 0 0.1">
        <joint name="shoulder" axis="0 1 0" range="-2 2"/>
        <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03" mass="1"/>
        <body name="lower" pos="0.3 0 0">
          <joint name="elbow" axis="0 1 0" range="-2 2"/>
          <geom type="capsule" fromto="0 0 0 0.25 0 0" size="0.025" mass="0.5"/>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="elbow" gear="2" ctrlrange="-10 10"/>
    <motor joint="shoulder" gear="2" ctrlrange="-10 10"/>
  </actuator>
</mujoco>
"""
ROBOT_YAML = """
name: two_link
mjcf: two_link.xml
control: position
action_scale: 0.5
control_dt: 0.02
base_body: base
joints:
  - {name: shoulder, default_pos: 0.0, range: [-2, 2], kp: 200.0, kd: 5.0, effort_limit: 20.0, velocity_limit: 10.0}
  - {name: elbow, default_pos: 0.5, range: [-2, 2], kp: 100.0, kd: 2.0, effort_limit: 8.0, velocity_limit: 10.0}
"""
TARGET = np.array([0.05, 1.5])  # the elbow's 100 N m/rad x 1 rad saturates its 8 N m limit


@pytest.fixture(scope="module")
def two_link(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two_link")
    (folder / "two_link.xml").write_text(MJCF)
    (folder / "robot.yaml").write_text(ROBOT_YAML)
    robot = load_robot(folder / "robot.yaml")
    pd = JointPD.of(robot)
    mjx_model = mjx.put_model(robot.mj_model, impl="jax")
    start = mjx.make_data(robot.mj_model, impl="jax").replace(qpos=jnp.asarray(robot.default_pose[[0, 1]]))

    @jax.jit
    def control_period(strength):
        ones = jnp.ones(2)
        return pd_physics(mjx_model, start, jnp.asarray(TARGET), pd, SUBSTEPS, (ones, ones, strength))

    return robot, pd, control_period


def test_pd_torque_is_clipped_to_the_effort_limit():
    tau = pd_torque(jnp.array([1.0, 1.0, 0.0]), jnp.zeros(3), jnp.array([0.0, 0.0, 2.0]), 100.0, 1.0, 12.0)
    assert np.allclose(tau, [12.0, 12.0, -2.0])


def test_mjx_pd_at_physics_rate_matches_mujoco_c_and_saturates_at_the_effort_limit(two_link):
    robot, pd, control_period = two_link
    stepped = control_period(jnp.ones(2))
    c_robot = MujocoRobot(robot, robot.mj_model)
    c_robot.reset(robot.default_pose, np.zeros(2))
    zeros = np.zeros(2)
    c_robot.send(JointCommand(TARGET, zeros, pd.kp, pd.kd, zeros), zeros)
    c_robot.step(SUBSTEPS)
    assert np.abs(np.asarray(stepped.qpos) - c_robot.data.qpos).max() < 1e-5
    assert np.abs(np.asarray(stepped.qvel) - c_robot.data.qvel).max() < 1e-3
    torque = np.asarray(stepped.qfrc_actuator)[robot.dof_adr]
    assert abs(torque[1]) == pytest.approx(8.0, rel=1e-5)
    assert abs(torque[0]) < 20.0


def test_motor_strength_scales_the_delivered_torque_and_its_limit(two_link):
    robot, _, control_period = two_link
    torque = np.asarray(control_period(jnp.array([1.0, 0.75])).qfrc_actuator)[robot.dof_adr]
    assert abs(torque[1]) == pytest.approx(0.75 * 8.0, rel=1e-5)
