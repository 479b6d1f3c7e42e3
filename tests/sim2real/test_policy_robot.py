"""A policy knows its robot: sim2sim and rollout run an exported policy on the robot files and task settings
its contract records, name the files that changed since, fall back to the shipped robot of the same name,
and refuse a robot it does not fit in one line naming the first differences and the fix."""

import json

import pytest

from sim.assets import ASSETS_DIR, ROBOTS_DIR
from sim2real.sim2sim.task_env import policy_env
from sim2real_runtime.contract import PolicyContract
from sim2real_runtime.errors import ContractError
from sim2real_runtime.origin import exported_robot_yaml, file_sha256
from sim2real_runtime.policy_runner import read_contract
from tests.cli_runner import in_process, one_line_error
from tests.sim2real.conftest import export_fresh_agent
from tests.sim2real.test_contract_refusals import rewritten
from tests.sim2real.test_external_robot import write_user_folder
from tests.sim2real.video.mp4_checks import assert_browser_playable, decode


@pytest.fixture(scope="module")
def long_pole(tmp_path_factory):
    """An untrained FastTD3 policy exported for the user's long-pole cart-pole (a robot outside the repository)."""
    user = write_user_folder(tmp_path_factory.mktemp("long_pole") / "user")
    return export_fresh_agent("fasttd3", user, task=str(user / "tasks" / "balance.yaml")).path


def edit_origin(**changes):
    """A contract edit for :func:`rewritten` that changes fields of the recorded origin."""

    def edit(contract):
        contract["origin"].update(changes)

    return edit


def schema_1(contract):
    """The contract as exports before schema 2 wrote it: no origin."""
    del contract["origin"]
    contract["schema_version"] = 1


def test_sim2sim_runs_an_out_of_tree_policy_on_its_own_robot_and_task_settings_without_task(long_pole, capsys):
    result = in_process(capsys, "sim2sim", "--policy", long_pole, "--episodes", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["task"] == "cartpole_balance"
    assert report["episode_length_mean"] <= 50  # the task YAML's episode length, recorded at export
    assert report["observation_mismatch_max"] < 1e-5  # MJX and MuJoCo C ran the same (long-pole) robot
    assert "sim2real:" not in result.stderr  # nothing changed, nothing fell back


def test_rollout_renders_an_out_of_tree_policy_without_task(long_pole, tmp_path, capsys):
    out = tmp_path / "long_pole.mp4"
    flags = ("--engine", "mujoco", "--seconds", "0.2", "--width", "160", "--height", "120", "--num-envs", "1")
    result = in_process(capsys, "rollout", "--policy", long_pole, "--video", out, *flags, "--no-progress")
    assert result.returncode == 0, result.stderr
    assert_browser_playable(decode(out), fps=50, seconds=0.2, width=160, height=120)


def test_a_policy_on_a_robot_it_does_not_fit_is_refused_naming_the_first_differences_and_the_fix(
    long_pole, tmp_path, capsys
):
    result = in_process(capsys, "sim2sim", "--policy", long_pole, "--task", "cartpole_balance")
    line = one_line_error(result)
    differences = "robot name differs: policy 'long_pole_cartpole', robot YAML 'cartpole'; action_scale of slider "
    assert f"{differences}differs: policy 8, robot YAML 10; drop --task" in line
    fix = "drop --task to run it on the robot it was trained for, or re-export the policy for this robot"
    assert line.endswith(f"{fix} (sim2real export)")
    old = rewritten(long_pole, tmp_path / "schema1.onnx", schema_1)  # the case: no robot recorded
    line = one_line_error(in_process(capsys, "sim2sim", "--policy", old))
    assert "robot name differs" in line and "give --task a task YAML whose robot: names the robot YAML" in line


def test_a_changed_robot_file_is_named_and_the_policy_runs_on_it(long_pole, tmp_path, capsys):
    policy = rewritten(long_pole, tmp_path / "changed.onnx", edit_origin(mjcf_sha256="0" * 64))
    origin = read_contract(policy).origin
    name, env = policy_env(read_contract(policy), None, str(policy))
    assert name == "cartpole_balance" and str(env.robot.yaml_path) == origin.robot_yaml
    now = file_sha256(origin.mjcf)[:12]
    assert capsys.readouterr().err.strip().splitlines() == [
        f"sim2real: {policy}: MJCF {origin.mjcf} changed since the policy was exported (sha256 {now}, was 000000000000)"
    ]


def test_a_gone_robot_falls_back_to_the_shipped_one_by_name_or_is_refused_naming_task(
    fresh_policy, long_pole, tmp_path, capsys
):
    gone = str(tmp_path / "moved" / "robot.yaml")
    policy = rewritten(fresh_policy.path, tmp_path / "shipped.onnx", edit_origin(robot_yaml=gone))
    _, env = policy_env(read_contract(policy), None, str(policy))
    assert env.robot.yaml_path == ROBOTS_DIR / "cartpole" / "robot.yaml"
    notes = capsys.readouterr().err.strip().splitlines()
    assert notes == [f"sim2real: {policy}: robot YAML {gone} is gone; using the shipped robot cartpole"]
    policy = rewritten(long_pole, tmp_path / "gone.onnx", edit_origin(robot_yaml=gone))
    line = one_line_error(in_process(capsys, "sim2sim", "--policy", policy))
    assert f"trained on robot 'long_pole_cartpole' from {gone}, which is gone; give --task a task YAML" in line


def test_the_bridge_finds_the_exported_robot_yaml_and_names_a_changed_or_unrecorded_one(long_pole):
    contract = read_contract(long_pole)
    path, changes = exported_robot_yaml(contract.origin, "p.onnx")
    assert str(path) == contract.origin.robot_yaml and changes == []
    text = path.read_text()
    path.write_text(text + "# retuned\n")
    try:
        _, changes = exported_robot_yaml(contract.origin, "p.onnx")
    finally:
        path.write_text(text)
    assert len(changes) == 1 and changes[0].startswith(f"robot YAML {path} changed since the policy was exported")
    with pytest.raises(ContractError, match=r"p\.onnx does not record its robot"):
        exported_robot_yaml(None, "p.onnx")


def test_schema_1_policies_still_load_and_schema_2_round_trips_its_origin(long_pole):
    shipped = read_contract(ASSETS_DIR / "policies" / "quadruped_joystick_flat.onnx")
    assert shipped.schema_version == 1 and shipped.origin is None
    contract = read_contract(long_pole)
    assert contract.schema_version >= 2 and contract.origin.task_overrides["episode_length"] == 50
    assert PolicyContract.from_json(contract.to_json(), "p.onnx") == contract
