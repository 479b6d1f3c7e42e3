"""Layers above the tasks read the goal a task declares: bench learn's goal, Brax's tracking, the command kind."""

import json

import numpy as np
import pytest

from sim.assets import ASSETS_DIR
from sim.task_goal import LearningGoal, TaskGoal
from sim2real.baselines.brax_agents import _EvalRecorder
from sim2real.bench.learn_bench import LearnGoal, goal_for
from sim2real.export import build_contract
from sim2real_runtime.contract import PolicyContract
from sim2real_runtime.errors import ContractError
from sim2real_runtime.policy_runner import read_contract
from tasks.registry import get_task, make_env
from tests.cli_runner import in_process, one_line_error

SHIPPED = ASSETS_DIR / "policies" / "quadruped_joystick_flat.onnx"


def test_bench_learn_takes_the_goal_the_task_spec_declares(monkeypatch):
    spec = get_task("cartpole_balance")
    declared = LearningGoal("tracking", 0.5, no_falls=True, time_limit_s=12.0)
    monkeypatch.setattr(spec.env_class, "GOAL", TaskGoal(tracking_terms=("upright",), learning=declared))
    assert spec.goal.learning == declared
    assert goal_for("cartpole_balance", None) == LearnGoal("tracking", 0.5, no_falls=True, time_limit_s=12.0)
    assert goal_for("cartpole_balance", 0.7).threshold == 0.7


def test_a_task_without_a_learning_goal_is_benched_on_the_return_threshold_given_or_refused(capsys):
    assert get_task("arm_reach").goal.learning is None
    assert goal_for("arm_reach", 10.0) == LearnGoal("return", 10.0)
    line = one_line_error(in_process(capsys, "bench", "learn", "--task", "arm_reach", "--only", "fasttd3"))
    assert "arm_reach" in line and "declares no learning goal" in line and "--threshold" in line


def test_brax_evaluations_report_the_tracking_term_the_task_declares():
    recorder = _EvalRecorder(threshold=None, time_limit_s=None, on_eval=None, tracking_term="reach")
    metrics = {"eval/episode_reward": 3.0, "eval/avg_episode_length": 10.0, "eval/episode_reward/reach": 4.0}
    recorder.progress(0, {**metrics, "eval/episode_reward/tracking_lin_vel": 9.0})
    assert recorder.points[0].tracking == pytest.approx(0.4)
    untracked = _EvalRecorder(threshold=None, time_limit_s=None, on_eval=None)
    untracked.progress(0, metrics)
    assert untracked.points[0].tracking is None


def test_export_records_the_declared_command_kind_and_old_contracts_read_it_from_their_observation():
    env = make_env("arm_reach")
    contract = build_contract(env, np.ones(env.action_size), {"task": "arm_reach"})
    assert contract.commands.kind == "target_position" == env.GOAL.command
    assert PolicyContract.from_json(contract.to_json(), "arm.onnx") == contract
    shipped = read_contract(SHIPPED)  # schema 1: no kind recorded
    assert shipped.schema_version == 1 and shipped.commands.kind == "velocity"


def test_a_command_kind_its_observation_does_not_feed_is_refused():
    data = json.loads(read_contract(SHIPPED).to_json())
    data["commands"]["kind"] = "target_position"
    with pytest.raises(ContractError, match="the target_position command has no position_command observation term"):
        PolicyContract.from_json(json.dumps(data), "p.onnx")
