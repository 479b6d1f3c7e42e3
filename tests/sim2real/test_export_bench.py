import json
import math

import pytest

from policies.train_config import LEARNERS, resolve_train_config
from sim2real.bench.export_bench import (
    REFERENCE_ACTION_SIZE,
    REFERENCE_OBS_SIZE,
    format_export_bench,
    result_as_dict,
    run_export_bench,
)
from tasks.registry import task_names


@pytest.fixture(scope="module")
def rows():
    return run_export_bench(iterations=200, rounds=2)


def test_one_row_per_task_and_algorithm_then_the_reference(rows):
    expected = [f"{task}/{algo}" for task in task_names() for algo in LEARNERS] + ["reference/fasttd3"]
    assert [row.policy for row in rows] == expected


def test_every_latency_is_finite_positive_and_ordered(rows):
    for row in rows:
        for latency in (row.ort, row.torch):
            assert all(math.isfinite(v) and v > 0 for v in (latency.p50_us, latency.p99_us, latency.max_us))
            assert latency.p50_us <= latency.p99_us <= latency.max_us
        assert row.torch_over_ort == pytest.approx(row.torch.p50_us / row.ort.p50_us)
        assert row.calls == 200


def test_onnxruntime_and_torch_actions_agree_on_the_timed_input(rows):
    assert all(row.max_abs_diff <= 1e-5 for row in rows)


def test_reference_row_is_the_published_fasttd3_actor_on_humanoid_sizes(rows):
    reference = rows[-1]
    assert reference.hidden == (512, 256, 128)
    assert (reference.obs_size, reference.action_size) == (REFERENCE_OBS_SIZE, REFERENCE_ACTION_SIZE) == (235, 12)
    assert isinstance(reference.goal_met, bool)
    assert all(row.goal_met is None for row in rows[:-1])


def test_task_rows_use_the_actor_their_training_preset_would_train(rows):
    for row in rows[:-1]:
        learner = resolve_train_config(*row.policy.split("/")).learner
        assert (row.hidden, row.activation, row.layer_norm) == (
            learner.actor_hidden,
            learner.activation,
            learner.layer_norm,
        )


def test_json_result_names_the_bench_rows_and_goal_verdict(rows):
    result = result_as_dict(rows)
    assert result["bench"] == "export"
    assert result["goal"]["met"] == rows[-1].goal_met
    assert len(result["rows"]) == len(rows)
    assert {"policy", "hidden", "obs_size", "action_size", "ort", "torch", "torch_over_ort", "goal_met"} <= set(
        result["rows"][0]
    )
    assert {"p50_us", "p99_us", "max_us"} == set(result["rows"][0]["ort"])
    assert json.loads(json.dumps(result))["rows"][-1]["hidden"] == [512, 256, 128]


def test_table_lists_every_policy_and_the_goal(rows):
    table = format_export_bench(rows)
    assert all(row.policy in table for row in rows)
    assert "goal:" in table and "512-256-128" in table
