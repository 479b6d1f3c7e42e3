"""The deployment SafetyFilter keeps its contract whatever the policy or the measured state do.

Property tests drive a multi-joint position-controlled robot with tick sequences whose command and measured
state hold NaN, +-inf, huge and ordinary values; unit tests pin the fault latch, the IMU tilt check, the
reset behaviour, torque-controlled joints and the configuration checks. The last tests pin
malformed settings and inputs: a bad control period, a huge quaternion, a measured state of the wrong
size, and a caller editing a published command.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim2real_runtime.robot_schema import RobotConfig
from sim2real_runtime.robot_spec import RobotSpec, load_robot_spec
from sim2real_runtime.safety import SafetyConfig, SafetyFilter
from sim2real_runtime.state import ImuReading, JointCommand

ROOT = Path(__file__).resolve().parents[2]
CONTROL_DT = 0.02

JOINTS = [
    # name, range, default, kp, kd, effort_limit, velocity_limit
    ("hip", [-0.8, 0.8], 0.0, 60.0, 1.5, 30.0, 10.0),
    ("knee", [-2.6, -0.1], -1.2, 80.0, 2.0, 45.0, 12.0),
    ("slide", [0.0, 0.3], 0.1, 2000.0, 50.0, 200.0, 0.5),
    ("wrist", [-3.0, 3.0], 0.5, 5.0, 0.1, 2.0, 20.0),
    ("pinch", [-0.01, 0.01], 0.0, 10.0, 0.2, 1.0, 1.0),  # narrower than two margins: squeezed to its middle
    ("free", [-1.5, 1.5], 0.0, 0.0, 0.0, 8.0, 4.0),  # kp = kd = 0: torque-driven inside a position robot
]
N = len(JOINTS)


def robot_mapping(joints: list[tuple] = JOINTS, control: str = "position") -> dict:
    """The fields of a robot YAML for a test robot."""
    rows = [
        {
            "name": name,
            "range": list(limits),
            "default_pos": default,
            "kp": kp,
            "kd": kd,
            "effort_limit": effort,
            "velocity_limit": velocity,
        }
        for name, limits, default, kp, kd, effort, velocity in joints
    ]
    return {
        "name": "testbot",
        "mjcf": "testbot.xml",
        "base_body": "base",
        "control": control,
        "action_scale": 0.25,
        "control_dt": CONTROL_DT,
        "joints": rows,
    }


SPEC = RobotSpec(RobotConfig.model_validate(robot_mapping()), "testbot.yaml")
LOWER = SPEC.column("lower")
UPPER = SPEC.column("upper")
CENTER = 0.5 * (LOWER + UPPER)
HALF_RANGE = 0.5 * (UPPER - LOWER)

CONFIGS = [
    SafetyConfig(),
    SafetyConfig(position_margin=0.1, max_target_speed_scale=0.25, max_gain_scale=2.0),
    SafetyConfig(position_margin=0.0, max_target_speed_scale=3.0, max_gain_scale=0.5, max_tilt_rad=0.3),
]


def command(
    position: object = 0.0, velocity: object = 0.0, kp: object = None, kd: object = None, torque: object = 0.0
) -> JointCommand:
    """A JointCommand for SPEC; scalars broadcast to every joint, gains default to the robot's."""

    def column(value: object, default: np.ndarray) -> np.ndarray:
        return np.array(default if value is None else np.broadcast_to(value, (N,)), dtype=np.float64)

    zeros = np.zeros(N)
    return JointCommand(
        column(position, zeros),
        column(velocity, zeros),
        column(kp, SPEC.column("kp")),
        column(kd, SPEC.column("kd")),
        column(torque, zeros),
    )


def assert_damp(safety: SafetyFilter, out: JointCommand) -> None:
    """``out`` is the DAMP command: no stiffness, no feed-forward, positive damping, a finite target."""
    assert safety.latched
    assert np.all(out.kp == 0.0)
    assert np.all(out.torque == 0.0)
    assert np.all(out.velocity == 0.0)
    np.testing.assert_array_equal(out.kd, safety.damping_kd)
    assert np.all(out.kd > 0.0)
    assert np.all(np.isfinite(out.position))
    assert np.all((safety.lower <= out.position) & (out.position <= safety.upper))


# ---------------------------------------------------------------- property tests

FIELDS = ("position", "velocity", "kp", "kd", "torque", "measured_position", "measured_velocity")
NON_FINITE = (math.nan, math.inf, -math.inf)
EXTREME = (1e300, -1e300, 1.7e308, -1.7e308, 5e-324, -5e-324, 0.0, -0.0)

# Ordinary values are drawn in units of each joint's scale; extreme values are used as they are.
ordinary = st.floats(-2.0, 2.0)
extreme = st.one_of(st.sampled_from(EXTREME), st.floats(allow_nan=False, allow_infinity=False))
any_value = st.one_of(st.sampled_from(NON_FINITE), st.floats())

SCALES = {
    "position": (CENTER, HALF_RANGE + 0.1),
    "velocity": (0.0, SPEC.column("velocity_limit")),
    "kp": (0.0, np.maximum(SPEC.column("kp"), 1.0)),
    "kd": (0.0, np.maximum(SPEC.column("kd"), 1.0)),
    "torque": (0.0, SPEC.column("effort_limit")),
    "measured_position": (CENTER, HALF_RANGE + 0.1),
    "measured_velocity": (0.0, SPEC.column("velocity_limit")),
}


@dataclass
class Tick:
    """One tick of the sequence: ``reset`` first when asked, then ``apply`` on the drawn values."""

    reset: bool
    values: dict[str, np.ndarray]


@st.composite
def ticks(draw: st.DrawFn) -> Tick:
    values = {}
    for field in FIELDS:
        offset, scale = SCALES[field]
        values[field] = offset + np.array(draw(st.lists(ordinary, min_size=N, max_size=N))) * scale
        # One field in four gets an extreme finite value (huge, tiny, subnormal, +-0) at one joint.
        if draw(st.integers(0, 3)) == 0:
            values[field][draw(st.integers(0, N - 1))] = draw(extreme)
    # About one tick in eight gets NaN or inf in one field at one joint (more would fault every sequence at once).
    if draw(st.integers(0, 7)) == 0:
        field = draw(st.sampled_from(FIELDS))
        values[field][draw(st.integers(0, N - 1))] = draw(any_value)
    return Tick(reset=draw(st.integers(0, 5)) == 0, values=values)


def check_normal_output(
    safety: SafetyFilter, cmd: JointCommand, measured: np.ndarray, reference: np.ndarray, out: JointCommand
) -> None:
    """Every promise the filter makes about a command it lets through (not DAMP)."""
    for name in ("position", "velocity", "kp", "kd", "torque"):
        value = getattr(out, name)
        assert value.shape == (N,), name
        assert np.all(np.isfinite(value)), name
    # 1. gains, feed-forward and target velocity are clipped, nothing more.
    assert np.all((out.kp >= 0) & (out.kp <= safety.kp_max))
    assert np.all((out.kd >= 0) & (out.kd <= safety.kd_max))
    assert np.all(np.abs(out.torque) <= safety.effort_limit)
    assert np.all(np.abs(out.velocity) <= safety.velocity_limit)
    np.testing.assert_array_equal(out.kp, np.clip(cmd.kp, 0.0, safety.kp_max))
    np.testing.assert_array_equal(out.kd, np.clip(cmd.kd, 0.0, safety.kd_max))
    np.testing.assert_array_equal(out.torque, np.clip(cmd.torque, -safety.effort_limit, safety.effort_limit))
    np.testing.assert_array_equal(out.velocity, np.clip(cmd.velocity, -safety.velocity_limit, safety.velocity_limit))
    # 4. limits: always.
    assert np.all((safety.lower <= out.position) & (out.position <= safety.upper))
    # 2. + 3. rate then effort: the rate-limited target, possibly pulled toward the measured position, then clipped
    # into the limits. So the output lies in clip(hull(rate target, measured), limits).
    step = safety.max_step
    tol = 1e-9 * (1.0 + np.abs(reference))
    rated = np.clip(cmd.position, reference - step, reference + step)
    low = np.clip(np.minimum(rated, measured), safety.lower, safety.upper)
    high = np.clip(np.maximum(rated, measured), safety.lower, safety.upper)
    assert np.all((low - tol <= out.position) & (out.position <= high + tol))
    # The same, independent of the command: at most max_step from the reference, or toward the measured position.
    reach_low = np.clip(np.minimum(reference - step, measured), safety.lower, safety.upper)
    reach_high = np.clip(np.maximum(reference + step, measured), safety.lower, safety.upper)
    assert np.all((reach_low - tol <= out.position) & (out.position <= reach_high + tol))
    # Without stiffness there is no effort step: the rate bound holds exactly.
    free = out.kp == 0
    assert np.all(np.abs(out.position - reference)[free] <= step[free] + tol[free])
    # 3. the effort step pulls no further than needed: when the rate target's static effort is already inside
    # the limit, the output is the rate target clipped into the limits.
    effort_limit = safety.effort_limit
    with np.errstate(over="ignore", invalid="ignore"):
        rated_effort = out.kp * (rated - measured) + out.torque
    relaxed = np.abs(rated_effort) <= effort_limit * (1 - 1e-9)
    np.testing.assert_allclose(
        out.position[relaxed], np.clip(rated, safety.lower, safety.upper)[relaxed], rtol=0, atol=1e-9
    )
    # ... and when it does pull a target that ends inside the limits, it stops right at the effort limit.
    with np.errstate(over="ignore", invalid="ignore"):
        effort = out.kp * (out.position - measured) + out.torque
    pulled = np.abs(out.position - np.clip(rated, safety.lower, safety.upper)) > 1e-9
    interior = (safety.lower < out.position) & (out.position < safety.upper)
    at_limit = pulled & interior
    np.testing.assert_allclose(np.abs(effort[at_limit]), effort_limit[at_limit], rtol=1e-9, atol=1e-9)
    # Effort bound: where the measured position lies inside the limits-with-margin, the static effort is bounded.
    inside = (safety.lower <= measured) & (measured <= safety.upper)
    bound = effort_limit * (1 + 1e-9) + 1e-9
    assert np.all(np.abs(effort[inside]) <= bound[inside]), (effort, measured, out)


@settings(max_examples=2000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.sampled_from(CONFIGS), sequence=st.lists(ticks(), min_size=1, max_size=8))
def test_every_output_is_bounded_and_non_finite_input_latches_damp_until_reset(
    config: SafetyConfig, sequence: list[Tick]
) -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, config)
    faulted = False
    previous: np.ndarray | None = None  # the last target the filter let through since the last reset
    for tick in sequence:
        if tick.reset:
            safety.reset()
            assert not safety.latched
            faulted, previous = False, None
        v = tick.values
        cmd = JointCommand(v["position"], v["velocity"], v["kp"], v["kd"], v["torque"])
        measured, measured_velocity = v["measured_position"], v["measured_velocity"]
        faulted = faulted or not all(np.isfinite(x).all() for x in v.values())
        with np.errstate(over="ignore", invalid="ignore"):
            out = safety.apply(cmd, measured.copy(), measured_velocity.copy())
        if faulted:
            assert safety.fault is not None
            assert_damp(safety, out)
            hold = previous if previous is not None else np.clip(SPEC.column("default"), safety.lower, safety.upper)
            np.testing.assert_array_equal(out.position, hold)
            continue
        assert not safety.latched, safety.fault
        reference = previous if previous is not None else np.clip(measured, safety.lower, safety.upper)
        check_normal_output(safety, cmd, measured, reference, out)
        previous = out.position.copy()


@settings(max_examples=300, deadline=None, database=None)
@given(
    config=st.sampled_from(CONFIGS),
    measured=st.lists(st.floats(-1e300, 1e300), min_size=N, max_size=N),
    target=st.lists(st.floats(-1e300, 1e300), min_size=N, max_size=N),
    ticks_before=st.integers(0, 5),
)
def test_after_reset_normal_operation_resumes_from_the_measured_pose(
    config: SafetyConfig, measured: list[float], target: list[float], ticks_before: int
) -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, config)
    for _ in range(ticks_before):
        safety.apply(command(position=UPPER), CENTER, np.zeros(N))
    safety.apply(command(position=math.nan), CENTER, np.zeros(N))
    assert safety.latched
    safety.reset()
    assert not safety.latched
    q_m = np.array(measured)
    out = safety.apply(command(position=np.array(target), kp=0.0), q_m, np.zeros(N))
    assert not safety.latched
    start = np.clip(q_m, safety.lower, safety.upper)
    assert np.all(np.abs(out.position - start) <= safety.max_step * (1 + 1e-9) + 1e-12)
    assert np.all((safety.lower <= out.position) & (out.position <= safety.upper))


# ---------------------------------------------------------------- IMU and latch unit tests


def tilted_imu(angle: float, axis: tuple[float, float, float] = (1.0, 0.0, 0.0), scale: float = 1.0) -> ImuReading:
    """An IMU rotated by ``angle`` about ``axis``; ``scale`` multiplies the (then unnormalized) quaternion."""
    axis_unit = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    quat = np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * axis_unit]) * scale
    return ImuReading(quat, np.zeros(3))


def test_tilt_beyond_max_tilt_latches_damp_and_names_the_tilt() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(max_tilt_rad=1.0))
    safety.check_state(CENTER, np.zeros(N), tilted_imu(1.2, axis=(1.0, 1.0, 0.0)))
    assert safety.latched
    assert "tilt 1.20 rad" in safety.fault
    assert "max_tilt_rad 1.00" in safety.fault
    assert_damp(safety, safety.apply(command(position=CENTER), CENTER, np.zeros(N)))


def test_upside_down_imu_latches_damp() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    safety.check_state(CENTER, np.zeros(N), tilted_imu(math.pi, axis=(0.0, 1.0, 0.0)))
    assert "tilt 3.14 rad" in safety.fault


@pytest.mark.parametrize(
    "imu",
    [
        tilted_imu(0.0),
        tilted_imu(0.0, scale=3.0),  # quaternions need not be normalized
        tilted_imu(2.5, axis=(0.0, 0.0, 1.0)),  # yaw is not tilt
        tilted_imu(0.9, axis=(1.0, -1.0, 0.0)),  # inside max_tilt_rad 1.0
        tilted_imu(0.9, axis=(0.0, 1.0, 0.0), scale=1e-3),
    ],
)
def test_upright_or_slightly_tilted_imu_does_not_latch(imu: ImuReading) -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(max_tilt_rad=1.0))
    safety.check_state(CENTER, np.zeros(N), imu)
    assert not safety.latched
    safety.check_state(CENTER, np.zeros(N), None)
    assert not safety.latched


@pytest.mark.parametrize(
    "imu",
    [
        ImuReading(np.zeros(4), np.zeros(3)),
        ImuReading(np.array([1e-9, 0.0, 0.0, 0.0]), np.zeros(3)),
        ImuReading(np.array([math.nan, 0.0, 0.0, 0.0]), np.zeros(3)),
        ImuReading(np.array([1.0, math.inf, 0.0, 0.0]), np.zeros(3)),
        ImuReading(np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.0, math.nan, 0.0])),
        ImuReading(np.array([1.0, 0.0, 0.0, 0.0]), np.array([-math.inf, 0.0, 0.0])),
    ],
    ids=["zeros", "tiny", "nan-quat", "inf-quat", "nan-gyro", "inf-gyro"],
)
def test_degenerate_or_non_finite_imu_latches_damp(imu: ImuReading) -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    safety.check_state(CENTER, np.zeros(N), imu)
    assert safety.fault == "non-finite or degenerate IMU reading"
    assert_damp(safety, safety.apply(command(position=CENTER), CENTER, np.zeros(N)))


@pytest.mark.parametrize("field", ["position", "velocity"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_measured_state_in_check_state_latches_damp(field: str, bad: float) -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    state = {"position": CENTER.copy(), "velocity": np.zeros(N)}
    state[field][2] = bad
    safety.check_state(state["position"], state["velocity"], tilted_imu(0.0))
    assert safety.fault == "non-finite joint state"


def test_trip_latches_damp_and_keeps_the_first_reason_until_reset() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    safety.trip("estop")
    safety.trip("stale state")
    safety.check_state(CENTER, np.zeros(N), tilted_imu(math.pi))
    safety.apply(command(position=math.nan), CENTER, np.zeros(N))
    assert safety.fault == "estop"
    for _ in range(3):  # a healthy command and state do not clear the latch
        assert_damp(safety, safety.apply(command(position=CENTER), CENTER, np.zeros(N)))
    assert safety.fault == "estop"
    safety.reset()
    assert safety.fault is None
    assert not safety.latched
    out = safety.apply(command(position=CENTER), CENTER, np.zeros(N))
    np.testing.assert_array_equal(out.kp, SPEC.column("kp"))


def test_damp_holds_the_last_target_or_the_default_pose_before_any_target() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    safety.trip("estop")
    rest = np.clip(SPEC.column("default"), safety.lower, safety.upper)
    np.testing.assert_array_equal(safety.damping().position, rest)
    safety.reset()
    out = safety.apply(command(position=CENTER + 0.05), CENTER, np.zeros(N))
    safety.trip("estop")
    np.testing.assert_array_equal(safety.apply(command(), CENTER, np.zeros(N)).position, out.position)
    damp = safety.damping()
    damp.position[:] = 99.0  # DAMP hands out copies
    np.testing.assert_array_equal(safety.damping().position, out.position)


@pytest.mark.parametrize(
    "bad",
    [
        {"position": np.zeros(N - 1)},
        {"velocity": np.zeros(N + 1)},
        {"kp": np.zeros((N, 1))},
        {"kd": np.float64(1.0)},
        {"torque": np.zeros(0)},
    ],
    ids=["missing-joint", "extra-joint", "column", "scalar", "empty"],
)
def test_command_with_wrong_number_of_joints_latches_damp(bad: dict) -> None:
    fields = {name: getattr(command(position=CENTER), name) for name in ("position", "velocity", "kp", "kd", "torque")}
    fields.update(bad)
    safety = SafetyFilter(SPEC, CONTROL_DT)
    out = safety.apply(JointCommand(**fields), CENTER, np.zeros(N))
    assert safety.fault == f"command has the wrong number of joints (expected {N})"
    assert_damp(safety, out)


@pytest.mark.parametrize("field", ["position", "velocity", "kp", "kd", "torque"])
def test_non_finite_command_field_latches_damp(field: str) -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    cmd = command(position=CENTER)
    getattr(cmd, field)[1] = math.inf
    assert_damp(safety, safety.apply(cmd, CENTER, np.zeros(N)))
    assert safety.fault == "non-finite command (policy output or gains)"


# ---------------------------------------------------------------- rate, effort and limits unit tests


def test_first_tick_after_reset_starts_from_the_measured_pose() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    for _ in range(20):
        safety.apply(command(position=safety.lower), safety.lower, np.zeros(N))
    safety.trip("estop")
    safety.reset()
    measured = CENTER + 0.1 * HALF_RANGE
    out = safety.apply(command(position=1e3, kp=0.0), measured, np.zeros(N))
    expected = np.clip(np.clip(measured, safety.lower, safety.upper) + safety.max_step, safety.lower, safety.upper)
    np.testing.assert_allclose(out.position, expected, rtol=0, atol=1e-12)


def test_first_tick_starts_from_the_measured_pose_clipped_into_the_limits() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    out = safety.apply(command(position=-1e3, kp=0.0), UPPER + 5.0, np.zeros(N))
    expected = np.clip(safety.upper - safety.max_step, safety.lower, safety.upper)
    np.testing.assert_allclose(out.position, expected, rtol=0, atol=1e-12)


def test_target_moves_at_most_max_step_per_tick_toward_a_far_command() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    measured = CENTER.copy()
    targets = [safety.apply(command(position=UPPER + 1.0, kp=0.0), measured, np.zeros(N)).position for _ in range(200)]
    steps = np.diff(np.vstack([np.clip(measured, safety.lower, safety.upper), *targets]), axis=0)
    assert np.all(steps <= safety.max_step + 1e-12)
    assert np.all(steps >= 0)
    np.testing.assert_allclose(targets[-1], safety.upper)  # it gets there, and stays inside the margin


def test_effort_step_pulls_the_target_toward_the_measured_position_beyond_max_step() -> None:
    # Documented ordering (rate, then effort): a robot pushed away from its target gets a target pulled after it
    # by more than max_step, so that kp (q - q_m) + tau stays within the effort limit.
    safety = SafetyFilter(SPEC, CONTROL_DT)
    hip_kp, hip_effort = SPEC.column("kp")[0], SPEC.column("effort_limit")[0]
    safety.apply(command(position=CENTER), CENTER, np.zeros(N))
    measured = CENTER.copy()
    measured[0] = 0.75
    out = safety.apply(command(position=CENTER), measured, np.zeros(N))
    assert out.position[0] == pytest.approx(0.75 - hip_effort / hip_kp)
    assert out.position[0] - CENTER[0] > safety.max_step[0]
    assert out.effort(measured, np.zeros(N))[0] == pytest.approx(-hip_effort)


def test_feed_forward_reduces_the_room_left_for_stiffness() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(max_target_speed_scale=100.0))
    effort = SPEC.column("effort_limit")
    out = safety.apply(command(position=UPPER, torque=0.75 * effort), CENTER, np.zeros(N))
    static = out.kp * (out.position - CENTER) + out.torque
    stiff = out.kp > 0
    assert np.all(static[stiff] <= effort[stiff] * (1 + 1e-12))
    assert np.any(np.isclose(static[stiff], effort[stiff]))


def test_margin_wider_than_the_range_squeezes_the_joint_to_its_middle() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(position_margin=0.02))
    pinch = [name for name, *_ in JOINTS].index("pinch")
    assert safety.lower[pinch] == safety.upper[pinch] == 0.0
    np.testing.assert_array_equal(safety.lower[:pinch], LOWER[:pinch] + 0.02)
    np.testing.assert_array_equal(safety.upper[:pinch], UPPER[:pinch] - 0.02)
    out = safety.apply(command(position=1.0), CENTER, np.zeros(N))
    assert out.position[pinch] == 0.0


def test_gain_scale_caps_gains_at_a_multiple_of_the_robot_gains() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(max_gain_scale=1.5))
    out = safety.apply(command(kp=1e9, kd=1e9, torque=-1e9, velocity=1e9), CENTER, np.zeros(N))
    np.testing.assert_array_equal(out.kp, 1.5 * SPEC.column("kp"))
    np.testing.assert_array_equal(out.kd, 1.5 * SPEC.column("kd"))
    np.testing.assert_array_equal(out.torque, -SPEC.column("effort_limit"))
    np.testing.assert_array_equal(out.velocity, SPEC.column("velocity_limit"))
    out = safety.apply(command(kp=-1.0, kd=-1e300), CENTER, np.zeros(N))
    assert np.all(out.kp == 0) and np.all(out.kd == 0)


# ---------------------------------------------------------------- torque-controlled robots, DAMP gains, config


def cartpole_spec() -> RobotSpec:
    return load_robot_spec(ROOT / "assets" / "robots" / "cartpole" / "robot.yaml")


def test_torque_controlled_joints_keep_zero_kp_whatever_the_command_asks() -> None:
    spec = cartpole_spec()
    assert spec.control == "torque"
    assert spec.column("kp").tolist() == [0.0]
    safety = SafetyFilter(spec, spec.control_dt)
    for kp, torque in [(1e6, 3.0), (5.0, -1e300), (1e300, 0.0), (0.0, 25.0)]:
        one = np.ones(1)
        cmd = JointCommand(one * 5.0, one, one * kp, one * kp, one * torque)
        out = safety.apply(cmd, np.zeros(1), np.zeros(1))
        assert out.kp.tolist() == [0.0]
        assert out.kd.tolist() == [0.0]
        assert abs(out.torque[0]) <= 10.0
        assert out.torque[0] == np.clip(torque, -10.0, 10.0)
        assert safety.lower[0] <= out.position[0] <= safety.upper[0]
    safety.trip("estop")
    damp = safety.damping()
    assert damp.kp.tolist() == [0.0]
    assert damp.kd.tolist() == [1.0]  # effort_limit / velocity_limit = 10 / 10


def test_damping_kd_defaults_to_robot_kd_or_effort_over_velocity_limit() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    kd = SPEC.column("kd")
    expected = np.where(kd > 0, kd, SPEC.column("effort_limit") / SPEC.column("velocity_limit"))
    np.testing.assert_array_equal(safety.damping_kd, expected)
    free = [name for name, *_ in JOINTS].index("free")
    assert safety.damping_kd[free] == 8.0 / 4.0
    safety.trip("estop")
    np.testing.assert_array_equal(safety.damping().kd, expected)


def test_damping_kd_override_is_used_in_damp() -> None:
    damping = tuple(float(i + 1) for i in range(N))
    safety = SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(damping_kd=damping))
    safety.trip("estop")
    np.testing.assert_array_equal(safety.damping().kd, damping)


@pytest.mark.parametrize(
    "damping",
    [(1.0,) * (N - 1), (1.0,) * (N + 1), (0.0,) + (1.0,) * (N - 1), (-1.0,) * N, (math.nan,) * N, (math.inf,) * N],
    ids=["short", "long", "zero", "negative", "nan", "inf"],
)
def test_damping_kd_override_must_be_one_finite_positive_value_per_joint(damping: tuple) -> None:
    with pytest.raises(ValueError, match="damping_kd"):
        SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(damping_kd=damping))


@pytest.mark.parametrize("name", ["position_margin", "max_target_speed_scale", "max_gain_scale", "max_tilt_rad"])
@pytest.mark.parametrize("value", [-0.1, -math.inf, math.inf, math.nan])
def test_safety_config_refuses_negative_or_non_finite_settings(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        SafetyConfig(**{name: value})


def test_safety_config_accepts_zero_settings() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT, SafetyConfig(position_margin=0.0, max_target_speed_scale=0.0))
    np.testing.assert_array_equal(safety.lower, LOWER)
    out = safety.apply(command(position=UPPER, kp=0.0), CENTER, np.zeros(N))
    np.testing.assert_array_equal(out.position, CENTER)  # a zero speed scale freezes the target


# ---------------------------------------------------------------- malformed inputs and shared state


@pytest.mark.parametrize("control_dt", [math.nan, math.inf, -CONTROL_DT], ids=["nan", "inf", "negative"])
def test_invalid_control_dt_is_refused(control_dt: float) -> None:
    with pytest.raises(ValueError):
        SafetyFilter(SPEC, control_dt)


def test_huge_but_finite_tilted_quaternion_latches() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    with np.errstate(over="ignore"):
        safety.check_state(CENTER, np.zeros(N), tilted_imu(math.pi, axis=(1.0, 0.0, 0.0), scale=1e300))
    assert safety.latched


def test_measured_state_with_the_wrong_number_of_joints_latches_damp() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    out = safety.apply(command(position=CENTER), np.zeros(1), np.zeros(1))
    assert safety.latched
    assert_damp(safety, out)


def test_mutating_a_published_command_does_not_move_the_rate_reference() -> None:
    safety = SafetyFilter(SPEC, CONTROL_DT)
    out = safety.apply(command(position=CENTER, kp=0.0), CENTER, np.zeros(N))
    out.position[:] = safety.upper  # e.g. a bridge converting units in place
    nxt = safety.apply(command(position=UPPER, kp=0.0), CENTER, np.zeros(N))
    assert np.all(nxt.position <= CENTER + safety.max_step + 1e-12)
