"""Policies the sim2real tests share: an untrained exported cart-pole policy and a briefly trained run."""

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from policies.agent import OffPolicyAgent
from policies.train_config import resolve_train_config
from policies.trainer import build_agent
from sim.env import MjxEnv
from sim2real.export import build_contract, write_onnx
from sim2real_runtime.contract import CONTRACT_KEY
from tasks.registry import is_task_yaml, make_env, task_yaml_overrides
from tests.cli_runner import sim2real

TINY = Path(__file__).resolve().parents[1] / "data" / "train" / "tiny.yaml"


@dataclass
class ExportedAgent:
    """A fresh agent with non-trivial normalizer statistics, and its export."""

    env: MjxEnv
    agent: OffPolicyAgent
    path: Path


def export_fresh_agent(algo: str, folder: Path, task: str = "cartpole_balance", head_std: float = 0.1) -> ExportedAgent:
    """Build an untrained agent for ``task``, give its normalizer statistics, export it with its contract.

    ``task`` is a registered task or a task YAML (whose overrides the contract records, as a run's export does).
    Parameters that start at zero (FastSAC's heads) are drawn from N(0, ``head_std``^2) so the policy has an
    output; a small ``head_std`` keeps a legged robot near its default pose.
    """
    torch.manual_seed(0)
    overrides = {}
    if is_task_yaml(task):
        spec, overrides = task_yaml_overrides(Path(task))
        task, env = spec.name, spec.build(spec.config(overrides))
    else:
        env = make_env(task)
    agent = build_agent(resolve_train_config(task, algo, None, {}), env, torch.device("cpu"))
    for parameter in agent.actor.parameters():  # FastSAC's heads start at zero: give the policy an output
        if not parameter.detach().any():
            torch.nn.init.normal_(parameter, 0.0, head_std)
    size = agent.spec.obs_size
    agent.obs_normalizer.update(torch.randn(512, size, dtype=torch.float64) * torch.linspace(0.1, 4, size) + 0.5)
    agent.eval()
    contract = build_contract(env, agent.actor.bound.numpy(), {"task": task, "algo": algo}, overrides)
    path = write_onnx(
        agent.deployable(), contract.observation_size, {CONTRACT_KEY: contract.to_json()}, folder / f"{algo}.onnx"
    )
    return ExportedAgent(env, agent, path)


@pytest.fixture(scope="session")
def fresh_policy(tmp_path_factory) -> ExportedAgent:
    """An untrained FastTD3 cart-pole policy, exported."""
    return export_fresh_agent("fasttd3", tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A cart-pole FastTD3 run trained for 400 env steps by the CLI, exported to RUN/policy.onnx."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    trained = sim2real(
        "train",
        "--task",
        "cartpole_balance",
        "--algo",
        "fasttd3",
        "--config",
        TINY,
        "--run-dir",
        run_dir,
        "--no-progress",
    )
    assert trained.returncode == 0, trained.stderr
    assert "last eval return" in trained.stdout
    exported = sim2real("export", run_dir)
    assert exported.returncode == 0, exported.stderr
    return run_dir
