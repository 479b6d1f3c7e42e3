"""The bridge's supervisor without ROS: modes, watchdogs, stand-up ramp, e-stop latch, and every command bounded.

Time is passed in, so each rule is checked at exact instants. The property test drives a quadruped policy
(position control) through thousands of generated message sequences (NaN, inf, huge values, joints
reordered, missing or extra, commands out of range, requests in any order) and checks every command
that leaves.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim2real_runtime import Controller, ImuReading, PolicyRunner, SafetyConfig, SafetyFilter, load_robot_spec
from sim2real_runtime.supervisor import Mode, Supervisor, SupervisorConfig

ROOT = Path(__file__).resolve().parents[2]
QUADRUPED = load_robot_spec(ROOT / "assets" / "robots" / "quadruped" / "robot.yaml")
CARTPOLE = load_robot_spec(ROOT / "assets" / "robots" / "cartpole" / "robot.yaml")
CARTPOLE_POLICY = ROOT / "assets" / "policies" / "cartpole_balance.onnx"
NAMES = list(QUADRUPED.joint_names)
DEFAULT = QUADRUPED.column("default")
UPRIGHT = ImuReading(np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(3))
DT = 0.02
SAFETY = SafetyConfig(position_margin=0.05, max_target_speed_scale=0.5)
CONFIG = SupervisorConfig(state_timeout_s=0.1, cmd_timeout_s=0.5, startup_duration_s=1.0)


def quadruped_supervisor(policy: Path, config: SupervisorConfig = CONFIG) -> Supervisor:
    runner = PolicyRunner(policy, QUADRUPED)
    return Supervisor(Controller(runner, SafetyFilter(QUADRUPED, DT, SAFETY)), config)


def feed(supervisor: Supervisor, now: float, position: np.ndarray = DEFAULT, imu: ImuReading = UPRIGHT) -> None:
    supervisor.on_joint_state(now, tuple(NAMES), position, np.zeros(len(NAMES)))
    supervisor.on_imu(now, imu)


def is_damp(command) -> bool:
    return bool((command.kp == 0).all() and (command.kd > 0).all() and (command.torque == 0).all())


@pytest.fixture
def supervisor(quadruped_policy: Path) -> Supervisor:
    return quadruped_supervisor(quadruped_policy)


def test_the_bridge_starts_passive_and_limp_and_refuses_to_stand_without_state(supervisor):
    tick = supervisor.tick(0.0)
    assert tick.mode is Mode.PASSIVE and is_damp(tick.command) and tick.state_age_s == math.inf
    ok, message = supervisor.stand(0.0)
    assert not ok and "no /joint_states" in message
    supervisor.on_joint_state(0.0, tuple(NAMES), DEFAULT, np.zeros(len(NAMES)))
    ok, message = supervisor.stand(0.01)
    assert not ok and "no /imu" in message
    assert supervisor.activate(0.01)[0] is False


def test_stand_ramps_linearly_from_the_measured_pose_to_the_default_pose_then_ready(quadruped_policy):
    fast = SafetyConfig(position_margin=0.05, max_target_speed_scale=100.0)
    runner = PolicyRunner(quadruped_policy, QUADRUPED)
    supervisor = Supervisor(Controller(runner, SafetyFilter(QUADRUPED, DT, fast)), CONFIG)
    crouched = np.clip(DEFAULT + 0.3, QUADRUPED.column("lower") + 0.05, QUADRUPED.column("upper") - 0.05)
    feed(supervisor, 0.0, crouched)
    assert supervisor.stand(0.0)[0]
    for now, fraction in ((0.25, 0.25), (0.5, 0.5), (0.75, 0.75)):
        feed(supervisor, now, crouched)
        tick = supervisor.tick(now)
        assert tick.mode is Mode.STANDUP
        np.testing.assert_allclose(tick.command.position, crouched + fraction * (DEFAULT - crouched), atol=1e-12)
        np.testing.assert_array_equal(tick.command.kp, QUADRUPED.column("kp"))
    feed(supervisor, 1.0, crouched)
    tick = supervisor.tick(1.0)
    assert tick.mode is Mode.READY
    np.testing.assert_allclose(tick.command.position, DEFAULT, atol=1e-12)


def test_the_ramp_never_outruns_the_safety_filters_rate_limit(supervisor):
    crouched = np.clip(DEFAULT + 0.5, QUADRUPED.column("lower") + 0.05, QUADRUPED.column("upper") - 0.05)
    feed(supervisor, 0.0, crouched)
    assert supervisor.stand(0.0)[0]
    feed(supervisor, 0.5, crouched)
    tick = supervisor.tick(0.5)  # half way in one tick: more than one tick's step
    max_step = 0.5 * QUADRUPED.column("velocity_limit") * DT
    assert (np.abs(tick.command.position - np.clip(crouched, -np.inf, np.inf)) <= max_step + 1e-12).all()


def active(supervisor: Supervisor, now: float = 0.0) -> float:
    feed(supervisor, now)
    assert supervisor.stand(now)[0]
    now += CONFIG.startup_duration_s
    feed(supervisor, now)
    assert supervisor.tick(now).mode is Mode.READY
    assert supervisor.activate(now)[0]
    feed(supervisor, now)
    assert supervisor.tick(now).mode is Mode.ACTIVE
    return now


def test_joint_states_older_than_the_timeout_damp_the_robot_at_the_next_tick(supervisor):
    now = active(supervisor)
    assert supervisor.tick(now + CONFIG.state_timeout_s - 1e-9).mode is Mode.ACTIVE
    tick = supervisor.tick(now + CONFIG.state_timeout_s + 0.001)
    assert tick.mode is Mode.DAMP and is_damp(tick.command) and "stale /joint_states" in tick.fault


def test_a_stale_state_fault_says_how_old_the_last_state_is_and_how_many_arrived_in_the_last_second(supervisor):
    now = active(supervisor)  # two states at `now` (the one at stand is over 1 s old)
    for k in range(1, 6):  # five more, 10 ms apart, then silence
        feed(supervisor, now + 0.01 * k)
    tick = supervisor.tick(now + 0.05 + 0.15)
    assert tick.mode is Mode.DAMP
    assert tick.fault == "stale /joint_states: last one arrived 0.150 s ago, 7 in the last 1 s; state_timeout_s is 0.1"


def test_a_tick_that_ran_late_with_a_fresh_state_at_its_deadline_blames_the_control_loop_not_the_driver(supervisor):
    now = active(supervisor)
    feed(supervisor, now + 0.02)
    tick = supervisor.tick(now + 0.02 + 0.15, late_s=0.12)  # due at +0.05: the state was 0.03 s old then
    assert tick.mode is Mode.DAMP and tick.fault.startswith("control loop late: this tick started 120 ms after")
    assert "/joint_states was 0.030 s old when the tick was due, 0.150 s when it ran" in tick.fault, tick.fault


def test_a_stale_imu_damps_a_robot_that_reads_one(supervisor):
    now = active(supervisor)
    later = now + CONFIG.state_timeout_s + 0.001
    supervisor.on_joint_state(later, tuple(NAMES), DEFAULT, np.zeros(len(NAMES)))
    tick = supervisor.tick(later)
    assert tick.mode is Mode.DAMP and "stale /imu" in tick.fault


def test_a_damp_latches_until_reset_even_when_the_state_recovers(supervisor):
    now = active(supervisor)
    supervisor.on_joint_state(now, tuple(NAMES), DEFAULT, np.full(len(NAMES), np.nan))
    assert supervisor.tick(now).mode is Mode.DAMP
    for step in range(1, 5):
        feed(supervisor, now + step * DT)
        tick = supervisor.tick(now + step * DT)
        assert tick.mode is Mode.DAMP and is_damp(tick.command) and tick.fault == "non-finite joint state"
    assert not supervisor.stand(now)[0] and not supervisor.activate(now)[0]
    assert supervisor.reset(now)[0]
    assert supervisor.tick(now).mode is Mode.PASSIVE


def test_an_estop_latches_in_any_mode_and_keeps_its_reason_over_later_faults(supervisor):
    now = active(supervisor)
    supervisor.estop("/estop is true")
    tick = supervisor.tick(now + 1.0)  # stale state too: the e-stop stays the fault
    assert tick.mode is Mode.ESTOP and is_damp(tick.command) and tick.fault == "e-stop: /estop is true"
    ok, message = supervisor.stand(now)
    assert not ok and "ESTOP" in message
    assert supervisor.reset(now)[0] and supervisor.mode is Mode.PASSIVE


def test_the_velocity_command_is_clipped_to_the_trained_ranges_and_zeroed_when_stale(supervisor):
    now = active(supervisor)
    supervisor.on_command(now, np.array([9.0, -9.0, 0.3]))
    tick = supervisor.tick(now)
    contract = supervisor.controller.runner.contract
    np.testing.assert_array_equal(tick.policy_command, [contract.commands.high[0], contract.commands.low[1], 0.3])
    assert not tick.command_stale
    feed(supervisor, now + CONFIG.cmd_timeout_s + 0.01)
    tick = supervisor.tick(now + CONFIG.cmd_timeout_s + 0.01)
    np.testing.assert_array_equal(tick.policy_command, np.zeros(3))
    assert tick.command_stale and tick.mode is Mode.ACTIVE


def test_a_non_finite_velocity_command_damps_the_robot(supervisor):
    now = active(supervisor)
    supervisor.on_command(now, np.array([0.1, np.inf, 0.0]))
    tick = supervisor.tick(now)
    assert tick.mode is Mode.DAMP and "velocity command" in tick.fault


def test_a_missing_observed_joint_blocks_stand_and_activate_for_the_cartpole():
    runner = PolicyRunner(CARTPOLE_POLICY, CARTPOLE)
    supervisor = Supervisor(Controller(runner, SafetyFilter(CARTPOLE, 0.01)), CONFIG)
    supervisor.on_joint_state(0.0, ("slider",), np.zeros(1), np.zeros(1))
    ok, message = supervisor.stand(0.0)
    assert not ok and "hinge" in message
    supervisor.on_joint_state(0.0, ("hinge", "slider"), np.zeros(2), np.zeros(2))
    assert supervisor.stand(0.0)[0]
    assert supervisor.mode is Mode.STANDUP
    assert supervisor.tick(0.0).mode is Mode.READY  # torque control: nothing to ramp, READY at the first tick
    supervisor.on_joint_state(0.0, ("slider",), np.zeros(1), np.zeros(1))
    ok, message = supervisor.activate(0.0)
    assert not ok and "hinge" in message


def test_autostart_stands_and_activates_once_and_a_fault_turns_it_off(quadruped_policy):
    config = SupervisorConfig(state_timeout_s=0.1, cmd_timeout_s=0.5, startup_duration_s=0.1, autostart=True)
    supervisor = quadruped_supervisor(quadruped_policy, config)
    assert supervisor.tick(0.0).mode is Mode.PASSIVE  # no state yet
    modes = []
    for step in range(10):
        feed(supervisor, step * DT)
        modes.append(supervisor.tick(step * DT).mode)
    assert modes[0] is Mode.STANDUP and modes[-1] is Mode.ACTIVE
    supervisor.estop("test")
    assert supervisor.reset(1.0)[0]
    feed(supervisor, 1.0)
    assert supervisor.tick(1.0).mode is Mode.PASSIVE  # after a fault, a person stands it up


@pytest.mark.parametrize("name", ["state_timeout_s", "cmd_timeout_s", "startup_duration_s"])
@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf])
def test_timeouts_must_be_finite_and_positive(name, value):
    with pytest.raises(ValueError, match=name):
        SupervisorConfig(**{name: value})


# ---------------------------------------------------------------- property test

VALUES = st.one_of(
    st.floats(-3.0, 3.0),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def events(draw: st.DrawFn) -> tuple:
    kind = draw(
        st.sampled_from(["state", "state", "state", "imu", "command", "request", "bring_up", "tick", "tick", "tick"])
    )
    if kind == "state":
        names = draw(st.permutations([*NAMES, "extra_joint"]))
        names = names[: len(names) - draw(st.sampled_from([0, 0, 0, 0, 1, 2]))]  # sometimes drop joints
        ordinary = draw(st.booleans())
        size = len(names)
        if ordinary:
            by_name = dict(zip([*NAMES, "extra_joint"], [*DEFAULT, 0.0], strict=True))
            base = np.array([by_name[n] for n in names])
            position = base + np.array(draw(st.lists(st.floats(-0.5, 0.5), min_size=size, max_size=size)))
            velocity = np.array(draw(st.lists(st.floats(-5.0, 5.0), min_size=size, max_size=size)))
        else:
            position = np.array(draw(st.lists(VALUES, min_size=size, max_size=size)))
            velocity = np.array(draw(st.lists(VALUES, min_size=size, max_size=size)))
        return ("state", tuple(names), position, velocity)
    if kind == "imu":
        upright = draw(st.booleans())
        quat = [1.0, 0.0, 0.0, 0.0] if upright else draw(st.lists(VALUES, min_size=4, max_size=4))
        return ("imu", ImuReading(np.array(quat), np.array(draw(st.lists(VALUES, min_size=3, max_size=3)))))
    if kind == "command":
        return ("command", np.array(draw(st.lists(VALUES, min_size=3, max_size=3))))
    if kind == "request":
        return ("request", draw(st.sampled_from(["stand", "activate", "estop", "reset"])))
    if kind == "bring_up":  # then five ticks on healthy states, reordered, the policy in charge
        walk = []
        for _ in range(5):
            order = draw(st.permutations(range(len(NAMES))))
            offsets = np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=len(NAMES), max_size=len(NAMES))))
            walk.append((tuple(NAMES[i] for i in order), (DEFAULT + offsets)[list(order)], offsets[list(order)] * 10))
        return ("bring_up", walk)
    return ("tick", draw(st.sampled_from([0.0, DT, DT, DT, 0.05, 0.2, 1.0])))


@pytest.fixture(scope="module")
def lively_quadruped_policy(tmp_path_factory) -> Path:
    """An untrained quadruped policy whose actions reach about 0.1 (so the commands move)."""
    from tests.sim2real.conftest import export_fresh_agent

    return export_fresh_agent("fastsac", tmp_path_factory.mktemp("q"), task="quadruped_joystick_flat").path


LOWER = QUADRUPED.column("lower") + SAFETY.position_margin
UPPER = QUADRUPED.column("upper") - SAFETY.position_margin
MAX_STEP = SAFETY.max_target_speed_scale * QUADRUPED.column("velocity_limit") * DT
PROPERTY_CONFIG = SupervisorConfig(state_timeout_s=0.1, cmd_timeout_s=0.5, startup_duration_s=0.2)


def check_command(supervisor: Supervisor, command, previous: np.ndarray | None) -> np.ndarray | None:
    """Every promise about a command that leaves; the rate reference for the next one."""
    for field in ("position", "velocity", "kp", "kd", "torque"):
        assert np.isfinite(getattr(command, field)).all(), field
    assert (command.kp >= 0).all() and (command.kd >= 0).all()
    assert (command.kp <= QUADRUPED.column("kp") + 1e-12).all()
    assert ((command.position >= LOWER - 1e-12) & (command.position <= UPPER + 1e-12)).all()
    if is_damp(command):
        return previous
    if previous is not None:  # at most one step from the last target, or toward the measured pose
        measured = np.clip(supervisor.controller.runner.measured(supervisor._state())[0], LOWER, UPPER)
        low = np.minimum(previous - MAX_STEP, measured) - 1e-9
        high = np.maximum(previous + MAX_STEP, measured) + 1e-9
        assert ((low <= command.position) & (command.position <= high)).all()
    return command.position.copy()


def test_every_command_is_finite_inside_the_limits_and_rate_bounded_over_ten_thousand_inputs(lively_quadruped_policy):
    fed = 0
    ticks = dict.fromkeys(Mode, 0)
    healthy = ImuReading(np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(3))

    def checked_tick(supervisor: Supervisor, now: float, previous: np.ndarray | None) -> np.ndarray | None:
        with np.errstate(all="ignore"):
            tick = supervisor.tick(now)
        ticks[tick.mode] += 1
        return check_command(supervisor, tick.command, previous)

    @settings(
        max_examples=700,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
    )
    @given(sequence=st.lists(events(), min_size=15, max_size=20))
    def run(sequence: list[tuple]) -> None:
        nonlocal fed
        supervisor = quadruped_supervisor(lively_quadruped_policy, PROPERTY_CONFIG)
        now, previous = 0.0, None
        for kind, *payload in sequence:
            fed += 1
            if kind == "state":
                supervisor.on_joint_state(now, *payload)
            elif kind == "imu":
                supervisor.on_imu(now, payload[0])
            elif kind == "command":
                supervisor.on_command(now, payload[0])
            elif kind == "bring_up":  # a healthy state, stand, ramp, activate: the policy gets to run
                supervisor.on_joint_state(now, tuple(NAMES), DEFAULT, np.zeros(len(NAMES)))
                supervisor.on_imu(now, healthy)
                if supervisor.stand(now)[0]:
                    previous = None
                now += PROPERTY_CONFIG.startup_duration_s
                supervisor.on_joint_state(now, tuple(NAMES), DEFAULT, np.zeros(len(NAMES)))
                supervisor.on_imu(now, healthy)
                previous = checked_tick(supervisor, now, previous)
                supervisor.activate(now)
                for names, position, velocity in payload[0]:
                    now += DT
                    supervisor.on_joint_state(now, names, position, velocity)
                    supervisor.on_imu(now, healthy)
                    previous = checked_tick(supervisor, now, previous)
            elif kind == "request":
                done, _ = supervisor.estop("test") if payload[0] == "estop" else getattr(supervisor, payload[0])(now)
                if done and payload[0] in ("stand", "reset"):
                    previous = None  # the filter restarts from the measured pose
            else:
                now += payload[0]
                previous = checked_tick(supervisor, now, previous)

    run()
    assert fed >= 10_000, fed
    assert ticks[Mode.ACTIVE] >= 1000 and ticks[Mode.STANDUP] + ticks[Mode.READY] >= 500, ticks  # every mode is hit
