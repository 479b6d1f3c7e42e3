"""Training on two torch.distributed ranks (gloo on the CPU), launched by torchrun as a user launches it."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch

from policies.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from policies.distributed import Ranks
from policies.normalizer import RunningNormalizer
from policies.train_config import resolve_train_config
from sim2real.plot import EVAL_TAG, read_scalars
from sim2real_runtime.errors import ConfigError
from tests.cli_runner import in_process, one_line_error

WORKER = Path(__file__).with_name("rank_check_worker.py")
TORCHRUN = Path(sys.executable).with_name("torchrun")
SHORT_RUN = ["--task", "cartpole_balance", "--num-envs", "8", "--no-progress"]


class Launch(subprocess.Popen):
    """A torchrun process whose combined output goes to a file, so a chatty run never blocks on a full pipe."""

    def output(self) -> str:
        """Everything it printed so far."""
        self.log.seek(0)
        return self.log.read()


def torchrun(*args, ranks=2, module=True, **popen):
    """Start ``torchrun --standalone --nproc-per-node RANKS [-m] ARGS`` with the user's logging environment."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    launcher = [str(TORCHRUN), "--standalone", f"--nproc-per-node={ranks}", *(["-m"] if module else [])]
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (open as long as the process object)
    process = Launch([*launcher, *map(str, args)], env=env, stdout=log, stderr=subprocess.STDOUT, text=True, **popen)
    process.log = log
    return process


def finish(process, timeout=420):
    """Wait for a launch; returns (exit code, output)."""
    process.wait(timeout=timeout)
    return process.returncode, process.output()


def small_run_config(tmp_path, **fields):
    """A YAML of run fields for short cart-pole runs."""
    lines = {"eval_every": 100_000, "eval_envs": 2, "learner": {"learning_starts": 4, "batch_size": 64}} | fields
    path = tmp_path / "run.yaml"
    path.write_text(json.dumps(lines))
    return path


@pytest.mark.timeout(600)
def test_two_ranks_hold_identical_weights_after_every_update_while_learning_from_different_data(tmp_path):
    # FastSAC here (temperature, normalizer from batches); FastTD3 in the resume of the kill test below.
    algo = "fastsac"
    config = small_run_config(tmp_path)
    code, output = finish(
        torchrun(
            WORKER,
            tmp_path,
            "train",
            *SHORT_RUN,
            "--algo",
            algo,
            "--distributed",
            "--total-steps",
            "480",
            "--run-dir",
            tmp_path / "run",
            "--config",
            config,
            module=False,
        )
    )
    assert code == 0, output
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    for seen in ranks:
        assert seen["exit_code"] == 0
        assert seen["updates"] >= 50  # (30 iterations - 4 warm-up) x 2 updates
        assert seen["weights_differ"] == 0, seen
        assert seen["batches_equal"] == 0, seen
        names = set(seen["shared_names"])
        assert {"obs_normalizer.mean", "critic_normalizer.var"} <= names
        assert any(n.startswith("critic_target.") for n in names) and any(n.startswith("actor.") for n in names)
    assert "log_alpha" in ranks[0]["shared_names"]  # the temperature stays consistent
    saved = load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)
    assert saved["env_steps"] == 480 and len(saved["peer_ranks"]) == 1
    assert not torch.equal(saved["replay"]["obs"], saved["peer_ranks"][0]["replay"]["obs"])
    resolved = saved["config"]
    assert resolved["distributed"]["world_size"] == 2
    assert resolved["scaling"] == {
        "envs_per_rank": 8,
        "total_envs": 16,
        "batch_per_rank": 64,
        "effective_batch": 128,
        "learning_rate": 1e-3,
    }
    assert "scaling:" in (tmp_path / "run" / "config.yaml").read_text()


def _rank_pids(launcher_pid):
    """{rank: pid} of the workers a torchrun process started."""
    pids = {}
    for child in Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children").read_text().split():
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        rank = next(v.split(b"=", 1)[1] for v in environ if v.startswith(b"RANK="))
        pids[int(rank)] = int(child)
    return pids


def _wait_for_checkpoint(path, process, timeout=300):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.output()
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.5)


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "kill_signal",
    [pytest.param(signal.SIGKILL, id="SIGKILL"), pytest.param(signal.SIGTERM, id="SIGTERM", marks=pytest.mark.slow)],
)
def test_killing_one_rank_stops_the_job_with_a_message_keeps_the_checkpoint_and_resume_continues(tmp_path, kill_signal):
    run_dir = tmp_path / "run"
    config = small_run_config(tmp_path, checkpoint_every=160, distributed={"timeout_s": 60})
    job = torchrun(
        "sim2real",
        "train",
        *SHORT_RUN,
        "--distributed",
        "--total-steps",
        "1000000",
        "--run-dir",
        run_dir,
        "--config",
        config,
    )
    _wait_for_checkpoint(run_dir / CHECKPOINT_NAME, job)
    time.sleep(1.0)
    os.kill(_rank_pids(job.pid)[1], kill_signal)
    code, output = finish(job, timeout=120)
    assert code != 0
    lines = [line for line in output.splitlines() if line.startswith("sim2real train: rank")]
    expected_ranks = {0, 1} if kill_signal == signal.SIGTERM else {0}
    assert {int(line.split()[3]) for line in lines} == expected_ranks, output
    for line in lines:
        assert "of 2:" in line and ("lost contact with another rank" in line or "stopped by SIGTERM" in line)
        assert f"last checkpoint {run_dir / CHECKPOINT_NAME}" in line and "is intact" in line
        assert f"torchrun --nproc-per-node 2 -m sim2real train --distributed --resume --run-dir {run_dir}" in line
    if kill_signal == signal.SIGKILL:
        assert "Signal 9 (SIGKILL) received" in output  # torchrun names the rank that vanished
    saved = load_checkpoint(run_dir / CHECKPOINT_NAME)
    stopped_at = saved["env_steps"]
    assert stopped_at > 0 and stopped_at % 160 == 0
    target = stopped_at + 320
    checks = tmp_path / "checks"
    checks.mkdir()
    resume = ["train", "--distributed", "--resume", "--run-dir", run_dir, "--total-steps", target, "--no-progress"]
    code, output = finish(torchrun(WORKER, checks, *resume, module=False))
    assert code == 0, output
    assert f"run saved in {run_dir}" in output
    resumed = load_checkpoint(run_dir / CHECKPOINT_NAME)
    assert resumed["env_steps"] == target and resumed["agent"]["updates"] > saved["agent"]["updates"]
    for rank in range(2):  # FastTD3 after a resume: identical weights after every update, different batches
        seen = json.loads((checks / f"rank{rank}.json").read_text())
        assert seen["updates"] == 2 * 320 // 16 and seen["weights_differ"] == 0 and seen["batches_equal"] == 0
        assert "noise_std" not in seen["shared_names"]  # each rank explores with its own noise


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_two_ranks_reach_the_single_process_threshold_on_cartpole_balance(tmp_path):
    # Split the preset's 32 envs over the ranks: the same env steps and updates per iteration as the
    # single-process run, each update averaging two ranks' batches (effective batch 1024).
    config = tmp_path / "split.yaml"
    config.write_text(json.dumps({"distributed": {"num_envs_rule": "split"}}))
    code, output = finish(
        torchrun(
            "sim2real",
            "train",
            "--task",
            "cartpole_balance",
            "--distributed",
            "--total-steps",
            "400000",
            "--run-dir",
            tmp_path / "run",
            "--config",
            config,
            "--no-progress",
        ),
        timeout=3500,
    )
    assert code == 0, output
    returns = [value for _, value in read_scalars(tmp_path / "run", EVAL_TAG)]
    assert max(returns) >= 800, returns  # the single-process slow test's threshold, same 400k env steps


def test_distributed_without_torchrun_is_one_line(capsys, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    line = one_line_error(in_process(capsys, "train", "--task", "cartpole_balance", "--distributed"))
    assert "torchrun --nproc-per-node N -m sim2real train" in line


@pytest.fixture
def rank_zero_of_two(monkeypatch):
    """The environment torchrun gives rank 0 of a 2-rank job (nothing listens at its address)."""
    launch = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "x", "MASTER_PORT": "1"}
    for name, value in launch.items():
        monkeypatch.setenv(name, value)


def test_several_torchrun_processes_without_distributed_is_one_line(capsys, rank_zero_of_two):
    line = one_line_error(in_process(capsys, "train", "--task", "cartpole_balance"))
    assert "torchrun started 2 processes but --distributed is not given" in line


def test_resuming_under_another_world_size_is_one_line_naming_the_launch(capsys, rank_zero_of_two, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    one_rank = resolve_train_config("cartpole_balance", "fasttd3").model_dump(mode="json")
    save_checkpoint(run_dir / CHECKPOINT_NAME, {"config": one_rank, "env_steps": 16}, policy={})
    line = one_line_error(in_process(capsys, "train", "--distributed", "--resume", "--run-dir", run_dir))
    assert "trained on 1 rank(s), this job has 2" in line and f"sim2real train --resume --run-dir {run_dir}" in line


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, (32, 64, 512, 1024, 1e-3)),
        ({"num_envs_rule": "split", "batch_rule": "split"}, (16, 32, 256, 512, 1e-3)),
        ({"learning_rate_rule": "linear"}, (32, 64, 512, 1024, 2e-3)),
        ({"learning_rate_rule": "sqrt"}, (32, 64, 512, 1024, 1e-3 * 2**0.5)),
    ],
)
def test_scaling_rules_give_the_per_rank_and_effective_sizes(rules, expected):
    config = resolve_train_config("cartpole_balance", "fasttd3", flags={"distributed": {"world_size": 2, **rules}})
    scaling = config.scaling
    got = (scaling.envs_per_rank, scaling.total_envs, scaling.batch_per_rank, scaling.effective_batch)
    assert got == expected[:4] and scaling.learning_rate == pytest.approx(expected[4])
    learner = config.rank_learner()
    assert (learner.batch_size, learner.learning_rate) == (scaling.batch_per_rank, scaling.learning_rate)


def test_a_split_that_does_not_divide_and_an_edited_scaling_block_are_refused():
    with pytest.raises(ConfigError, match="num_envs 33 does not split evenly over 2 ranks"):
        resolve_train_config(
            "cartpole_balance",
            "fasttd3",
            flags={"num_envs": 33, "distributed": {"world_size": 2, "num_envs_rule": "split"}},
        )
    saved = resolve_train_config("cartpole_balance", "fasttd3").model_dump(mode="json")
    saved["scaling"]["effective_batch"] = 4096
    with pytest.raises(ConfigError, match="scaling is derived"):
        resolve_train_config("cartpole_balance", "fasttd3", flags={"scaling": saved["scaling"]})


class _OtherRank(Ranks):
    """Two ranks in one process: ``sum_`` adds what the other rank contributes for ``other``'s batch."""

    world_size = 2

    def __init__(self, other):
        self.other = other.to(torch.float64)

    def sum_(self, tensor):
        count = torch.full((1,), float(self.other.shape[0]), dtype=torch.float64)
        return tensor.add_(torch.cat([count, self.other.sum(0), self.other.square().sum(0)]))


def test_pooled_normalizer_statistics_equal_one_normalizer_fed_every_ranks_batch():
    torch.manual_seed(0)
    mine, theirs, later = torch.randn(64, 5) * 3 + 1, torch.randn(32, 5) - 2, torch.randn(48, 5)
    pooled, reference = RunningNormalizer(5), RunningNormalizer(5)
    pooled.update(mine, _OtherRank(theirs))
    pooled.update(later, _OtherRank(later))
    reference.update(torch.cat([mine, theirs]))
    reference.update(torch.cat([later, later]))
    for name in ("mean", "var", "count"):
        torch.testing.assert_close(getattr(pooled, name), getattr(reference, name), rtol=1e-9, atol=1e-9)
