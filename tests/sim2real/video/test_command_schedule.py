"""--command-schedule: fixed velocity commands played through the deployment runtime instead of random draws."""

import numpy as np
import pytest

from sim2real.sim2sim.command_schedule import parse_schedule
from sim2real.video.sources import RuntimeSource
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.policy_runner import read_contract
from tasks.registry import make_env
from tests.cli_runner import in_process, one_line_error
from tests.sim2real.video.mp4_checks import leftovers

TASK = "quadruped_joystick_flat"


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("0.6,0,0:4", [((0.6, 0.0, 0.0), 4.0)]),
        ("0.6,0,0:4;0,0,1:4", [((0.6, 0.0, 0.0), 4.0), ((0.0, 0.0, 1.0), 4.0)]),
        (" -0.4, 0.2 ,-1e-1 : 0.5 ; ", [((-0.4, 0.2, -0.1), 0.5)]),
    ],
)
def test_a_schedule_string_is_read_as_timed_vx_vy_yaw_segments(text, segments):
    schedule = parse_schedule(text)
    assert [(s.command, s.seconds) for s in schedule.segments] == segments
    assert schedule.duration_s == sum(seconds for _, seconds in segments)


def test_the_tour_stands_walks_turns_sidesteps_backs_up_and_stops_then_holds_zero():
    tour = parse_schedule("tour")
    assert tour.duration_s == 17.0
    expected = {0.5: (0, 0, 0), 1.0: (0.6, 0, 0), 4.9: (0.6, 0, 0), 5.0: (0.3, 0, 1.0), 9.5: (0, 0.4, 0)}
    expected |= {12.0: (-0.4, 0, 0), 15.5: (0, 0, 0), 17.0: (0, 0, 0), 60.0: (0, 0, 0)}
    for time_s, command in expected.items():
        np.testing.assert_array_equal(tour.command_at(time_s), command, err_msg=f"at {time_s} s")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("walk", "segment 1 'walk' is not VX,VY,YAW:SECONDS"),
        ("0.6,0:4", "segment 1 '0.6,0:4' is not VX,VY,YAW:SECONDS"),
        ("0.6,0,0:4;0,0,1", "segment 2 '0,0,1' is not VX,VY,YAW:SECONDS"),
        ("0.6,x,0:4", "is not a finite number"),
        ("inf,0,0:4", "is not a finite number"),
        ("0.6,0,0:0", "lasts 0 s; give it a positive number of seconds"),
    ],
)
def test_a_malformed_schedule_is_refused_naming_the_flag_and_the_fix(text, message):
    with pytest.raises(ConfigError) as refusal:
        parse_schedule(text)
    (problem,) = refusal.value.problems
    assert problem.file == "--command-schedule" and message in problem.message
    assert "e.g. '0.6,0,0:4;0,0,1:4'" in problem.message or "positive number" in problem.message


REFUSALS = {
    "malformed": (["--command-schedule", "0.6,0:4"], "--command-schedule: 0.6,0:4: segment 1"),
    "mjx engine": (["--command-schedule", "tour", "--engine", "mjx"], "add --engine mujoco"),
    "no velocity command": (["--command-schedule", "tour"], "task cartpole_balance takes no velocity command"),
    "pushes without schedule": (["--keep-pushes"], "--keep-pushes: -: only matters with --command-schedule"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_command_schedule_flag_is_refused_in_one_line_and_leaves_no_video(case, fresh_policy, tmp_path, capsys):
    flags, message = REFUSALS[case]
    engine = [] if "--engine" in flags else ["--engine", "mujoco"]
    out = tmp_path / "out.mp4"
    result = in_process(
        capsys, "rollout", "--policy", fresh_policy.path, "--video", out, *engine, *flags, "--no-progress"
    )
    assert result.returncode == 2
    assert message in one_line_error(result)
    assert leftovers(tmp_path) == []


def test_a_segment_outside_the_tasks_command_range_is_refused_in_one_line(quadruped_policy, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    flags = ("--engine", "mujoco", "--command-schedule", "0.6,0,0:2;2.5,0,0:2", "--no-progress")
    result = in_process(capsys, "rollout", "--policy", quadruped_policy, "--video", out, *flags)
    line = one_line_error(result)
    assert result.returncode == 2
    assert "segment 2 vx 2.5 is outside task quadruped_joystick_flat's range [-1.5, 1.5]" in line
    assert leftovers(tmp_path) == []


def _command_slice(policy) -> slice:
    """Where the velocity command sits in the policy's observation."""
    offset = 0
    for term in read_contract(policy).observation:
        if term.name == "velocity_command":
            assert term.scale == 1.0 and term.clip is None
            return slice(offset, offset + term.size)
        offset += term.size
    raise AssertionError("the policy reads no velocity command")


def test_the_scheduled_command_reaches_the_runtimes_observation_and_the_caption(quadruped_policy):
    env = make_env(TASK, {"pushes": {"interval_s": (0.02, 0.04)}})  # a push every step or two
    schedule = parse_schedule("0.5,0,0:0.1;0,0.3,-0.5:0.1;-0.2,0,0.8:0.06")
    source = RuntimeSource(env, TASK, str(quadruped_policy), 1, seed=0, schedule=schedule, pushes=False)
    controller = source.episodes[0].controller
    observed, tick = [], controller.tick
    controller.tick = lambda state, command=None: observed.append(tick(state, command)) or observed[-1]
    tiles = [source.start()[0]] + [source.step()[0] for _ in range(15)]
    steps = 0.02 * np.arange(16)
    for tile, time_s in zip(tiles, steps, strict=True):
        assert tile.time_s == pytest.approx(time_s)
        np.testing.assert_allclose(tile.command, schedule.command_at(time_s), atol=1e-6)
    runtime_commands = np.array([t.observation[_command_slice(quadruped_policy)] for t in observed])
    np.testing.assert_allclose(runtime_commands, [schedule.command_at(t) for t in steps[:15]], atol=1e-6)
    assert [c[0] for c in runtime_commands[[0, 5, 10, 14]]] == pytest.approx([0.5, 0.0, -0.2, 0.0])
    assert not np.any(source.episodes[0].state.info["push_velocity"]), "a scheduled rollout drops the pushes"
    source.episodes[0].pushes = True  # what --keep-pushes asks for: this task pushes every step or two
    pushes = []
    for _ in range(3):
        source.step()
        pushes.append(np.asarray(source.episodes[0].state.info["push_velocity"]))
    assert np.any(pushes)
