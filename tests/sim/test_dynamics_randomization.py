"""Dynamics randomization: each drawn parameter lands in the model field it names, and nowhere else."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim.dynamics_randomization import DynamicsRandomization, DynamicsTargets, randomize_dynamics
from sim.mjx_import import mjx
from sim.randomization import as_vector, sample_uniform_params
from sim.robot import load_robot


@pytest.fixture(scope="module")
def quadruped():
    robot = load_robot("quadruped")
    targets = DynamicsTargets.of(robot, robot.mj_model, "floor")
    return robot, targets, mjx.put_model(robot.mj_model, impl="jax")


def draw(targets, seed=0, **ranges):
    config = DynamicsRandomization(**ranges).model_dump()
    return sample_uniform_params(jax.random.PRNGKey(seed), config, targets.sizes())


def test_vector_parameters_draw_one_value_per_body_or_joint(quadruped):
    robot, targets, _ = quadruped
    params = draw(targets)
    assert params["link_mass_scale"].shape == (robot.mj_model.nbody - 1,)
    assert params["kp_scale"].shape == params["motor_strength"].shape == (12,)
    assert params["base_com_offset"].shape == (3,) and params["friction"].shape == ()
    assert len(np.unique(np.asarray(params["kp_scale"]))) == 12
    assert as_vector(params).shape == (sum(np.size(v) for v in params.values()),)


def test_masses_inertias_com_friction_armature_and_damping_follow_the_draw(quadruped):
    robot, targets, nominal = quadruped
    params = draw(targets, damping_scale=(2.0, 2.0))
    model = randomize_dynamics(nominal, params, targets)
    base = targets.base
    scale = np.ones(robot.mj_model.nbody)
    scale[1:] = np.asarray(params["link_mass_scale"])
    mass = robot.mj_model.body_mass * scale
    expected_base = mass[base] + float(params["base_added_mass"])
    assert np.allclose(np.asarray(model.body_mass)[base], expected_base)
    others = np.arange(robot.mj_model.nbody) != base
    assert np.allclose(np.asarray(model.body_mass)[others], mass[others])
    ratio = np.asarray(model.body_inertia) / np.maximum(robot.mj_model.body_inertia, 1e-12)
    assert np.allclose(ratio[base], expected_base / robot.mj_model.body_mass[base], rtol=1e-5)
    com_shift = np.asarray(model.body_ipos)[base] - robot.mj_model.body_ipos[base]
    assert np.allclose(com_shift, np.asarray(params["base_com_offset"]), atol=1e-7)
    friction = np.asarray(model.geom_friction)[:, 0]
    assert np.allclose(friction[targets.friction_geoms], float(params["friction"]))
    untouched = np.setdiff1d(np.arange(robot.mj_model.ngeom), targets.friction_geoms)
    assert np.allclose(friction[untouched], robot.mj_model.geom_friction[untouched, 0])
    dofs = targets.dofs
    assert np.allclose(
        np.asarray(model.dof_armature)[dofs], robot.mj_model.dof_armature[dofs] * np.asarray(params["armature_scale"])
    )
    assert np.allclose(np.asarray(model.dof_damping)[dofs], robot.mj_model.dof_damping[dofs] * 2.0)


def test_a_subset_of_parameters_changes_only_its_own_fields(quadruped):
    _, targets, nominal = quadruped
    model = randomize_dynamics(nominal, {"friction": jnp.asarray(0.55)}, targets)
    assert np.allclose(np.asarray(model.body_mass), np.asarray(nominal.body_mass))
    assert np.allclose(np.asarray(model.geom_friction)[targets.friction_geoms, 0], 0.55)


def test_a_negative_added_mass_never_leaves_the_base_weightless(quadruped):
    robot, targets, nominal = quadruped
    params = {**draw(targets), "base_added_mass": jnp.asarray(-100.0), "link_mass_scale": jnp.ones(len(targets.bodies))}
    model = randomize_dynamics(nominal, params, targets)
    assert float(model.body_mass[targets.base]) == pytest.approx(0.1 * robot.mj_model.body_mass[targets.base])
