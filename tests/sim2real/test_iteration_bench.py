"""``sim2real bench iteration``: every phase of a training iteration is timed and the shares add up."""

import json

from tests.cli_runner import in_process


def test_bench_iteration_times_every_phase_of_a_training_iteration(capsys):
    result = in_process(
        capsys,
        "bench",
        "iteration",
        "--task",
        "cartpole_balance",
        "--algo",
        "fasttd3",
        "--num-envs",
        "4",
        "8",
        "--batch-size",
        "32",
        "--warmup",
        "3",
        "--iterations",
        "4",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["bench"] == "iteration" and [row["num_envs"] for row in report["rows"]] == [4, 8]
    for row in report["rows"]:
        phases = row["phase_ms"]
        expected = {"env step", "transfer", "policy (rollout)", "replay add", "replay sample", "critic update"}
        assert expected <= set(phases), phases
        assert all(value > 0 for value in phases.values())
        assert sum(phases.values()) <= row["iteration_ms"] * 1.05  # phases are disjoint parts of an iteration
        assert 0 < row["learner_share"] < 1 and row["evaluation_s"] > 0 and row["updates_per_s"] > 0
    assert "where a fasttd3 iteration's time goes on cartpole_balance" in result.stdout


def test_bench_iteration_refuses_bad_sizes_in_one_line(capsys):
    result = in_process(capsys, "bench", "iteration", "--num-envs", "0")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "--num-envs" in lines[0], result.stderr
