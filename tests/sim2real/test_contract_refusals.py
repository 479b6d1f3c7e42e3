"""A policy that does not fit the robot or task is refused in one line naming the mismatch; a NaN policy is damped."""

import json

import numpy as np
import onnx
import pytest
import torch

from sim2real.export import build_contract, write_onnx
from sim2real_runtime.contract import CONTRACT_KEY, PolicyContract
from sim2real_runtime.errors import ContractError
from sim2real_runtime.robot_schema import RobotConfig
from sim2real_runtime.robot_spec import RobotSpec
from tests.cli_runner import in_process, one_line_error


@pytest.fixture(scope="module")
def short_task(tmp_path_factory):
    path = tmp_path_factory.mktemp("task") / "short.yaml"
    path.write_text("task: cartpole_balance\nepisode_length: 50\n")
    return path


def rewritten(source, target, edit=None):
    """A copy of an exported policy whose contract JSON went through ``edit`` (None: contract removed)."""
    model = onnx.load(str(source))
    props = {p.key: p.value for p in model.metadata_props}
    del model.metadata_props[:]
    if edit is not None:
        contract = json.loads(props[CONTRACT_KEY])
        edit(contract)
        entry = model.metadata_props.add()
        entry.key, entry.value = CONTRACT_KEY, json.dumps(contract)
    onnx.save(model, str(target))
    return target


def rename_joint(contract):
    contract["joint_names"] = ["cart"]


def slower_control(contract):
    contract["control_dt"] = 0.02


def extra_term(contract):
    contract["observation"].append(dict(contract["observation"][0], name="extra", size=1))
    contract["observation_size"] = 6


def renamed_term(contract):
    contract["observation"][1]["name"] = "pole_tilt"


REFUSALS = {
    "no_contract": (None, "carries no policy contract"),
    "joint_names": (rename_joint, "joint names differ: only in policy [cart], only in robot [slider]"),
    "control_dt": (slower_control, "control dt differs: policy 0.02 s, robot YAML 0.01 s"),
    "observation_size": (extra_term, "observation size differs: the network takes 5, the contract's terms give 6"),
    "observation_terms": (renamed_term, "observation terms differ"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_sim2sim_refuses_a_policy_that_does_not_fit_in_one_line_naming_the_mismatch(
    case, fresh_policy, short_task, tmp_path, capsys
):
    edit, message = REFUSALS[case]
    policy = rewritten(fresh_policy.path, tmp_path / f"{case}.onnx", edit)
    result = in_process(capsys, "sim2sim", "--policy", policy, "--task", short_task, "--episodes", "1")
    assert result.returncode == 2
    assert message in one_line_error(result)
    assert "Traceback" not in result.stderr


def two_joint_spec(**changes):
    data = {
        "name": "biped",
        "mjcf": "biped.xml",
        "base_body": "pelvis",
        "control": "position",
        "action_scale": 0.25,
        "control_dt": 0.02,
        "joints": [
            {
                "name": "hip",
                "range": [-1, 1],
                "default_pos": 0.1,
                "kp": 20,
                "kd": 1,
                "effort_limit": 30,
                "velocity_limit": 10,
            },
            {
                "name": "knee",
                "range": [-2, 0],
                "default_pos": -0.4,
                "kp": 20,
                "kd": 1,
                "effort_limit": 30,
                "velocity_limit": 10,
            },
        ],
    } | changes
    return RobotSpec(RobotConfig.model_validate(data), "biped.yaml")


def two_joint_contract(**changes):
    fields = {
        "robot": "biped",
        "task": "walk",
        "control": "position",
        "joint_names": ("hip", "knee"),
        "default_pose": (0.1, -0.4),
        "action_scale": (0.25, 0.25),
        "action_low": (-1.0, -1.0),
        "action_high": (1.0, 1.0),
        "kp": (20.0, 20.0),
        "kd": (1.0, 1.0),
        "control_dt": 0.02,
        "observation_size": 0,
        "observation": (),
    }
    return PolicyContract(**(fields | changes))


def test_a_matching_contract_has_no_mismatch():
    assert two_joint_contract().mismatches(two_joint_spec()) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"joint_names": ("knee", "hip")},
            "joint order differs from position 0: policy [knee, hip], robot [hip, knee]",
        ),
        ({"control_dt": 0.01}, "control dt differs: policy 0.01 s, robot YAML 0.02 s"),
        ({"default_pose": (0.1, -0.3)}, "default_pose of knee differs: policy -0.3, robot YAML -0.4"),
        ({"kp": (20.0, 35.0)}, "kp of knee differs: policy 35, robot YAML 20"),
        ({"action_scale": (0.5, 0.5)}, "action_scale of hip differs"),
        ({"control": "torque"}, "control mode differs"),
        ({"robot": "quadruped"}, "robot name differs"),
    ],
)
def test_a_contract_that_differs_from_the_robot_yaml_is_refused_naming_the_difference(changes, message):
    contract = two_joint_contract(**changes)
    with pytest.raises(ContractError) as refused:
        contract.check_robot(two_joint_spec(), "policy.onnx")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_refusal_lists_the_first_three_differences_counts_the_rest_and_names_the_fix():
    contract = two_joint_contract(default_pose=(0.0, 0.0), kp=(10.0, 10.0))
    with pytest.raises(ContractError) as refused:
        contract.check_robot(two_joint_spec(), "policy.onnx", fix="use the robot it was trained for")
    assert str(refused.value) == (
        "policy.onnx: does not fit biped.yaml: default_pose of hip differs: policy 0, robot YAML 0.1; "
        "default_pose of knee differs: policy 0, robot YAML -0.4; kp of hip differs: policy 10, robot YAML 20 "
        "(and 1 more); use the robot it was trained for"
    )


def test_a_contract_that_contradicts_itself_is_refused_on_read():
    text = two_joint_contract(kp=(20.0,)).to_json()
    with pytest.raises(ContractError, match="kp has 1 entries for 2 joints"):
        PolicyContract.from_json(text, "policy.onnx")
    with pytest.raises(ContractError, match="schema"):
        PolicyContract.from_json(json.dumps({"schema_version": 99}), "policy.onnx")
    with pytest.raises(ContractError, match="not valid JSON"):
        PolicyContract.from_json("{", "policy.onnx")


def test_a_policy_that_outputs_nan_is_damped_and_sim2sim_reports_it(fresh_policy, short_task, tmp_path, capsys):
    policy = fresh_policy.agent.deployable()
    with torch.no_grad():
        policy.actor.head.bias.fill_(float("nan"))
    contract = build_contract(fresh_policy.env, np.ones(1), {"task": "cartpole_balance"})
    path = write_onnx(policy, 5, {CONTRACT_KEY: contract.to_json()}, tmp_path / "nan.onnx")
    result = in_process(capsys, "sim2sim", "--policy", path, "--task", short_task, "--episodes", "2", "--json")
    assert result.returncode == 1
    assert "latched DAMP" in one_line_error(result) and "non-finite command" in result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["faults"]) == 2 and all("step 0: non-finite command" in f for f in report["faults"])
    assert report["mjx_return_mean"] == 0.0 or np.isfinite(report["mjx_return_mean"])
