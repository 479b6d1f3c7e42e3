import hashlib
import io

import torch

from policies.checkpoint import load_checkpoint, load_policy, save_checkpoint
from policies.runs import load_run_policy


def test_a_save_replaces_the_file_whole_and_clears_temporaries_a_killed_writer_left(tmp_path):
    path = tmp_path / "checkpoint.pt"
    (tmp_path / ".checkpoint.pt.999.tmp").write_bytes(b"half a checkpoint")
    save_checkpoint(path, {"step": 1}, policy={"actor": 1})
    save_checkpoint(path, {"step": 2}, policy={"actor": 2})
    assert load_checkpoint(path) == {"step": 2} and load_policy(path) == {"actor": 2}
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_format_1_checkpoint_still_loads_and_its_policy_is_cut_out_of_the_whole_state(tmp_path):
    modules = {"actor.head.bias": torch.ones(1), "obs_normalizer.mean": torch.zeros(5), "critic.bias": torch.ones(3)}
    state = {"config": {"task": "cartpole_balance"}, "env_steps": 8, "agent": {"modules": modules}, "replay": None}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    body = buffer.getvalue()
    header = b"SIM2REAL-CKPT 1 %d %s\n" % (len(body), hashlib.sha256(body).hexdigest().encode())
    (tmp_path / "checkpoint.pt").write_bytes(header + body)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["env_steps"] == 8
    assert load_policy(tmp_path / "checkpoint.pt") is None
    policy = load_run_policy(tmp_path)
    assert policy.keys() == {"config", "env_steps", "policy"}
    assert policy["policy"].keys() == {"actor.head.bias", "obs_normalizer.mean"}
