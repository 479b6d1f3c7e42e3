"""A task's observation terms are checked against its robot when the env is built, one line per problem."""

import pytest

from sim.observation import ObservationLayout, ObservationTerm
from sim.robot import load_robot
from sim2real_runtime.errors import ConfigError

CART = ObservationTerm("cart", "joint_pos", ("slider",))


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ([ObservationTerm("x", "joint_speed", ("slider",))], "unknown kind 'joint_speed'"),
        ([ObservationTerm("x", "joint_vel")], "lists no joints"),
        ([ObservationTerm("x", "joint_pos", ("elbow",))], "joint(s) elbow not in the MJCF"),
        ([ObservationTerm("x", "joint_pos_rel", ("hinge",))], "joint_pos_rel needs actuated joints"),
        ([ObservationTerm("x", "projected_gravity")], "projected_gravity needs an imu_site"),
        ([ObservationTerm("x", "gait_phase")], "gait_phase needs period_steps >= 1"),
        ([CART, CART], "named twice"),
    ],
)
def test_a_term_the_robot_cannot_provide_is_refused_naming_the_term(terms, message):
    robot = load_robot("cartpole")
    with pytest.raises(ConfigError) as refused:
        ObservationLayout(terms, robot, robot.mj_model)
    (problem,) = refused.value.problems
    assert message in problem.message and problem.field.startswith("observation term")


def test_sizes_and_noise_follow_the_terms():
    robot = load_robot("cartpole")
    terms = [CART, ObservationTerm("pole", "joint_cos_sin", ("hinge",), noise=0.1), ObservationTerm("a", "last_action")]
    layout = ObservationLayout(terms, robot, robot.mj_model)
    assert layout.size == 4
    assert layout.noise_scale().tolist() == [0.0, 0.1, 0.1, 0.0]
    assert [t["size"] for t in layout.contract_terms()] == [1, 2, 1]
    assert ObservationLayout([CART], robot, robot.mj_model).noise_scale() is None
