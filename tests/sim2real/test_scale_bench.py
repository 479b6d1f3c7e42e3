"""``sim2real bench scale``: one process against two torchrun ranks, side by side in one run."""

import json

import pytest

from tests.cli_runner import in_process, one_line_error, sim2real


@pytest.mark.timeout(600)
def test_bench_scale_reports_one_rank_against_two_with_their_efficiency_as_json():
    result = sim2real(
        "bench", "scale", "--num-envs", "8", "--warmup", "12", "--iterations", "10", "--rounds", "1", "--json"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    one, two = report["rows"]
    assert (one["ranks"], two["ranks"]) == (1, 2)
    for row in (one, two):
        assert row["env_steps_per_s"] > 0 and row["updates_per_s"] > 0
    # Each side ran 10 iterations x 2 updates: updates/s x effective batch is the learned samples/s.
    assert two["samples_per_s"] == pytest.approx(two["updates_per_s"] * 2 * 512)
    assert report["efficiency"] == pytest.approx(two["env_steps_per_s"] / (2 * one["env_steps_per_s"]))
    assert "scaling efficiency at 2 ranks" in result.stdout


@pytest.mark.parametrize(
    ("flags", "culprit"),
    [
        (["--ranks", "1"], "--ranks"),
        (["--iterations", "0"], "--iterations"),
        (["--algo", "ppo"], "--algo"),
        (["--task", "nope"], "nope"),
    ],
)
def test_bench_scale_refuses_bad_flags_in_one_line(capsys, flags, culprit):
    assert culprit in one_line_error(in_process(capsys, "bench", "scale", *flags))
