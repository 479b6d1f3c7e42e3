"""``sim2real bench bridge``: the policy bridge's loop timing with the MuJoCo emulator, over real DDS.

Both nodes run as their own processes, started as ``ros/launch/sim.launch.py`` starts them: the
``mujoco_robot`` and ``policy_bridge`` console scripts with ``--ros-args --params-file
ros/config/<robot>.yaml`` and the launch file's overrides (robot, policy, autostart), on a ROS domain of
their own with discovery limited to this host. The bridge stands the robot up and activates the policy
by itself; when the run ends it is stopped with SIGINT and writes its loop statistics (``stats_file``):

- loop period: between the starts of consecutive control ticks (every mode; each tick publishes one command);
- state-to-command: from the start of a tick (the moment the latest state is taken) to the command handed
  to DDS (observation, inference, safety filter, serialization, publish);
- state age: how old the latest ``/joint_states`` was at the tick (transport plus the wait for the tick);
- inference: onnxruntime alone (ACTIVE ticks);
- publish: the ``/joint_commands`` publish call alone (every command).

With ``load`` > 0 the bench first starts that many CPU-bound processes (a busy loop each, normal priority)
and keeps them running until both nodes have stopped: start-up, stand-up and the timed window all share the
CPU with them, as a robot's control loop shares its computer with perception and logging.

The default policy is an untrained FastSAC quadruped policy, exported like any trained one: its mean
action is zero, so the emulated robot stands on its default pose for the whole run and every tick runs
the full ACTIVE path (a fallen robot would be damped and skip inference).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROS_PACKAGE = Path(__file__).resolve().parents[2] / "ros"
"""The ROS package's source folder (its ``config/`` holds the per-robot parameter files)."""


STARTUP_TIMEOUT_S = 120.0
"""How long the emulator and bridge may take to start and stand the robot up before the timed window."""


@dataclass(frozen=True)
class Percentiles:
    """p50, p99 and max of one series, in milliseconds."""

    p50_ms: float
    """Median."""
    p99_ms: float
    """99th percentile."""
    max_ms: float
    """Largest sample."""
    count: int
    """Samples."""


@dataclass(frozen=True)
class BridgeBenchResult:
    """One run's figures."""

    robot: str
    """Parameter file ``ros/config/<robot>.yaml`` and robot."""
    policy: str
    """The ONNX policy the bridge ran."""
    nominal_period_ms: float
    """The policy's control period."""
    state_rate_hz: float
    """Rate of the emulator's ``/joint_states``."""
    seconds: float
    """Length of the timed run."""
    loop_period: Percentiles
    """Control loop period (the command period)."""
    state_to_command: Percentiles
    """Tick start to command published."""
    state_age: Percentiles
    """Age of the latest joint state at the tick."""
    inference: Percentiles
    """onnxruntime per ACTIVE tick."""
    publish: Percentiles
    """The command's publish call (serialization and the synchronous DDS write)."""
    active_ticks: int
    """Ticks the policy ran."""
    load: int
    """CPU-bound processes that ran beside the nodes."""
    fault: str | None
    """The first fault the bridge logged (it then damped the robot), or None."""


def export_untrained_policy(task: str, folder: Path) -> Path:
    """An untrained FastSAC policy for ``task`` (zero mean action), exported with its contract."""
    import torch

    from policies.train_config import resolve_train_config
    from policies.trainer import build_agent
    from sim2real.export import build_contract, write_onnx
    from sim2real_runtime.contract import CONTRACT_KEY
    from tasks.registry import make_env

    env = make_env(task)
    agent = build_agent(resolve_train_config(task, "fastsac", None, {}), env, torch.device("cpu"))
    agent.eval()
    contract = build_contract(env, agent.actor.bound.numpy(), {"task": task, "algo": "fastsac", "trained": "no"})
    metadata = {CONTRACT_KEY: contract.to_json()}
    return write_onnx(agent.deployable(), contract.observation_size, metadata, folder / f"{task}_untrained.onnx")


def _node_command(executable: str, robot: str, overrides: dict[str, Any]) -> list[str]:
    """The launch file's way of starting a node: the console script, its parameter file, ``-p`` overrides."""
    command = [str(Path(sys.executable).parent / executable), "--ros-args"]
    command += ["--params-file", str(ROS_PACKAGE / "config" / f"{robot}.yaml")]
    for key, value in overrides.items():
        command += ["-p", f"{key}:={str(value).lower() if isinstance(value, bool) else value}"]
    return command


def _stop(process: subprocess.Popen, timeout: float = 15.0) -> int:
    """SIGINT, then SIGKILL; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _wait_until_active(bridge: subprocess.Popen, log: Path, timeout: float = STARTUP_TIMEOUT_S) -> None:
    """Block until the bridge logs its change to ACTIVE, so the timed window holds only ACTIVE ticks."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if "-> ACTIVE" in log.read_text():
            return
        if bridge.poll() is not None:
            lines = log.read_text().strip().splitlines()
            raise RuntimeError(f"the bridge exited with {bridge.returncode} before ACTIVE: {lines[-1:]}")
        time.sleep(0.05)
    raise RuntimeError(f"the bridge did not reach ACTIVE within {timeout:g} s; its log ends {log.read_text()[-300:]!r}")


@contextlib.contextmanager
def cpu_load(processes: int) -> Iterator[None]:
    """``processes`` CPU-bound Python processes (a busy loop each, normal priority) for the length of the block."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for process in busy:
            process.kill()
            process.wait()


def _first_fault(log: str) -> str | None:
    """The first fault line of the bridge's log (``DAMP: ...`` or ``ESTOP: ...``), without the logger's prefix."""
    for line in log.splitlines():
        for mode in ("]: DAMP: ", "]: ESTOP: "):
            if mode in line:
                return line.split("]: ", 1)[1]
    return None


def _percentiles(summary: dict[str, dict[str, float]], name: str) -> Percentiles:
    row = summary.get(name, {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "count": 0})
    return Percentiles(1000 * row["p50"], 1000 * row["p99"], 1000 * row["max"], int(row["count"]))


def run_bridge_bench(
    robot_yaml: Path,
    robot: str,
    policy: Path,
    seconds: float,
    state_rate_hz: float,
    domain_id: int | None = None,
    load: int = 0,
) -> BridgeBenchResult:
    """Run emulator + bridge for ``seconds`` after the bridge turns ACTIVE; read the bridge's statistics.

    ``load`` CPU-bound processes run beside the nodes from before their start until after their stop.
    """
    from sim2real_runtime import read_contract

    contract = read_contract(policy)
    domain = domain_id if domain_id is not None else random.randint(150, 230)
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    with tempfile.TemporaryDirectory() as folder, cpu_load(load):
        stats = Path(folder) / "stats.json"
        logs = {name: (Path(folder) / f"{name}.log").open("w") for name in ("policy_bridge", "mujoco_robot")}
        bridge_overrides = {"robot": robot_yaml, "policy": policy, "autostart": True, "stats_file": stats}
        emulator_overrides = {"robot": robot_yaml, "state_rate_hz": state_rate_hz}
        processes = {
            "policy_bridge": subprocess.Popen(
                _node_command("policy_bridge", robot, bridge_overrides),
                stdout=logs["policy_bridge"],
                stderr=subprocess.STDOUT,
                env=env,
            ),
            "mujoco_robot": subprocess.Popen(
                _node_command("mujoco_robot", robot, emulator_overrides),
                stdout=logs["mujoco_robot"],
                stderr=subprocess.STDOUT,
                env=env,
            ),
        }
        try:
            _wait_until_active(processes["policy_bridge"], Path(folder) / "policy_bridge.log")
            time.sleep(seconds)
        finally:
            codes = {name: _stop(process) for name, process in processes.items()}
            for handle in logs.values():
                handle.close()
        if not stats.is_file():
            output = (Path(folder) / "policy_bridge.log").read_text().strip().splitlines()
            raise RuntimeError(f"the bridge wrote no statistics (exit {codes['policy_bridge']}): {output[-1:]}")
        summary = json.loads(stats.read_text())
        fault = _first_fault((Path(folder) / "policy_bridge.log").read_text())
    return BridgeBenchResult(
        robot=robot,
        policy=str(policy),
        nominal_period_ms=1000 * contract.control_dt,
        state_rate_hz=state_rate_hz,
        seconds=seconds,
        loop_period=_percentiles(summary, "loop_period_s"),
        state_to_command=_percentiles(summary, "state_to_command_s"),
        state_age=_percentiles(summary, "state_age_s"),
        inference=_percentiles(summary, "inference_s"),
        publish=_percentiles(summary, "publish_s"),
        active_ticks=_percentiles(summary, "inference_s").count,
        load=load,
        fault=fault,
    )


def format_bridge_bench(result: BridgeBenchResult) -> str:
    """A short human-readable report."""
    rows = [
        f"bridge on {result.robot}, {result.seconds:g} s, policy every {result.nominal_period_ms:g} ms, "
        f"joint states at {result.state_rate_hz:g} Hz, {result.active_ticks} ACTIVE ticks, "
        f"{result.load} CPU-bound processes beside it",
        f"  {'':<18}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for label, series in (
        ("loop period", result.loop_period),
        ("state-to-command", result.state_to_command),
        ("state age", result.state_age),
        ("inference", result.inference),
        ("publish", result.publish),
    ):
        rows.append(f"  {label:<18}{series.p50_ms:>10.3f}{series.p99_ms:>10.3f}{series.max_ms:>10.3f}")
    rows.append(f"  fault: {result.fault}" if result.fault else "  no fault: the bridge stayed ACTIVE")
    return "\n".join(rows)


def bridge_bench_as_dict(result: BridgeBenchResult) -> dict[str, Any]:
    """The result as a JSON-ready dict."""
    return {"bench": "bridge", **asdict(result)}
