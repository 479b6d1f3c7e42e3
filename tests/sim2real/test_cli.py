import json

import pytest

from sim.assets import shipped_robot_names
from sim.robot import load_robot
from sim2real.cli import main
from tests.cli_runner import in_process, one_line_error


def _json_tail(out):
    return json.loads(out.strip().splitlines()[-1])


def test_tasks_lists_every_registered_task(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "cartpole_balance" in out and "cartpole_swingup" in out


def test_robots_lists_every_shipped_robot_with_joints_mass_and_height(capsys):
    assert main(["robots"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert sorted(rows) == shipped_robot_names()
    assert rows["quadruped"][1:4] == ["12", "18", "position"]


def test_inspect_robot_prints_the_joint_table_mirror_map_and_totals(capsys):
    assert main(["inspect", "robot", "quadruped"]) == 0
    out = capsys.readouterr().out
    robot = load_robot("quadruped")
    for i, joint in enumerate(robot.joint_names):
        assert f"{i:>2}  {joint}" in out
    assert "+FR_thigh_joint" in out and "-FR_hip_joint" in out
    assert f"total mass {robot.total_mass:.2f} kg" in out and "12 actuated joints, 18 DoF (nq 19)" in out
    assert main(["inspect", "robot", str(robot.yaml_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "quadruped" and data["actuated"] == 12 and len(data["mirror"]["joints"]) == 12


def test_bench_env_robot_reports_mjx_beside_mujoco_c_per_batch_as_json(capsys):
    argv = ["bench", "env", "--robot", "cartpole", "--worlds", "4", "8", "--calls", "3", "--rounds", "1", "--json"]
    assert main(argv) == 0
    report = _json_tail(capsys.readouterr().out)
    assert report["bench"] == "physics" and [r["num_worlds"] for r in report["rows"]] == [4, 8]
    for row in report["rows"]:
        assert row["robot"] == "cartpole" and row["mjx_steps_per_s"] > 0 and row["mujoco_c_steps_per_s"] > 0
        assert row["mjx_over_c"] == pytest.approx(row["mjx_steps_per_s"] / row["mujoco_c_steps_per_s"])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["bench", "env", "--task", "cartpole_juggle"], "--task: cartpole_juggle: unknown task"),
        (["bench", "env", "--num-envs", "0"], "--num-envs: 0: must be at least 1"),
        (["bench", "env", "--robot", "quadruped", "--worlds", "0"], "--worlds: 0: must be at least 1"),
        (["bench", "env", "--robot", "quadruped", "--task", "cartpole_balance"], "--robot: quadruped: measures raw"),
        (["bench", "env", "--robot", "hexapod"], "hexapod: -: no such robot (shipped robots: arm, cartpole"),
        (["inspect", "robot", "hexapod"], "hexapod: -: no such robot"),
        (["inspect", "robot", "missing/robot.yaml"], "missing/robot.yaml: -: file not found"),
        (["bench", "export", "--iterations", "1"], "--iterations: 1: must be at least 10"),
        (["inspect", "nowhere.onnx"], "nowhere.onnx: no such policy file"),
        (["inspect", "README.md"], "README.md: not a readable ONNX model"),
    ],
)
def test_user_mistakes_get_one_line_and_exit_two(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_an_unknown_flag_exits_two_naming_the_flag(capsys):
    assert main(["bench", "env", "--nmu-envs", "8"]) == 2
    out = capsys.readouterr()
    assert "--nmu-envs" in out.out + out.err


def test_bench_env_prints_env_raw_and_ratio_per_batch_size_as_json_on_its_last_line(capsys):
    assert main(["bench", "env", "--num-envs", "4", "8", "--steps", "30", "--rounds", "2", "--json"]) == 0
    out = capsys.readouterr().out
    report = _json_tail(out)
    assert report["bench"] == "env" and [r["num_envs"] for r in report["rows"]] == [4, 8]
    for result in report["rows"]:
        assert result["task"] == "cartpole_balance" and result["steps"] == 30
        assert result["env_steps_per_s"] > 0 and result["raw_steps_per_s"] > 0
        assert result["env_over_raw"] == pytest.approx(result["env_steps_per_s"] / result["raw_steps_per_s"])
    assert "| cartpole_balance | 8 |" in out


@pytest.mark.slow
@pytest.mark.parametrize("task", ["cartpole_balance", "cartpole_swingup"])
def test_bench_env_at_full_batch_covers_auto_resets_and_reports_every_contender(task, capsys):
    assert main(["bench", "env", "--task", task, "--num-envs", "1024", "--steps", "2000", "--json"]) == 0
    (result,) = _json_tail(capsys.readouterr().out)["rows"]
    assert result["steps"] >= 1000, "the timed run must span a whole episode so auto-reset is paid for"
    assert result["env_over_raw"] > 0
    if result["playground_steps_per_s"] is not None:
        assert result["env_over_playground"] > 0


def test_bench_learn_reports_each_learner_and_the_ratio_as_json(capsys):
    # A threshold every first evaluation meets: the machinery, not the learning (that is `make bench`).
    argv = ["bench", "learn", "--only", "fasttd3", "brax_ppo", "--threshold", "-1", "--time-limit-s", "120", "--json"]
    assert main(argv) == 0
    report = _json_tail(capsys.readouterr().out)
    assert report["bench"] == "learn" and [r["name"] for r in report["results"]] == ["fasttd3", "brax_ppo"]
    assert all(r["reached"] and r["evaluations"] >= 1 for r in report["results"])
    assert set(report["ratios"]) == {"fasttd3/fastest_brax"}


def test_bench_learn_refuses_an_unknown_learner(capsys):
    assert main(["bench", "learn", "--only", "dqn"]) == 2
    err = capsys.readouterr().err.strip()
    assert "dqn" in err and "fasttd3, fastsac, brax_ppo, brax_sac" in err and len(err.splitlines()) == 1


def test_bench_learn_judges_joystick_tasks_on_tracking_and_falls_not_return():
    from policies.trainer import EvalPoint
    from sim2real.bench.learn_bench import goal_for

    quadruped, humanoid = goal_for("quadruped_joystick_flat", None), goal_for("humanoid_joystick_flat", None)
    assert (quadruped.metric, quadruped.threshold, quadruped.no_falls) == ("tracking", 0.8, True)
    assert (humanoid.metric, humanoid.threshold, humanoid.no_falls) == ("tracking", 0.8, True)
    assert quadruped.time_limit_s == humanoid.time_limit_s == 3600.0
    assert goal_for("cartpole_balance", None).threshold == 900.0
    assert goal_for("cartpole_balance", 500.0).threshold == 500.0
    tracking_well = EvalPoint(env_steps=1, seconds=1.0, mean_return=-3.0, tracking=0.85, falls=1)
    assert not quadruped.met(tracking_well) and not humanoid.met(tracking_well)
    assert humanoid.met(EvalPoint(1, 1.0, -3.0, 0.85, 0)) and not quadruped.met(EvalPoint(1, 1.0, 99.0, 0.5, 0))


def test_a_brax_evaluation_meets_a_tracking_goal_only_with_every_episode_at_the_time_limit():
    from sim2real.baselines.brax_agents import EvalPoint as BraxEvalPoint
    from sim2real.bench.learn_bench import goal_for

    goal = goal_for("quadruped_joystick_flat", None)
    assert goal.met_by_brax(BraxEvalPoint(1, 1.0, 30.0, tracking=0.85, episode_length=1000.0), 1000)
    assert not goal.met_by_brax(BraxEvalPoint(1, 1.0, 30.0, tracking=0.85, episode_length=990.0), 1000)
    assert not goal.met_by_brax(BraxEvalPoint(1, 1.0, 30.0, tracking=0.75, episode_length=1000.0), 1000)
    assert not goal.met_by_brax(BraxEvalPoint(1, 1.0, 30.0), 1000)


def test_bench_learn_refuses_brax_on_a_task_judged_by_tracking(capsys):
    assert main(["bench", "learn", "--task", "quadruped_joystick_flat", "--only", "fastsac", "brax_sac"]) == 2
    err = capsys.readouterr().err.strip()
    assert "brax_sac" in err and "tracking >= 0.8" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "culprit"),
    [
        (["train", "--eval-every", "5"], "--eval-every"),
        (["train", "--num-envs", "abc"], "--num-envs"),
        (["export"], "PATH"),
        (["sim2sim", "--policy"], "--policy"),
    ],
)
def test_a_bad_flag_is_refused_in_one_line_naming_it_and_the_help(argv, culprit, capsys):
    result = in_process(capsys, *argv)
    line = one_line_error(result)
    assert result.returncode == 2 and culprit in line, line
    assert line.startswith(f"sim2real {argv[0]}: ") and line.endswith(f"run sim2real {argv[0]} --help"), line
