"""The bridge keeps its control period through a 5 kHz state burst and beside CPU-bound processes, over real DDS.

Periods are the bridge's own: its ``stats_file``, written when it stops, holds the interval between the starts
of consecutive control ticks (each publishes one command). The bounds are issue 20's: p99 within 2 control
periods (and, under load, the largest within 5), with no stale-state DAMP.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sim2real.bench.bridge_bench import cpu_load
from sim2real_runtime import read_contract
from tests.ros.conftest import CARTPOLE_POLICY, QUADRUPED_WALKING_POLICY, QUADRUPED_YAML, ROOT
from tests.ros.ros_graph import ros_environment
from tests.ros.test_bridge_over_dds import CARTPOLE, CARTPOLE_JOINTS, bring_to_active

CARTPOLE_PERIOD = read_contract(CARTPOLE_POLICY).control_dt
WALKING = {"robot": "quadruped", "robot_yaml": QUADRUPED_YAML, "policy": QUADRUPED_WALKING_POLICY}
WALKING_PERIOD = read_contract(QUADRUPED_WALKING_POLICY).control_dt
BURST_RATE_HZ = 5000.0
BURST_SECONDS = 2.0
LOAD_PROCESSES = 2


def realtime_permitted() -> bool:
    """Whether a process here may take SCHED_FIFO (root or CAP_SYS_NICE, or an rtprio limit), as the nodes try to."""
    probe = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


needs_realtime = pytest.mark.skipif(
    not realtime_permitted(),
    reason="SCHED_FIFO is refused here: the loop holds its period beside busy processes only at realtime_priority "
    "(README: Giving the loop a core)",
)


class StateDriver:
    """:mod:`tests.ros.state_burst` playing a still cart-pole at 200 Hz, bursting at 5 kHz on request."""

    def __init__(self, domain_id: int) -> None:
        command = [sys.executable, "-m", "tests.ros.state_burst", "--names", ",".join(CARTPOLE_JOINTS)]
        command += ["--position", "0.0,0.02", "--rate-hz", "200", "--burst-hz", str(BURST_RATE_HZ)]
        command += ["--burst-seconds", str(BURST_SECONDS)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=ros_environment(domain_id), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()

    def next_line(self, probe, timeout: float) -> str:
        """The driver's next line of output, the probe spinning meanwhile."""
        assert probe.wait_for(lambda: not self.lines.empty(), timeout), "the state driver said nothing"
        return self.lines.get()

    def burst(self, probe) -> dict[str, float]:
        """One burst, the probe spinning meanwhile; the driver's report of it."""
        self.process.stdin.write("burst\n")
        self.process.stdin.flush()
        return json.loads(self.next_line(probe, 60 + BURST_SECONDS))

    def close(self) -> None:
        """End the driver."""
        self.process.kill()
        self.process.wait()


def command_period(stats: Path) -> dict[str, float]:
    """The bridge's loop-period summary (count, p50, p99, max in seconds) from the statistics it wrote at stop."""
    return json.loads(stats.read_text())["loop_period_s"]


def bursts_keep_the_bridge_active(launch, probe, domain_id: int, tmp_path: Path, bursts: int) -> None:
    """The cart-pole bridge driven ACTIVE on the driver's 200 Hz stream, then ``bursts`` 2 s bursts at 5 kHz, 1 s
    apart: it stays ACTIVE and keeps its command period."""
    stats = tmp_path / "stats.json"
    bridge = launch("bridge.launch.py", "policy_bridge", CARTPOLE, {"stats_file": stats})
    driver = StateDriver(domain_id)
    try:
        assert driver.next_line(probe, 60) == "ready\n"
        hears = lambda: bool(probe.diagnostics) and probe.diagnostics[-1]["state_age_ms"] != "inf"  # noqa: E731
        assert probe.wait_for(hears, 60), (probe.diagnostics[-1:], bridge.output())
        bring_to_active(probe, bridge)
        for _ in range(bursts):
            report = driver.burst(probe)
            probe.spin(1.0)
            modes = [mode for _, mode in probe.modes]
            assert modes[modes.index("ACTIVE") :] == ["ACTIVE"], (report, probe.modes, bridge.output()[-2000:])
        assert bridge.stop() == 0, bridge.output()[-2000:]
    finally:
        driver.close()
    period = command_period(stats)
    assert period["p99"] <= 2 * CARTPOLE_PERIOD, period


@needs_realtime
def test_a_5khz_joint_states_burst_for_2s_leaves_the_bridge_active_with_its_command_period(
    launch, probe, domain_id, tmp_path
):
    bursts_keep_the_bridge_active(launch, probe, domain_id, tmp_path, bursts=1)


@pytest.mark.slow
@needs_realtime
def test_five_5khz_joint_states_bursts_leave_the_bridge_active_with_its_command_period(
    launch, probe, domain_id, tmp_path
):
    """Issue 20 saw a stale-state DAMP in 3 of 5 bursts: five in a row on one bridge."""
    bursts_keep_the_bridge_active(launch, probe, domain_id, tmp_path, bursts=5)


def run_beside_cpu_load(launch, probe, tmp_path: Path, seconds: float) -> None:
    """The walking quadruped's bridge and emulator as sim.launch.py starts them, all of it beside
    :data:`LOAD_PROCESSES` busy processes: ``seconds`` ACTIVE with no DAMP and the command period held."""
    stats = tmp_path / "stats.json"
    with cpu_load(LOAD_PROCESSES):
        bridge = launch("sim.launch.py", "policy_bridge", WALKING, {"stats_file": stats})
        assert probe.wait_for(lambda: probe.mode == "PASSIVE", 120), bridge.output()
        emulator = launch("sim.launch.py", "mujoco_robot", WALKING)
        assert probe.wait_for(lambda: probe.mode == "ACTIVE", 120), (probe.modes, bridge.output(), emulator.output())
        probe.spin(seconds)
        modes = [mode for _, mode in probe.modes]
        assert modes[modes.index("ACTIVE") :] == ["ACTIVE"], (modes, bridge.output()[-2000:])
        assert bridge.stop() == 0, bridge.output()[-2000:]
    assert "stale" not in bridge.output() and "late" not in bridge.output(), bridge.output()[-2000:]
    period = command_period(stats)
    assert period["count"] >= 0.9 * seconds / WALKING_PERIOD, period
    assert period["p99"] <= 2 * WALKING_PERIOD and period["max"] <= 5 * WALKING_PERIOD, period


@needs_realtime
def test_beside_two_cpu_bound_processes_bridge_and_emulator_run_10s_with_no_damp_and_the_period_held(
    launch, probe, tmp_path
):
    run_beside_cpu_load(launch, probe, tmp_path, seconds=10.0)


@pytest.mark.slow
@needs_realtime
def test_beside_two_cpu_bound_processes_bridge_and_emulator_run_60s_with_no_damp_and_the_period_held(
    launch, probe, tmp_path
):
    run_beside_cpu_load(launch, probe, tmp_path, seconds=60.0)
