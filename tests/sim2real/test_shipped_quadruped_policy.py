"""The shipped walking quadruped (``assets/policies/quadruped_joystick_flat.onnx``): its provenance, and how it
deploys: through the runtime in MuJoCo C under 20 ms of latency it keeps its MJX tracking without a fault."""

import json
from pathlib import Path

import onnx

from sim2real_runtime.contract import CONTRACT_KEY
from tests.cli_runner import sim2real

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "policies" / "quadruped_joystick_flat.onnx"


def test_shipped_quadruped_policy_names_the_command_seed_and_time_that_trained_it():
    metadata = {prop.key: prop.value for prop in onnx.load(str(SHIPPED)).metadata_props}
    training = json.loads(metadata[CONTRACT_KEY])["training"]
    assert training["task"] == "quadruped_joystick_flat" and training["algo"] in ("fastsac", "fasttd3", "brax_ppo")
    assert "sim2real train" in training["command"] and "--task quadruped_joystick_flat" in training["command"]
    assert isinstance(training["seed"], int) and training["train_seconds"] > 0 and training["env_steps"] > 0
    assert training["device"].startswith("cpu")


def test_shipped_quadruped_keeps_90_percent_of_its_mjx_tracking_in_mujoco_c_under_20_ms_latency():
    result = sim2real("sim2sim", "--policy", SHIPPED, "--latency-ms", "20", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["task"] == "quadruped_joystick_flat" and report["latency_ms"] == 20
    assert report["faults"] == [], report["faults"]
    assert report["tracking_ratio"] >= 0.9, report
