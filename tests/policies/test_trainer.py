import shutil
from pathlib import Path

import jax.numpy as jnp
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from policies.checkpoint import load_checkpoint
from policies.trainer import TrainingDivergedError
from sim2real.training import TrainRequest, prepare_training

TINY = Path(__file__).resolve().parents[1] / "data" / "train" / "tiny.yaml"


def request(run_dir, algo="fasttd3", resume=False, **flags):
    return TrainRequest("cartpole_balance", algo, flags, TINY, run_dir, resume, progress=False)


def same_tensors(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            same_tensors(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_tensors(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), path
    else:
        assert a == b, path


@pytest.mark.parametrize("algo", ["fasttd3", "fastsac"])
def test_a_resumed_run_reproduces_the_uninterrupted_run_exactly(tmp_path, algo):
    first = prepare_training(request(tmp_path / "a", algo, total_steps=200))
    first.run()
    shutil.copytree(tmp_path / "a", tmp_path / "resumed")
    resumed = prepare_training(request(tmp_path / "resumed", algo, resume=True, total_steps=400))
    assert resumed.iteration == 50 and resumed.agent.updates > 0
    resumed.run()
    straight = prepare_training(request(tmp_path / "straight", algo, total_steps=400))
    straight.run()
    assert straight.agent.updates == resumed.agent.updates > 0
    a = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    for key in ("agent", "replay", "env_state", "rng", "iteration"):
        same_tensors(a[key], b[key], key)
    assert [e[2] for e in a["evals"]] == [e[2] for e in b["evals"]]


def test_training_writes_tensorboard_scalars_and_the_resolved_config(tmp_path):
    trainer = prepare_training(request(tmp_path / "run"))
    evals = trainer.run()
    assert [e.env_steps for e in evals] == [200, 400]
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"eval/return_mean", "train/episode_return", "loss/critic", "loss/actor", "perf/env_steps_per_s"} <= tags
    text = (tmp_path / "run" / "config.yaml").read_text()
    assert "code at git" in text and "critic_hidden" in text and "batch_size: 32" in text
    payload = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert payload["config"]["learner"]["algo"] == "fasttd3" and payload["env_steps"] == 400
    assert set(payload["agent"]["optimizers"]) == {"critic", "actor"}
    assert "obs_normalizer.mean" in payload["agent"]["modules"]


def test_a_nan_loss_stops_the_run_naming_it_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = prepare_training(request(tmp_path / "run", total_steps=400))
    trainer.total_iterations = 25  # 100 env steps: one checkpoint
    trainer.run()
    trainer.total_iterations = 100
    with torch.no_grad():
        next(trainer.agent.critic.parameters()).fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match=r"non-finite critic loss at env step 104 .*last good checkpoint"):
        trainer.run()
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["env_steps"] == 100


def test_a_nan_observation_stops_the_run_naming_it(tmp_path):
    trainer = prepare_training(request(tmp_path / "run", total_steps=400))
    step = trainer.step_fn
    calls = []

    def poisoned(state, action):
        state = step(state, action)
        calls.append(1)
        if len(calls) == 30:
            state = state.replace(obs={**state.obs, "actor": state.obs["actor"].at[1, 2].set(jnp.nan)})
        return state

    trainer.step_fn = poisoned
    with pytest.raises(TrainingDivergedError, match=r"non-finite actor observation at env step 124"):
        trainer.run()
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["env_steps"] == 100
