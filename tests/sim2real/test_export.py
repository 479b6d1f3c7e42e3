"""Export: the ONNX policy computes what the torch policy computes, and carries its contract."""

import json
import os

import numpy as np
import onnx
import pytest
import torch

from policies.checkpoint import CHECKPOINT_NAME
from policies.runs import load_run
from sim2real.training import TrainRequest, prepare_training
from sim2real_runtime.contract import CONTRACT_KEY
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.policy_runner import PolicyRunner, read_contract
from tests.cli_runner import in_process, one_line_error
from tests.sim2real.conftest import TINY, export_fresh_agent

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


def test_export_reads_the_policy_alone_from_a_checkpoint_whose_replay_buffer_is_tens_of_mb(tmp_path, capsys):
    run_dir = tmp_path / "run"
    flags = {"learner": {"buffer_steps": 100_000}}
    trainer = prepare_training(TrainRequest("cartpole_balance", "fasttd3", flags, TINY, run_dir, False, False))
    for _ in range(12):  # past learning_starts: the optimizers hold state too
        trainer.train_iteration()
    assert trainer.agent.updates > 0
    trainer.save()
    checkpoint = run_dir / CHECKPOINT_NAME
    with checkpoint.open("rb") as handle:
        header = handle.readline()
    policy_end = len(header) + int(header.split()[2])  # the policy archive comes first, the training state after
    size = checkpoint.stat().st_size
    assert size > 40_000_000 and policy_end < 100_000
    assert in_process(capsys, "export", run_dir, "--out", tmp_path / "intact.onnx").returncode == 0
    with checkpoint.open("r+b") as handle:  # zero the training state: replay buffer, optimizers, env state
        handle.seek(policy_end)
        handle.write(bytes(size - policy_end))
    with pytest.raises(ConfigError, match="corrupt"):
        load_run(run_dir)  # what resuming reads is gone
    exported = in_process(capsys, "export", run_dir, "--out", tmp_path / "wiped.onnx")
    assert exported.returncode == 0, exported.stderr
    obs = np.random.default_rng(0).normal(0.0, 3.0, size=(100, 5)).astype(np.float32)
    wiped, intact = PolicyRunner(tmp_path / "wiped.onnx"), PolicyRunner(tmp_path / "intact.onnx")
    assert np.array_equal(wiped.act(obs), intact.act(obs)) and np.abs(intact.act(obs)).max() > 1e-3
    evaluated = in_process(capsys, "eval", run_dir, "--episodes", "2", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
