"""A rehearsed tick is forgotten: the ticks that follow are exactly those of a controller that never rehearsed."""

from pathlib import Path

import numpy as np

from sim2real_runtime import Controller, ImuReading, PolicyRunner, RobotState, SafetyFilter, load_robot_spec
from sim2real_runtime.supervisor import Mode, Supervisor, SupervisorConfig

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "assets" / "policies" / "quadruped_joystick_flat.onnx"
ROBOT = load_robot_spec(ROOT / "assets" / "robots" / "quadruped" / "robot.yaml")
NAMES = ROBOT.joint_names


def controller() -> Controller:
    runner = PolicyRunner(POLICY, ROBOT)
    return Controller(runner, SafetyFilter(ROBOT, runner.contract.control_dt))


def random_state(rng: np.random.Generator, spoiled: bool = False) -> RobotState:
    position = ROBOT.column("default") + rng.normal(0.0, 0.2, len(NAMES))
    if spoiled:
        position[3] = np.nan  # a tick on this state latches DAMP
    quat = np.array([1.0, *rng.normal(0.0, 0.05, 3)])
    imu = ImuReading(quat / np.linalg.norm(quat), rng.normal(0.0, 0.5, 3))
    return RobotState(NAMES, position, rng.normal(0.0, 1.0, len(NAMES)), imu)


def test_ticks_after_rehearsals_on_other_states_and_commands_equal_the_unrehearsed_ones():
    plain, rehearsed = controller(), controller()
    rng = np.random.default_rng(0)
    for step in range(60):
        state, command = random_state(rng), rng.uniform(-0.5, 0.5, 3)
        rehearsal = rehearsed.rehearse(random_state(rng, spoiled=step % 7 == 0), rng.uniform(-1.0, 1.0, 3))
        assert (rehearsal.fault is not None) == (step % 7 == 0)  # the rehearsal really ran, faults included
        expected, got = plain.tick(state, command), rehearsed.tick(state, command)
        assert got.fault is None and expected.fault is None
        np.testing.assert_array_equal(got.action, expected.action)
        np.testing.assert_array_equal(got.command.as_rows(), expected.command.as_rows())
    assert rehearsed.runner.steps == plain.runner.steps == 60


def test_the_supervisor_rehearses_only_when_active_and_a_rehearsal_never_latches():
    supervisor = Supervisor(controller(), SupervisorConfig(startup_duration_s=0.1))
    rng = np.random.default_rng(1)
    assert supervisor.rehearse(0.0) is None  # PASSIVE, no state yet
    now = 0.0
    while supervisor.mode is not Mode.ACTIVE:
        state = random_state(rng)
        supervisor.on_joint_state(now, NAMES, ROBOT.column("default"), np.zeros(len(NAMES)))
        supervisor.on_imu(now, state.imu)
        if supervisor.mode is Mode.PASSIVE:
            assert supervisor.stand(now)[0]
        elif supervisor.mode is Mode.READY:
            assert supervisor.activate(now)[0]
        assert supervisor.rehearse(now) is None or supervisor.mode is Mode.ACTIVE
        supervisor.tick(now)
        now += 0.02
    spoiled = random_state(rng, spoiled=True)
    supervisor.on_joint_state(now, NAMES, spoiled.position, spoiled.velocity)
    assert supervisor.rehearse(now) is not None
    assert supervisor.mode is Mode.ACTIVE and supervisor.controller.safety.fault is None
    assert supervisor.tick(now).mode is Mode.DAMP  # the real tick on the same state does latch
