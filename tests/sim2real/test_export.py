"""Export: the ONNX policy computes what the torch policy computes, and carries its contract."""

import json
import os

import numpy as np
import onnx
import pytest
import torch

from sim2real.runtime.contract import CONTRACT_KEY
from sim2real.runtime.policy_runner import PolicyRunner, read_contract
from tests.cli_runner import in_process, one_line_error
from tests.sim2real.conftest import export_fresh_agent

OBSERVATIONS = 1000


@pytest.mark.parametrize("algo", ["fasttd3", "fastsac"])
def test_onnx_matches_the_torch_policy_to_1e5_on_1000_observations_normalizer_included(algo, tmp_path):
    exported = export_fresh_agent(algo, tmp_path)
    normalizer = exported.agent.obs_normalizer
    std = normalizer.var.sqrt().float()
    generator = torch.Generator().manual_seed(1)
    spread = torch.randn(OBSERVATIONS, exported.agent.spec.obs_size, generator=generator) * 20.0  # past the clip too
    obs = normalizer.mean.float() + spread * std
    expected = exported.agent.act(obs).numpy()
    runner = PolicyRunner(exported.path)
    got = runner.act(obs.numpy())
    assert got.shape == expected.shape == (OBSERVATIONS, exported.env.action_size)
    assert np.abs(got - expected).max() < 1e-5
    assert np.abs(expected).max() > 1e-3  # the policy is not trivially zero
    one_by_one = np.stack([runner.act(o) for o in obs[:50].numpy()])  # the runtime's bound single-observation path
    assert np.abs(one_by_one - expected[:50]).max() < 1e-5


def test_the_graph_takes_obs_gives_action_with_a_dynamic_batch_and_holds_the_contract(fresh_policy):
    model = onnx.load(str(fresh_policy.path))
    onnx.checker.check_model(model)
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert (graph_input.name, graph_output.name) == ("obs", "action")
    batch, width = graph_input.type.tensor_type.shape.dim
    assert batch.dim_param and width.dim_value == 5
    contract = json.loads({p.key: p.value for p in model.metadata_props}[CONTRACT_KEY])
    assert contract["joint_names"] == ["slider"] and contract["control_dt"] == 0.01
    assert [t["name"] for t in contract["observation"]] == [
        "cart_position",
        "pole_angle",
        "cart_velocity",
        "pole_angular_velocity",
    ]


def test_export_command_writes_the_policy_and_inspect_prints_its_contract(tiny_run, capsys):
    policy = tiny_run / "policy.onnx"
    contract = read_contract(policy)
    assert contract.robot == "cartpole" and contract.task == "cartpole_balance"
    assert contract.training["algo"] == "fasttd3" and contract.training["env_steps"] == 400
    assert len(contract.training["config_sha256"]) == 64
    shown = in_process(capsys, "inspect", policy)
    assert shown.returncode == 0, shown.stderr
    for expected in ("robot cartpole", "torque control", "every 10 ms", "slider", "pole_angle", "joint_cos_sin"):
        assert expected in shown.stdout
    assert f"robot YAML {contract.origin.robot_yaml} (sha256 {contract.origin.robot_yaml_sha256[:12]})" in shown.stdout
    as_json = in_process(capsys, "inspect", policy, "--json")
    assert json.loads(as_json.stdout)["joint_names"] == ["slider"]


def test_export_refuses_bad_destinations_in_one_line_and_leaves_no_file(tiny_run, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    cases = {
        tmp_path / "missing" / "p.onnx": "does not exist",
        tmp_path / "p.txt": "must end in .onnx",
    }
    if os.geteuid() != 0:  # root writes anywhere
        cases[locked / "p.onnx"] = "not writable"
    for out, message in cases.items():
        assert message in one_line_error(in_process(capsys, "export", tiny_run, "--out", out))
        assert not out.exists()
    assert not list(tmp_path.rglob("*.tmp"))
    assert "no such run folder" in one_line_error(in_process(capsys, "export", tmp_path / "nothing"))
