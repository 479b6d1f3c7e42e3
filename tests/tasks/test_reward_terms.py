"""Every reward term of the legged and arm tasks on hand-built states: the values they must take.

The states are :class:`tasks.legged.StepQuantities` written by hand (no physics, no jit), so each term is
checked against its definition: perfect tracking earns exactly 1, an upright still robot pays no tilt,
a touchdown after a long swing earns its air time, and so on. A last test checks that every term a task
weights is covered here.
"""

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
import pytest

from tasks import arm_reach, humanoid_joystick, quadruped_joystick
from tasks.legged import REWARD_TERMS, StepQuantities

JOINTS = 4


def standing(**changes) -> StepQuantities:
    """A two-foot robot standing still at its default pose, upright, commanded to stand."""
    default = jnp.array([0.0, 0.8, -1.6, 0.3])
    base = StepQuantities(
        command=jnp.zeros(3),
        base_lin_vel=jnp.zeros(3),
        base_ang_vel=jnp.zeros(3),
        gravity=jnp.array([0.0, 0.0, -1.0]),
        base_height=jnp.array(0.3),
        q=default,
        dq=jnp.zeros(JOINTS),
        q_default=default,
        q_low=default - 1.0,
        q_high=default + 1.0,
        torque=jnp.zeros(JOINTS),
        action=jnp.zeros(JOINTS),
        last_action=jnp.zeros(JOINTS),
        foot_clearance=jnp.zeros(2),
        foot_velocity=jnp.zeros((2, 2)),
        foot_contact=jnp.ones(2),
        air_time=jnp.zeros(2),
        was_in_contact=jnp.ones(2),
        foot_quat_z=jnp.ones(2),
        foot_xy=jnp.array([[0.0, 0.1], [0.0, -0.1]]),
        phase=jnp.array(0.0),
        terminated=jnp.array(False),
        dt=0.02,
    )
    return dataclasses.replace(base, **{k: jnp.asarray(v) for k, v in changes.items()})


def value(term: str, s: StepQuantities, **kwargs) -> float:
    terms = {**REWARD_TERMS, **humanoid_joystick.HumanoidJoystick.TASK_TERMS}
    return float(terms[term](s, **kwargs))


WALKING = {"command": [1.0, 0.2, 0.5], "base_lin_vel": [1.0, 0.2, 0.0], "base_ang_vel": [0.0, 0.0, 0.5]}


def test_perfect_tracking_earns_the_maximum_tracking_reward_of_one():
    s = standing(**WALKING)
    assert value("tracking_lin_vel", s) == pytest.approx(1.0)
    assert value("tracking_ang_vel", s) == pytest.approx(1.0)


def test_tracking_reward_falls_as_exp_of_the_squared_error_over_sigma():
    s = standing(command=[1.0, 0.0, 0.5], base_lin_vel=[0.5, 0.0, 0.0], base_ang_vel=[0.0, 0.0, 0.0])
    assert value("tracking_lin_vel", s) == pytest.approx(math.exp(-0.25 / 0.25))
    assert value("tracking_ang_vel", s, sigma=0.5) == pytest.approx(math.exp(-0.25 / 0.5))


def test_tracking_ignores_vertical_base_speed_and_roll_pitch_rates():
    s = standing(**{**WALKING, "base_lin_vel": [1.0, 0.2, 0.7], "base_ang_vel": [0.4, -0.3, 0.5]})
    assert value("tracking_lin_vel", s) == pytest.approx(1.0)
    assert value("tracking_ang_vel", s) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("term", "change", "expected"),
    [
        ("lin_vel_z", {"base_lin_vel": [0.3, 0.0, -0.5]}, 0.25),
        ("ang_vel_xy", {"base_ang_vel": [0.3, -0.4, 2.0]}, 0.25),
        ("orientation", {"gravity": [0.6, 0.0, -0.8]}, 0.36),
        ("torques", {"torque": [1.0, -2.0, 0.0, 2.0]}, 9.0),
        ("joint_vel", {"dq": [1.0, 0.0, -1.0, 0.0]}, 2.0),
        ("action_rate", {"action": [0.5, 0.0, 0.0, 0.0], "last_action": [0.0, 0.0, 0.0, -0.5]}, 0.5),
        ("pose", {"q": [0.1, 0.8, -1.6, 0.5]}, 0.05),
        ("feet_slip", {"foot_velocity": [[0.3, 0.4], [1.0, 0.0]], "foot_contact": [1.0, 0.0]}, 0.25),
        ("termination", {"terminated": True}, 1.0),
        ("alive", {"terminated": True}, 0.0),
    ],
)
def test_penalty_terms_measure_what_they_name(term, change, expected):
    assert value(term, standing()) == pytest.approx(0.0 if term != "alive" else 1.0)
    assert value(term, standing(**change)) == pytest.approx(expected)


def test_base_height_penalizes_the_squared_distance_from_the_target():
    assert value("base_height", standing(base_height=0.3), target=0.3) == 0.0
    assert value("base_height", standing(base_height=0.2), target=0.3) == pytest.approx(0.01)


def test_joint_limits_count_only_the_last_tenth_of_each_range():
    inside = standing(q=[0.85, 0.8, -1.6, 0.3])  # 0.85 of the half-range from the middle
    beyond = standing(q=[0.95, 0.8, -1.6, -0.7])  # 0.05 past 0.9 on joint 0; joint 3 at its lower limit (0.1 past)
    assert value("joint_limits", inside) == 0.0
    assert value("joint_limits", beyond) == pytest.approx(0.15)


def test_stand_still_penalizes_pose_error_only_under_a_zero_command():
    bent = {"q": [0.2, 0.8, -1.6, 0.0]}
    assert value("stand_still", standing(**bent)) == pytest.approx(0.5)
    assert value("stand_still", standing(**bent, command=[0.5, 0.0, 0.0])) == 0.0


def test_feet_air_time_pays_on_touchdown_for_swings_longer_than_a_tenth_of_a_second():
    landing = {"command": [1.0, 0.0, 0.0], "foot_contact": [1.0, 1.0], "was_in_contact": [0.0, 1.0]}
    long_swing = standing(**landing, air_time=[0.38, 0.0])
    assert value("feet_air_time", long_swing) == pytest.approx(0.38 + 0.02 - 0.1)
    still_down = {**landing, "was_in_contact": [1.0, 1.0]}
    assert value("feet_air_time", standing(**still_down, air_time=[0.38, 0.0])) == 0.0
    assert value("feet_air_time", standing(**{**landing, "command": [0.0, 0.0, 0.0]}, air_time=[0.38, 0.0])) == 0.0


def test_feet_phase_is_one_when_each_foot_follows_the_gait_clock():
    moving = {"command": [0.5, 0.0, 0.0]}
    quarter = standing(**moving, phase=0.25, foot_clearance=[humanoid_joystick.SWING_HEIGHT, 0.0])
    assert value("feet_phase", quarter) == pytest.approx(1.0)
    three_quarters = standing(**moving, phase=0.75, foot_clearance=[0.0, humanoid_joystick.SWING_HEIGHT])
    assert value("feet_phase", three_quarters) == pytest.approx(1.0)
    wrong_foot = standing(**moving, phase=0.25, foot_clearance=[0.0, humanoid_joystick.SWING_HEIGHT])
    assert value("feet_phase", wrong_foot) == pytest.approx(math.exp(-2 * 0.09**2 / 0.002))


def test_feet_phase_wants_both_feet_down_when_commanded_to_stand():
    assert value("feet_phase", standing(phase=0.25)) == pytest.approx(1.0)
    assert value("feet_phase", standing(phase=0.25, foot_clearance=[0.09, 0.0])) < 0.05


def test_trot_phase_is_one_when_each_diagonal_pair_follows_the_trot_clock():
    trot = quadruped_joystick.trot_phase
    four_feet = {"command": [0.5, 0.0, 0.0], "foot_clearance": [0.0] * 4}
    height = quadruped_joystick.SWING_HEIGHT
    assert float(trot(standing(**{**four_feet, "phase": 0.25, "foot_clearance": [height, 0, 0, height]}))) == 1.0
    assert float(trot(standing(**{**four_feet, "phase": 0.75, "foot_clearance": [0, height, height, 0]}))) == 1.0
    wrong_pair = standing(**{**four_feet, "phase": 0.25, "foot_clearance": [0, height, height, 0]})
    assert float(trot(wrong_pair)) == pytest.approx(math.exp(-4 * height**2 / 0.004))
    all_down_standing = standing(phase=0.25, foot_clearance=[0.0] * 4)
    assert float(trot(all_down_standing)) == 1.0


def test_feet_distance_penalizes_feet_closer_than_fifteen_centimetres():
    assert value("feet_distance", standing()) == 0.0
    assert value("feet_distance", standing(foot_xy=[[0.0, 0.05], [0.0, -0.05]])) == pytest.approx(0.05)


def test_foot_tilt_is_zero_for_level_soles():
    assert value("foot_tilt", standing()) == 0.0
    assert value("foot_tilt", standing(foot_quat_z=[math.cos(0.2), 1.0])) == pytest.approx(1 - math.cos(0.2))


def test_arm_reach_terms_are_one_on_the_target_and_fall_with_distance():
    assert float(arm_reach.reach(jnp.array(0.0))) == 1.0
    assert float(arm_reach.reach_precise(jnp.array(0.0))) == 1.0
    assert float(arm_reach.reach(jnp.array(0.1))) == pytest.approx(1 - math.tanh(1.0))
    assert float(arm_reach.reach_precise(jnp.array(0.1))) < 1e-6  # 1 - tanh(10): 0 to float32 precision (a few ulps)
    distances = jnp.linspace(0.0, 0.5, 11)
    assert (np.diff(np.asarray(arm_reach.reach(distances))) < 0).all()


TESTED_ARM_TERMS = {"reach", "reach_precise", "action_rate", "joint_vel", "joint_limits"}
TESTED_LEGGED_TERMS = {
    "tracking_lin_vel",
    "tracking_ang_vel",
    "lin_vel_z",
    "ang_vel_xy",
    "orientation",
    "torques",
    "joint_vel",
    "action_rate",
    "pose",
    "feet_slip",
    "termination",
    "alive",
    "base_height",
    "joint_limits",
    "stand_still",
    "feet_air_time",
    "feet_phase",
    "feet_distance",
    "foot_tilt",
    "trot_phase",
}


def test_every_weighted_term_of_every_task_is_pinned_by_a_test_here():
    legged = (
        set(REWARD_TERMS)
        | set(humanoid_joystick.HumanoidJoystick.TASK_TERMS)
        | set(quadruped_joystick.QuadrupedJoystick.TASK_TERMS)
    )
    assert legged == TESTED_LEGGED_TERMS
    assert set(quadruped_joystick.REWARD_WEIGHTS) <= legged
    assert set(humanoid_joystick.REWARD_WEIGHTS) <= legged
    assert set(arm_reach.REWARD_WEIGHTS) == TESTED_ARM_TERMS
