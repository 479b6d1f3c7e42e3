"""The emulator steps the physics the policy was trained on: the task's sim_dt when given, else the MJCF's."""

from sim.robot import load_robot
from sim2real_ros.mujoco_robot import physics_model


def test_the_emulator_keeps_the_mjcf_step_unless_physics_dt_gives_the_tasks():
    model = load_robot("quadruped").mj_model
    same, source = physics_model(model, 0.0)
    assert same is model and source == "the MJCF's timestep"
    task_step, source = physics_model(model, 0.002)
    assert task_step.opt.timestep == 0.002 and source == "physics_dt"
    assert model.opt.timestep == 0.004  # the robot's own model is left as it was
