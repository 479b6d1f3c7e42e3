"""``sim2real bench gpu``: the dry run takes every row on the CPU, refusals, the budget, the device scripts."""

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from sim2real.bench import gpu_plan
from sim2real.bench.gpu_bench import JSON_NAME, MARKDOWN_NAME, NOT_REACHED, GpuBench
from sim2real.bench.gpu_plan import DRY_RUN_PLAN, SECTIONS, share
from sim2real.bench.gpu_system import PACKAGES
from tests.cli_runner import in_process, one_line_error, sim2real

REPO = Path(__file__).resolve().parents[2]
REPORT_KEYS = {"bench", "dry_run", "budget_s", "sections", "elapsed_s", "finished", "system", *SECTIONS}


def _rows(report):
    return [row for section in SECTIONS for row in report[section]]


def _value_or_reason(entry):
    """Exactly one of a value and a non-empty reason."""
    return ("value" in entry) != bool(entry.get("reason"))


CARTPOLE_DRY_RUN = replace(
    DRY_RUN_PLAN,
    env_tasks=("cartpole_balance",),
    update_task="cartpole_balance",
    learn_runs=tuple({run.algo: replace(run, task="cartpole_balance") for run in DRY_RUN_PLAN.learn_runs}.values()),
)
"""The dry run's every row, on the cart-pole: the same code paths, compiled in seconds instead of minutes (one
learn row per learner: on the cart-pole the plan's two FastSAC rows would be the same run)."""


def check_dry_run_report(out, plan, goal_prefix):
    """Every part of a dry run's JSON has a value or a reason; the Markdown table has a row per measurement."""
    report = json.loads((out / JSON_NAME).read_text())
    assert set(report) == REPORT_KEYS and report["bench"] == "gpu" and report["dry_run"] and report["finished"]
    system = report["system"]
    assert all(_value_or_reason(system[item]) for item in ("gpu", "driver", "gpu_memory"))
    assert set(system["versions"]) == {"python", *PACKAGES} and system["jax_backend"] == "cpu"
    assert all(_value_or_reason(row) for row in _rows(report)), _rows(report)

    env = {(row["task"], row["impl"]): row for row in report["env"]}
    assert set(env) == {(task, impl) for task in plan.env_tasks for impl in plan.impls}
    for task in plan.env_tasks:
        figures = env[task, "jax"]["value"]
        assert figures["env_steps_per_s"] > 0 and figures["env_over_raw"] > 0
    updates = {(row["algo"], row["compile"], row["bf16"]): row for row in report["updates"]}
    assert len(updates) == 8
    for algo in plan.update_algos:
        assert updates[algo, False, False]["value"]["updates_per_s"] > 0
        assert "CUDA" in updates[algo, False, True]["reason"]  # bf16 autocast is CUDA-only
        assert "torch.compile" in updates[algo, True, False]["reason"]
    learn = [(row["task"], row["algo"]) for row in report["learn"]]
    assert learn == [(run.task, run.algo) for run in plan.learn_runs]
    for row in report["learn"]:
        value = row["value"]
        assert value["evaluations"] >= 1 and len(value["curve"]) == value["evaluations"]
        assert value["time_limit_s"] <= plan.learn_cap_s and value["goal"].startswith(goal_prefix)

    table = (out / MARKDOWN_NAME).read_text()
    assert table.startswith("# sim2real bench gpu") and "dry run" in table
    assert "| task | envs | MJX | env steps/s |" in table and "| learner | compile | bf16 | updates/s |" in table
    assert table.count("\n| ") >= 3 + len(_rows(report))  # three header rows and one row per measurement


def test_bench_gpu_dry_run_reports_every_part_with_a_value_or_a_reason(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(gpu_plan, "DRY_RUN_PLAN", CARTPOLE_DRY_RUN)
    result = in_process(capsys, "bench", "gpu", "--dry-run", "--out", tmp_path / "bench", "--budget-s", "3000")
    assert result.returncode == 0, result.stderr
    check_dry_run_report(tmp_path / "bench", CARTPOLE_DRY_RUN, "eval return")


@pytest.mark.slow
def test_bench_gpu_dry_run_of_the_gpu_tasks_reports_every_part_with_a_value_or_a_reason(tmp_path):
    """The dry run as a user runs it (quadruped and humanoid): minutes of XLA compiling on a cold cache."""
    result = sim2real("bench", "gpu", "--dry-run", "--out", tmp_path / "bench", "--budget-s", "3000")
    assert result.returncode == 0, result.stderr
    check_dry_run_report(tmp_path / "bench", DRY_RUN_PLAN, "eval tracking")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_bench_gpu_without_cuda_refuses_in_one_line_naming_dry_run(capsys, tmp_path):
    result = in_process(capsys, "bench", "gpu", "--out", tmp_path / "bench")
    assert result.returncode == 2
    assert "--dry-run" in one_line_error(result)
    assert not (tmp_path / "bench" / JSON_NAME).exists()


def test_bench_gpu_refuses_an_unknown_section_in_one_line(capsys, tmp_path):
    result = in_process(capsys, "bench", "gpu", "--dry-run", "--out", tmp_path, "--only", "physics")
    assert result.returncode == 2 and "physics" in one_line_error(result)


def test_bench_gpu_with_its_budget_spent_gives_every_row_a_reason(capsys, tmp_path):
    result = in_process(
        capsys, "bench", "gpu", "--dry-run", "--out", tmp_path, "--only", "updates", "--budget-s", "1e-9"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / JSON_NAME).read_text())
    assert report["finished"] and all("value" not in row and row["reason"] for row in _rows(report))
    assert all("not asked for" in row["reason"] for row in report["env"] + report["learn"])
    assert all("budget" in row["reason"] for row in report["updates"])


def test_a_bench_gpu_killed_before_a_row_leaves_it_marked_not_reached(tmp_path):
    bench = GpuBench(DRY_RUN_PLAN, tmp_path, 60.0, SECTIONS, dry_run=True)
    bench.write()  # what run() writes first; a kill at any later point leaves rows not yet taken like this
    report = json.loads((tmp_path / JSON_NAME).read_text())
    assert not report["finished"] and all(row["reason"] == NOT_REACHED for row in _rows(report))
    assert "not finished" in (tmp_path / MARKDOWN_NAME).read_text()


def test_budget_shares_pass_unused_time_to_the_parts_after():
    assert share(100.0, [3.0, 3.0, 4.0]) == pytest.approx(30.0)
    assert share(90.0, [3.0, 4.0]) == pytest.approx(90.0 * 3 / 7)  # 10 s left unused by the first part
    assert share(-5.0, [1.0]) == 0.0


@pytest.mark.parametrize("script", ["device_run.sh", "fetch_device_wheels.sh"])
def test_device_scripts_pass_bash_n(script):
    checked = subprocess.run(["bash", "-n", REPO / "scripts" / script], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
