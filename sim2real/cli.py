"""The ``sim2real`` command line: ``sim2real COMMAND [FLAGS]``, each command's flags parsed by tyro.

User mistakes (unknown command, bad flag, bad file) give one line naming the culprit and a non-zero exit.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tyro

from sim2real.flag_errors import FlagError, parse_flags
from sim2real_runtime.errors import ConfigError, RefusalError

if TYPE_CHECKING:
    from sim2real.video.rollout import VideoSettings


@dataclass
class TasksCmd:
    """List the registered tasks."""


@dataclass
class RobotsCmd:
    """List the shipped robots."""


@dataclass
class ValidateCmd:
    """Check robot and task YAML files (exit 0 when all are valid, 2 otherwise)."""

    files: tyro.conf.Positional[list[Path]]
    """Robot YAML or task YAML (``task: NAME`` plus config fields) files."""


@dataclass
class BenchEnvCmd:
    """Env steps/s vs its raw physics (and Playground); with --robot, raw MJX physics vs MuJoCo C per robot."""

    task: list[str] | None = None
    """Registered tasks to measure, each at every --num-envs (default cartpole_balance)."""
    num_envs: list[int] = dataclasses.field(default_factory=lambda: [1024])
    """Batch sizes (parallel envs)."""
    robot: list[str] | None = None
    """Measure raw physics of these robots (shipped names or robot YAML paths) instead of a task."""
    worlds: list[int] = dataclasses.field(default_factory=lambda: [256, 1024, 4096])
    """MJX batch sizes for --robot."""
    calls: int = 25
    """Control periods of physics timed per round and contender for --robot."""
    steps: int = 4000
    """Control steps timed per contender; keep it above the episode length so auto-resets count."""
    rounds: int = 8
    """Alternating timing rounds the steps are split into."""
    seed: int = 0
    """Seed for the envs and the random actions."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class TrainCmd:
    """Train a policy (FastTD3, FastSAC, or Brax PPO/SAC as baselines) on a task."""

    task: str | None = None
    """Registered task (sim2real tasks lists them) or task YAML; taken from the run when resuming."""
    algo: str | None = None
    """fasttd3 (default), fastsac, brax_ppo or brax_sac."""
    num_envs: int | None = None
    """Parallel training envs (default: the task's preset)."""
    total_steps: int | None = None
    """Env steps to train for (default: the task's preset); may grow when resuming."""
    seed: int | None = None
    """Seed (default 0)."""
    run_dir: Path | None = None
    """Run folder (default runs/TASK-ALGO-sSEED)."""
    resume: bool = False
    """Continue the run in --run-dir from its last checkpoint."""
    config: Path | None = None
    """YAML of run fields (learner hyperparameters under learner:, task overrides under env:)."""
    progress: bool = True
    """Print progress lines on stderr (from the start, at least every few seconds, and at each evaluation)."""
    distributed: bool = False
    """Train on every rank of a torchrun job (torchrun --nproc-per-node N -m sim2real train ... --distributed)."""
    until_goal: bool = False
    """Stop at the first evaluation meeting the task's goal (bench learn's: cart-pole return 900, joystick
    tracking 0.8 with no falls); the checkpoint is written then."""
    init_from: Path | None = None
    """brax_ppo only: start from this Brax PPO run's params (same task and networks); steps and seconds
    count on from its own, and its provenance is kept in the new run's config.yaml."""


@dataclass
class EvalCmd:
    """Evaluate a run's latest policy without exploration noise: returns, falls, episode length, tracking."""

    run_dir: tyro.conf.Positional[Path]
    """Run folder written by sim2real train."""
    task: str | None = None
    """Task to evaluate on (default: the run's task)."""
    episodes: int = 16
    """Episodes (played in parallel, one per env)."""
    seed: int = 12345
    """Seed of the evaluation envs."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class PlotCmd:
    """Plot learning curves of one or more runs as a PNG."""

    run_dirs: tyro.conf.Positional[list[Path]]
    """Run folders written by sim2real train."""
    out: Path | None = None
    """PNG to write (default: RUN_DIR/learning_curves.png of the first run)."""


@dataclass
class BenchLearnCmd:
    """Wall-clock and env steps to an eval return: FastTD3, FastSAC, Brax PPO, Brax SAC, one run."""

    task: str = "cartpole_balance"
    """Registered task to train on."""
    threshold: float | None = None
    """Value of the task's goal metric that counts as learned (default: the task's goal; cart-pole: return 900)."""
    time_limit_s: float | None = None
    """Per-learner wall-clock limit in seconds (default: the task's, 900 s or an hour for the joystick tasks)."""
    only: list[str] | None = None
    """Run only these learners (fasttd3, fastsac, brax_ppo, brax_sac)."""
    seed: int = 0
    """Seed of every learner."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class ExportCmd:
    """Export a run's policy to ONNX (normalizer and action bounds folded in, policy contract inside)."""

    run_dir: tyro.conf.Positional[Path]
    """Run folder written by sim2real train."""
    out: Path | None = None
    """ONNX file to write (default: RUN_DIR/policy.onnx)."""


@dataclass
class InspectCmd:
    """Print the policy contract of an exported ONNX file."""

    policy: tyro.conf.Positional[Path]
    """ONNX file written by sim2real export."""
    json: bool = False
    """Print the contract as JSON instead."""


@dataclass
class InspectRobotCmd:
    """Print a robot's joint table, mirror map and totals (mass, height, DoF)."""

    robot: tyro.conf.Positional[str]
    """Shipped robot name (sim2real robots lists them) or path to a robot YAML."""
    json: bool = False
    """Print the robot as JSON instead."""


@dataclass
class Sim2SimCmd:
    """Run an exported policy on the robot in MuJoCo C through the deployment runtime, beside its MJX return."""

    policy: Path
    """ONNX file written by sim2real export."""
    task: str | None = None
    """Registered task or task YAML to run (default: the task and robot the policy was exported for)."""
    episodes: int = 8
    """Episodes in MuJoCo C (the MJX evaluation plays the same ones)."""
    latency_ms: float = 0.0
    """Injected delay from command to motors, in milliseconds."""
    joint_pos_noise: float = 0.0
    """Uniform noise half-width on reported joint positions (rad or m)."""
    joint_vel_noise: float = 0.0
    """Uniform noise half-width on reported joint velocities."""
    gyro_noise: float = 0.0
    """Uniform noise half-width on the IMU angular velocity (rad/s)."""
    orientation_noise: float = 0.0
    """Largest random rotation of the reported IMU orientation (rad)."""
    seed: int = 0
    """Seed of the episode draws."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class BenchExportCmd:
    """onnxruntime (single thread) vs torch eager latency of the exported policies, side by side."""

    iterations: int = 20000
    """Timed calls per contender and policy."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class BenchBridgeCmd:
    """Policy bridge loop timing with the MuJoCo emulator over real ROS 2 DDS (needs the ros extra)."""

    robot: str = "quadruped"
    """Shipped robot: its robot YAML and ros/config/<robot>.yaml."""
    policy: Path | None = None
    """Exported .onnx to run (default: an untrained quadruped FastSAC policy, which stands still)."""
    seconds: float = 60.0
    """Length of the timed window, counted from the bridge turning ACTIVE (start-up and stand-up come before it)."""
    state_rate_hz: float = 200.0
    """Rate of the emulator's /joint_states (1000 for a 1 kHz stream)."""
    load: int = 0
    """CPU-bound processes (a busy loop each) to run beside the two nodes, from their start to their stop."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class BenchScaleCmd:
    """Training throughput on 1 rank against N torch.distributed ranks on this machine (env steps/s, updates/s)."""

    task: str = "cartpole_balance"
    """Registered task to train on."""
    algo: str = "fasttd3"
    """fasttd3 or fastsac."""
    ranks: int = 2
    """Ranks of the distributed side (torchrun --nproc-per-node)."""
    num_envs: int | None = None
    """Training envs per rank (default: the task's preset)."""
    warmup: int = 50
    """Iterations before timing (JIT, first updates)."""
    iterations: int = 300
    """Timed training iterations per round."""
    rounds: int = 2
    """Alternating rounds of both sides; each side's best counts."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class BenchIterationCmd:
    """Where a training iteration's time goes (env step, transfers, replay, critic and actor updates, evaluation)."""

    task: str = "quadruped_joystick_flat"
    """Registered task to train on (its preset for this machine's device)."""
    algo: str = "fastsac"
    """fasttd3 or fastsac."""
    num_envs: list[int] | None = None
    """Training env counts to profile (default: the preset's)."""
    batch_size: list[int] | None = None
    """Batch sizes to profile, before mirror doubling (default: the preset's)."""
    warmup: int = 30
    """Iterations before timing (JIT, first updates)."""
    iterations: int = 60
    """Timed iterations per configuration."""
    seed: int = 0
    """Seed of the envs and networks."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass
class BenchGpuCmd:
    """GPU figures in one run: env steps/s at 4096-16384 envs, update throughput, time to goal (JSON + Markdown)."""

    out: Path
    """Folder to write gpu_bench.json and gpu_bench.md into (rewritten after every row)."""
    budget_s: float = 420.0
    """Seconds the measuring may take; checked between rows, each section gets its share."""
    only: list[str] | None = None
    """Run only these sections (env, updates, learn); the others report why they have no figures."""
    dry_run: bool = False
    """Check every code path on the CPU in seconds: tiny envs, a few updates, about 2 s of learning per run."""


@dataclass(kw_only=True)
class VideoFlags:
    """Flags every video command shares."""

    video: Path
    """MP4 file to write (replaced only once the new one is complete)."""
    num_envs: int = 4
    """Copies shown side by side, in a grid."""
    seconds: float = 10.0
    """Simulated seconds of video."""
    width: int = 640
    """Frame width in pixels (even)."""
    height: int = 480
    """Frame height in pixels (even)."""
    camera: str = "track"
    """track (follow the robot's base) or fixed (look at where it started)."""
    overlay: bool = True
    """Caption each tile: time, commanded vs measured base velocity, step reward, safety-filter mode."""
    fps: float | None = None
    """Frames per second: the control rate divided by a whole number (default: the control rate, at most 50)."""
    seed: int = 0
    """Seed of the episode draws or perturbations."""
    progress: bool = True
    """Show a progress bar."""


@dataclass(kw_only=True)
class RolloutCmd(VideoFlags):
    """Render a policy's episodes headless (MuJoCo renderer, EGL) as a tiled, captioned H.264 MP4."""

    policy: Path
    """Run folder written by sim2real train, or ONNX file written by sim2real export."""
    task: str | None = None
    """Registered task or task YAML (default: the task and robot the policy was exported for)."""
    engine: str = "mjx"
    """mjx (batched MJX envs) or mujoco (MuJoCo C through the deployment runtime and safety filter)."""
    command_schedule: str | None = None
    """With --engine mujoco: fixed velocity commands instead of random ones, a name (tour) or VX,VY,YAW:SECONDS
    segments joined by ';' (e.g. '0.6,0,0:4;0,0,1:4'), from each episode's start; zero after the last."""
    keep_pushes: bool = False
    """With --command-schedule, keep the task's random pushes (dropped by default so the video shows tracking)."""
    json: bool = False
    """Print one JSON object as the last line."""


@dataclass(kw_only=True)
class PreviewCmd(VideoFlags):
    """Render a robot holding its default pose under its own PD gains, from perturbed starts (no task, no policy)."""

    robot: tyro.conf.Positional[str]
    """Shipped robot name or path to a robot YAML."""
    seconds: float = 3.0
    """Simulated seconds of video."""
    terrain: str = "flat"
    """Ground under the robot: flat, rough, stairs or obstacles (sim.terrain's defaults; needs a floor plane)."""


def _prepare_jax() -> None:
    """Turn on the persistent compilation cache (before JAX compiles anything)."""
    from sim.jax_cache import enable_compilation_cache

    enable_compilation_cache()


def _run_tasks(_: TasksCmd) -> int:
    from sim2real.catalog import tasks_table

    print("\n".join(tasks_table()))
    return 0


def _run_robots(_: RobotsCmd) -> int:
    from sim2real.catalog import robots_table

    print("\n".join(robots_table()))
    return 0


def _run_validate(cmd: ValidateCmd) -> int:
    from sim2real.validate import validate_files

    ok, problems = validate_files(cmd.files)
    for line in ok:
        print(line)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 2 if problems else 0


def _run_bench_env(cmd: BenchEnvCmd) -> int:
    counts = [("--steps", cmd.steps), ("--rounds", cmd.rounds), ("--calls", cmd.calls)]
    sizes = [("--num-envs", n) for n in cmd.num_envs] + [("--worlds", w) for w in cmd.worlds]
    for flag, value in counts + sizes:
        if value < 1:
            raise ConfigError.single(flag, str(value), "must be at least 1")
    if cmd.robot is not None:
        return _run_bench_physics(cmd)
    if not cmd.num_envs:
        raise ConfigError.single("--num-envs", "-", "name at least one batch size")
    from tasks.registry import get_task

    tasks = cmd.task or ["cartpole_balance"]
    for task in tasks:
        get_task(task)
    _prepare_jax()
    from sim2real.bench.env_bench import env_bench_as_dict, format_env_bench, format_env_table, run_env_bench

    results = []
    for task in tasks:
        for num_envs in cmd.num_envs:
            results.append(run_env_bench(task, num_envs, cmd.steps, cmd.rounds, cmd.seed))
            print(format_env_bench(results[-1]), flush=True)
    if len(results) > 1:
        print(format_env_table(results))
    if cmd.json:
        print(json.dumps(env_bench_as_dict(results)))
    return 0


def _run_bench_physics(cmd: BenchEnvCmd) -> int:
    if cmd.task is not None:
        raise ConfigError.single("--robot", " ".join(cmd.robot or []), "measures raw physics; drop --task (or --robot)")
    if not cmd.robot:
        raise ConfigError.single("--robot", "-", "name at least one robot (sim2real robots lists them)")
    from sim.robot import load_robot

    robots = [load_robot(name) for name in cmd.robot]
    _prepare_jax()
    from sim2real.bench.physics_bench import bench_robot_physics, format_physics_bench, physics_bench_as_dict

    rows = []
    for robot in robots:
        rows += bench_robot_physics(robot, tuple(cmd.worlds), cmd.calls, cmd.rounds, cmd.seed)
    print(format_physics_bench(rows))
    if cmd.json:
        print(json.dumps(physics_bench_as_dict(rows)))
    return 0


def _run_train(cmd: TrainCmd) -> int:
    """Train; exit 3 when the run diverged, 4 when a rank stopped, 128 + the signal's number when one stopped it."""
    for flag, value in (("--num-envs", cmd.num_envs), ("--total-steps", cmd.total_steps)):
        if value is not None and value < 1:
            raise ConfigError.single(flag, str(value), "must be at least 1")
    from sim2real.rank_setup import check_launch

    launch = check_launch(cmd.distributed)
    _prepare_jax()
    from policies.trainer import RunInterruptedError, RunStoppedError, TrainingDivergedError
    from sim2real.training import TrainRequest, train

    flags = {
        name: value
        for name, value in (("num_envs", cmd.num_envs), ("total_steps", cmd.total_steps), ("seed", cmd.seed))
        if value is not None
    }
    request = TrainRequest(
        cmd.task,
        cmd.algo,
        flags,
        cmd.config,
        cmd.run_dir,
        cmd.resume,
        cmd.progress,
        launch,
        cmd.until_goal,
        cmd.init_from,
    )
    try:
        run_dir, evals = train(request)
    except TrainingDivergedError as exc:
        print(f"sim2real train: {exc}", file=sys.stderr)
        return 3
    except RunStoppedError as exc:
        print(f"sim2real train: {exc}", file=sys.stderr)
        return 4
    except RunInterruptedError as exc:
        print(f"sim2real train: {exc}", file=sys.stderr)
        return 128 + exc.signal_number
    if launch is not None and launch.rank != 0:
        return 0
    last = f"; last eval return {evals[-1].mean_return:.1f} at {evals[-1].env_steps} env steps" if evals else ""
    print(f"run saved in {run_dir}{last}")
    return 0


def _run_eval(cmd: EvalCmd) -> int:
    if cmd.episodes < 1:
        raise ConfigError.single("--episodes", str(cmd.episodes), "must be at least 1")
    _prepare_jax()
    from sim2real.training import evaluate_run

    result = evaluate_run(cmd.run_dir, cmd.task, cmd.episodes, cmd.seed)
    tracked = "" if result["tracking"] is None else f", tracking {result['tracking']:.3f}"
    print(
        f"{result['task']} {result['algo']} after {result['env_steps']} env steps: return "
        f"{result['return_mean']:.1f} +- {result['return_std']:.1f} over {result['episodes']} episodes"
        f"{tracked}, {result['falls']} fell, mean length {result['episode_length_mean']:.0f} steps"
    )
    if cmd.json:
        print(json.dumps(result))
    return 0


def _run_plot(cmd: PlotCmd) -> int:
    from sim2real.plot import plot_runs

    plot = plot_runs(cmd.run_dirs, cmd.out or cmd.run_dirs[0] / "learning_curves.png")
    print(f"wrote {plot.out}")
    print(f"panels: {', '.join(plot.panels)}")
    return 0


def _run_bench_learn(cmd: BenchLearnCmd) -> int:
    from sim2real.bench.learn_bench import CONTENDERS, TRACKING_CONTENDERS, goal_for

    goal = goal_for(cmd.task, cmd.threshold)
    contenders = tuple(cmd.only or (CONTENDERS if goal.metric == "return" else TRACKING_CONTENDERS))
    unknown = [name for name in contenders if name not in CONTENDERS]
    if unknown:
        raise ConfigError.single("--only", " ".join(unknown), f"unknown learner; choose from: {', '.join(CONTENDERS)}")
    if goal.metric != "return" and set(contenders) - set(TRACKING_CONTENDERS):
        others = " ".join(sorted(set(contenders) - set(TRACKING_CONTENDERS)))
        raise ConfigError.single("--only", others, f"reports returns only; {cmd.task}'s goal is {goal.describe()}")
    time_limit_s = goal.time_limit_s if cmd.time_limit_s is None else cmd.time_limit_s
    if time_limit_s <= 0:
        raise ConfigError.single("--time-limit-s", str(time_limit_s), "must be positive")
    _prepare_jax()
    from sim2real.bench.learn_bench import format_learn_bench, result_as_dict, run_learn_bench

    results = run_learn_bench(cmd.task, contenders, goal, time_limit_s, cmd.seed)
    print(format_learn_bench(cmd.task, goal, results))
    if cmd.json:
        print(json.dumps(result_as_dict(cmd.task, goal, results)))
    return 0


def _run_export(cmd: ExportCmd) -> int:
    _prepare_jax()
    from sim2real.export import export_run

    path, contract = export_run(cmd.run_dir, cmd.out)
    print(
        f"wrote {path}: {contract.robot} {contract.task}, obs {contract.observation_size} -> "
        f"{contract.action_size} actions every {contract.control_dt * 1000:g} ms"
    )
    return 0


def _run_inspect(cmd: InspectCmd) -> int:
    from sim2real.inspect_policy import describe_contract
    from sim2real_runtime.policy_runner import read_contract

    contract = read_contract(cmd.policy)
    print(contract.to_json() if cmd.json else describe_contract(contract, str(cmd.policy)))
    return 0


def _run_inspect_robot(cmd: InspectRobotCmd) -> int:
    from sim.robot import load_robot
    from sim2real.inspect_robot import inspect_robot

    text, data = inspect_robot(load_robot(cmd.robot))
    print(json.dumps(data) if cmd.json else text)
    return 0


def _run_sim2sim(cmd: Sim2SimCmd) -> int:
    for flag, value, least in (("--episodes", cmd.episodes, 1),):
        if value < least:
            raise ConfigError.single(flag, str(value), f"must be at least {least}")
    noise_flags = {
        "--latency-ms": cmd.latency_ms,
        "--joint-pos-noise": cmd.joint_pos_noise,
        "--joint-vel-noise": cmd.joint_vel_noise,
        "--gyro-noise": cmd.gyro_noise,
        "--orientation-noise": cmd.orientation_noise,
    }
    for flag, value in noise_flags.items():
        if not 0.0 <= value < float("inf"):
            raise ConfigError.single(flag, str(value), "must be a finite number >= 0")
    _prepare_jax()
    from sim2real.sim2sim.mujoco_robot import SensorNoise
    from sim2real.sim2sim.run import Sim2SimSettings, run_sim2sim
    from sim2real.sim2sim.task_env import policy_env
    from sim2real_runtime.policy_runner import read_contract

    name, env = policy_env(read_contract(cmd.policy), cmd.task, str(cmd.policy))
    noise = SensorNoise(cmd.joint_pos_noise, cmd.joint_vel_noise, cmd.gyro_noise, cmd.orientation_noise)
    settings = Sim2SimSettings(episodes=cmd.episodes, latency_ms=cmd.latency_ms, noise=noise, seed=cmd.seed)
    report = run_sim2sim(cmd.policy, env, name, settings)
    print(report.format())
    if cmd.json:
        print(json.dumps(report.as_dict()))
    if report.faults:
        print(f"sim2real sim2sim: the safety filter latched DAMP ({report.faults[0]})", file=sys.stderr)
        return 1
    return 0


def _run_bench_export(cmd: BenchExportCmd) -> int:
    if cmd.iterations < 10:
        raise ConfigError.single("--iterations", str(cmd.iterations), "must be at least 10")
    from sim2real.bench.export_bench import format_export_bench, result_as_dict, run_export_bench

    rows = run_export_bench(cmd.iterations)
    print(format_export_bench(rows))
    if cmd.json:
        print(json.dumps(result_as_dict(rows)))
    return 0


def _run_bench_bridge(cmd: BenchBridgeCmd) -> int:
    from sim.assets import robot_yaml_path
    from sim2real.bench.bridge_bench import (
        ROS_PACKAGE,
        bridge_bench_as_dict,
        export_untrained_policy,
        format_bridge_bench,
        run_bridge_bench,
    )

    config = ROS_PACKAGE / "config" / f"{cmd.robot}.yaml"
    robot_yaml = robot_yaml_path(cmd.robot)
    if not config.is_file() or not robot_yaml.is_file():
        shipped = sorted(p.stem for p in (ROS_PACKAGE / "config").glob("*.yaml"))
        raise ConfigError.single("--robot", cmd.robot, f"no parameter file; choose one of: {', '.join(shipped)}")
    if not (0 < cmd.seconds < float("inf")) or not (0 < cmd.state_rate_hz < float("inf")):
        raise ConfigError.single("--seconds/--state-rate-hz", f"{cmd.seconds}/{cmd.state_rate_hz}", "must be positive")
    if cmd.load < 0:
        raise ConfigError.single("--load", str(cmd.load), "must be a number of processes, 0 or more")
    if importlib.util.find_spec("rclpy") is None:
        raise ConfigError.single(
            "rclpy", "-", "not installed; pip install -e '.[ros]' (see README, Running on a robot)"
        )
    with tempfile.TemporaryDirectory() as folder:
        policy = cmd.policy
        if policy is None:
            if cmd.robot != "quadruped":
                raise ConfigError.single("--policy", "-", f"give an exported policy for {cmd.robot}")
            _prepare_jax()
            policy = export_untrained_policy("quadruped_joystick_flat", Path(folder))
        result = run_bridge_bench(robot_yaml, cmd.robot, policy, cmd.seconds, cmd.state_rate_hz, load=cmd.load)
    print(format_bridge_bench(result))
    if cmd.json:
        print(json.dumps(bridge_bench_as_dict(result)))
    return 0


def _run_bench_scale(cmd: BenchScaleCmd) -> int:
    from policies.train_config import LEARNERS, resolve_train_config

    if cmd.algo not in LEARNERS:
        raise ConfigError.single("--algo", cmd.algo, f"unknown algorithm; choose one of: {', '.join(LEARNERS)}")
    for flag, value, least in (
        ("--ranks", cmd.ranks, 2),
        ("--num-envs", cmd.num_envs, 1),
        ("--warmup", cmd.warmup, 0),
        ("--iterations", cmd.iterations, 1),
        ("--rounds", cmd.rounds, 1),
    ):
        if value is not None and value < least:
            raise ConfigError.single(flag, str(value), f"must be at least {least}")
    from sim2real.bench.scale_bench import ScaleBenchError, format_scale_bench, run_scale_bench, scale_bench_as_dict
    from tasks.registry import get_task

    get_task(cmd.task)
    envs = cmd.num_envs or resolve_train_config(cmd.task, cmd.algo).num_envs
    try:
        bench = run_scale_bench(cmd.task, cmd.algo, cmd.ranks, envs, cmd.warmup, cmd.iterations, cmd.rounds)
    except ScaleBenchError as exc:
        print(f"sim2real bench scale: {exc}", file=sys.stderr)
        return 1
    print(format_scale_bench(bench))
    if cmd.json:
        print(json.dumps(scale_bench_as_dict(bench)))
    return 0


def _run_bench_iteration(cmd: BenchIterationCmd) -> int:
    from policies.train_config import LEARNERS

    if cmd.algo not in LEARNERS:
        raise ConfigError.single("--algo", cmd.algo, f"unknown algorithm; choose one of: {', '.join(LEARNERS)}")
    for flag, values in (("--num-envs", cmd.num_envs or []), ("--batch-size", cmd.batch_size or [])):
        for value in values:
            if value < 1:
                raise ConfigError.single(flag, str(value), "must be at least 1")
    for flag, value, least in (("--warmup", cmd.warmup, 0), ("--iterations", cmd.iterations, 1)):
        if value < least:
            raise ConfigError.single(flag, str(value), f"must be at least {least}")
    from sim2real.bench.iteration_bench import (
        format_iteration_profiles,
        iteration_profiles_as_dict,
        profile_iteration,
    )
    from tasks.registry import get_task

    get_task(cmd.task)
    rows = []
    for num_envs in cmd.num_envs or [None]:
        for batch_size in cmd.batch_size or [None]:
            overrides: dict = {} if num_envs is None else {"num_envs": num_envs}
            if batch_size is not None:
                overrides["learner"] = {"batch_size": batch_size}
            rows.append(profile_iteration(cmd.task, cmd.algo, overrides, cmd.warmup, cmd.iterations, cmd.seed))
            print(f"  profiled {len(rows)}: {rows[-1].iteration_ms:.1f} ms per iteration", flush=True)
    print(format_iteration_profiles(cmd.task, cmd.algo, rows))
    if cmd.json:
        print(json.dumps(iteration_profiles_as_dict(cmd.task, cmd.algo, rows)))
    return 0


def _run_bench_gpu(cmd: BenchGpuCmd) -> int:
    from sim2real.bench.gpu_plan import SECTIONS

    if not 0 < cmd.budget_s < float("inf"):
        raise ConfigError.single("--budget-s", str(cmd.budget_s), "must be a positive number of seconds")
    unknown = [name for name in cmd.only or [] if name not in SECTIONS]
    if unknown or cmd.only == []:
        raise ConfigError.single("--only", " ".join(unknown) or "-", f"choose sections from: {', '.join(SECTIONS)}")
    try:
        cmd.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError.single("--out", str(cmd.out), f"cannot make the folder ({exc.strerror})") from None
    import jax

    if cmd.dry_run:
        jax.config.update("jax_platforms", "cpu")
    else:
        # JAX would take 75% of the GPU's memory at its first use, leaving torch's learner short.
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        import torch

        if not torch.cuda.is_available() or jax.default_backend() != "gpu":
            seen = (
                "torch sees no CUDA device" if not torch.cuda.is_available() else "JAX sees no GPU (jax[cuda] missing?)"
            )
            raise ConfigError.single(
                "sim2real bench gpu", "CUDA", f"{seen}; run it on a GPU machine, or check it on this CPU with --dry-run"
            )
    _prepare_jax()
    from sim2real.bench.gpu_bench import JSON_NAME, MARKDOWN_NAME, GpuBench
    from sim2real.bench.gpu_plan import DRY_RUN_PLAN, GPU_PLAN

    plan = DRY_RUN_PLAN if cmd.dry_run else GPU_PLAN
    bench = GpuBench(plan, cmd.out, cmd.budget_s, tuple(cmd.only or SECTIONS), cmd.dry_run)
    report = bench.run()
    print((cmd.out / MARKDOWN_NAME).read_text().rstrip())
    print(f"wrote {cmd.out / JSON_NAME} and {cmd.out / MARKDOWN_NAME} in {report['elapsed_s']:.0f} s")
    return 0


def _video_settings(cmd: VideoFlags) -> VideoSettings:
    """The clip's settings, with every flag checked before anything slow starts."""
    from sim.render import CAMERAS
    from sim2real.video.mp4 import check_video_request
    from sim2real.video.rollout import VideoSettings

    if cmd.camera not in CAMERAS:
        raise ConfigError.single("--camera", cmd.camera, f"unknown camera; choose one of: {', '.join(CAMERAS)}")
    if cmd.num_envs < 1:
        raise ConfigError.single("--num-envs", str(cmd.num_envs), "must be at least 1")
    if not 0 < cmd.seconds < float("inf"):
        raise ConfigError.single("--seconds", str(cmd.seconds), "must be a positive number of seconds")
    check_video_request(cmd.video, cmd.width, cmd.height, cmd.fps or 1.0)
    return VideoSettings(cmd.seconds, cmd.width, cmd.height, cmd.camera, cmd.overlay, cmd.fps, cmd.progress)


def _run_rollout(cmd: RolloutCmd) -> int:
    settings = _video_settings(cmd)
    from sim2real.sim2sim.command_schedule import parse_schedule

    schedule = None if cmd.command_schedule is None else parse_schedule(cmd.command_schedule)
    _prepare_jax()
    from sim2real.video.policy_source import RolloutRequest, open_rollout_source
    from sim2real.video.rollout import record

    request = RolloutRequest(cmd.policy, cmd.task, cmd.engine, cmd.num_envs, cmd.seed, schedule, cmd.keep_pushes)
    source, title = open_rollout_source(request)
    report = record(source, cmd.video, settings, title)
    print(report.format())
    if cmd.json:
        print(json.dumps(report.as_dict()))
    return 0


def _run_preview(cmd: PreviewCmd) -> int:
    settings = _video_settings(cmd)
    from sim.robot import load_robot
    from sim.terrain import TERRAIN_KINDS, TerrainConfig, robot_on_terrain
    from sim2real.video.rollout import record
    from sim2real.video.sources import HoldPoseSource

    if cmd.terrain not in TERRAIN_KINDS:
        raise ConfigError.single(
            "--terrain", cmd.terrain, f"unknown terrain; choose one of: {', '.join(TERRAIN_KINDS)}"
        )
    robot = load_robot(cmd.robot)
    try:
        robot = robot_on_terrain(robot, TerrainConfig(kind=cmd.terrain, seed=cmd.seed))
    except ValueError as exc:
        raise ConfigError.single(robot.mjcf_path, "floor", str(exc)) from None
    source = HoldPoseSource(robot, cmd.num_envs, cmd.seed)
    print(record(source, cmd.video, settings, f"{robot.name} holding its default pose").format())
    return 0


COMMANDS: dict[str, tuple[type, Callable[[Any], int]]] = {
    "tasks": (TasksCmd, _run_tasks),
    "robots": (RobotsCmd, _run_robots),
    "validate": (ValidateCmd, _run_validate),
    "train": (TrainCmd, _run_train),
    "eval": (EvalCmd, _run_eval),
    "plot": (PlotCmd, _run_plot),
    "export": (ExportCmd, _run_export),
    "inspect": (InspectCmd, _run_inspect),
    "inspect robot": (InspectRobotCmd, _run_inspect_robot),
    "sim2sim": (Sim2SimCmd, _run_sim2sim),
    "rollout": (RolloutCmd, _run_rollout),
    "preview": (PreviewCmd, _run_preview),
    "bench env": (BenchEnvCmd, _run_bench_env),
    "bench learn": (BenchLearnCmd, _run_bench_learn),
    "bench export": (BenchExportCmd, _run_bench_export),
    "bench bridge": (BenchBridgeCmd, _run_bench_bridge),
    "bench scale": (BenchScaleCmd, _run_bench_scale),
    "bench iteration": (BenchIterationCmd, _run_bench_iteration),
    "bench gpu": (BenchGpuCmd, _run_bench_gpu),
}
"""Command words -> (flags dataclass, handler returning the exit code)."""


def _usage() -> str:
    """The top-level help: every command with its one-line description."""
    rows = [f"  sim2real {name:<13} {(cls.__doc__ or '').strip()}" for name, (cls, _) in COMMANDS.items()]
    return "usage: sim2real COMMAND [FLAGS]   (sim2real COMMAND --help for its flags)\n\n" + "\n".join(rows)


def _split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """Match the longest command name at the start of ``argv``; return it and the remaining flags."""
    for words in (2, 1):
        name = " ".join(argv[:words])
        if len(argv) >= words and name in COMMANDS:
            return name, argv[words:]
    return None, argv


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sim2real`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = _split_command(argv)
    if name is None:
        given = " ".join(a for a in argv[:2] if not a.startswith("-"))
        print(f"sim2real: unknown command '{given}'; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    cls, handler = COMMANDS[name]
    try:
        cmd = parse_flags(cls, rest, f"sim2real {name}")
    except SystemExit as exc:
        return int(exc.code or 0)
    except FlagError as exc:
        print(exc, file=sys.stderr)
        return exc.code
    try:
        return handler(cmd)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except RefusalError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sim2real {name}: interrupted", file=sys.stderr)
        return 130


def console_main() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    raise SystemExit(main())
