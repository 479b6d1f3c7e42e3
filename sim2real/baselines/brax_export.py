"""``sim2real export`` of a Brax PPO run: its deterministic policy as the same ONNX graph and contract as ours.

Brax PPO's policy is ``tanh(loc)`` of an MLP (swish between layers, none after the last) over the actor
observation normalized by brax's running statistics; the MLP's last layer gives the Gaussian's ``loc``
and scale, and deployment takes the mode. :class:`BraxPPOPolicy` is that computation in torch with the
statistics and weights frozen, so the exported graph takes ``obs`` and gives the action in ``[-1, 1]`` as
our learners' exports do, and the contract is built by the same :func:`~sim2real.export.build_contract`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from brax.io import model as brax_model
from torch import nn

from sim2real.baselines.brax_agents import CONFIG_FILE, PARAMS_FILE
from sim2real.export import POLICY_NAME, build_contract, config_digest, write_onnx
from sim2real_runtime.contract import CONTRACT_KEY, PolicyContract
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.yaml_io import read_yaml_mapping
from tasks.registry import make_env


class BraxPPOPolicy(nn.Module):
    """Brax PPO's deterministic policy: normalize the actor observation, the MLP, tanh of the mean."""

    def __init__(self, normalizer: Any, policy: dict[str, Any], action_size: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(np.array(normalizer.mean["actor"], dtype=np.float32)))
        self.register_buffer("std", torch.tensor(np.array(normalizer.std["actor"], dtype=np.float32)))
        layers = policy["params"]
        names = sorted(layers, key=lambda name: int(name.rsplit("_", 1)[-1]))
        self.layers = nn.ModuleList()
        for name in names:
            kernel = np.asarray(layers[name]["kernel"], dtype=np.float32)
            linear = nn.Linear(kernel.shape[0], kernel.shape[1])
            linear.weight.data = torch.from_numpy(kernel.T.copy())
            linear.bias.data = torch.tensor(np.array(layers[name]["bias"], dtype=np.float32))
            self.layers.append(linear)
        self.action_size = action_size

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The action for a batch of raw actor observations."""
        x = (obs - self.mean) / self.std
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                x = F.silu(x)
        return torch.tanh(x[..., : self.action_size])


DEPLOYABLE: dict[str, type[nn.Module]] = {"brax_ppo": BraxPPOPolicy}
"""Brax baseline -> its deterministic policy as a torch module built from saved params ``(normalizer, policy,
action size)``. Brax SAC is not here: it is the cart-pole throughput peer, not a policy to deploy."""


def export_brax_run(run_dir: Path, out: Path | None = None) -> tuple[Path, PolicyContract]:
    """Export a Brax run folder's policy (default ``RUN_DIR/policy.onnx``); returns the file and its contract."""
    config_path = run_dir / CONFIG_FILE
    config = read_yaml_mapping(config_path)
    algo = str(config.get("algo"))
    if algo not in DEPLOYABLE:
        exported = ", ".join(DEPLOYABLE)
        raise ConfigError.single(config_path, "algo", f"only runs of {exported} export ({algo} is a throughput peer)")
    try:
        normalizer, policy, _ = brax_model.load_params(str(run_dir / PARAMS_FILE))
    except Exception as exc:  # unpickling garbage can raise almost anything
        message = f"not a {algo} params pickle ({type(exc).__name__}); train and save the run again"
        raise ConfigError.single(run_dir / PARAMS_FILE, "-", message) from None
    env = make_env(str(config["task"]))
    module = DEPLOYABLE[algo](normalizer, policy, env.action_size).eval()
    training = {
        "task": str(config["task"]),
        "algo": algo,
        "env_steps": int(config.get("env_steps", 0)),
        "config_sha256": config_digest(config.get("settings", {})),
        "git_sha": str(config.get("git_sha", "unknown")),
        "run": run_dir.resolve().name,
        "seed": int(config.get("seed", 0)),
        "train_seconds": float(config.get("train_seconds", 0.0)),
        "command": str(config.get("command", "unknown")),
        "device": str(config.get("device", "unknown")),
    }
    if isinstance(config.get("init_from"), dict):
        training["init_from"] = config["init_from"]  # the run this one started from, and its own parents
    contract = build_contract(env, np.ones(env.action_size), training)
    target = out or run_dir / POLICY_NAME
    path = write_onnx(module, contract.observation_size, {CONTRACT_KEY: contract.to_json()}, target)
    return path, contract
