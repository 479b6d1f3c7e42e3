"""``sim2real bench bridge``: emulator and bridge as processes over DDS, the bridge's loop statistics reported."""

import json

from tests.cli_runner import in_process, one_line_error, sim2real
from tests.ros.conftest import CARTPOLE_POLICY


def test_bench_bridge_reports_loop_period_latency_and_inference_of_an_active_bridge_as_json():
    result = sim2real("bench", "bridge", "--robot", "cartpole", "--policy", CARTPOLE_POLICY, "--seconds", "8", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["bench"] == "bridge" and report["nominal_period_ms"] == 10.0
    assert report["active_ticks"] > 100, report  # the bridge stood up and ran the policy by itself
    for series in ("loop_period", "state_to_command", "state_age", "inference", "publish"):
        row = report[series]
        assert row["count"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"], (series, row)
    assert "loop period" in result.stdout and "state-to-command" in result.stdout


def test_bench_bridge_refuses_a_robot_without_a_parameter_file_in_one_line(capsys):
    result = in_process(capsys, "bench", "bridge", "--robot", "hexapod")
    line = one_line_error(result)
    assert "--robot" in line and "hexapod" in line and "cartpole" in line
