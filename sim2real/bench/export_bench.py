"""``sim2real bench export``: single-thread inference latency of exported policies, onnxruntime beside torch.

Every policy the training presets would ship (each registered task x FastTD3/FastSAC), plus a reference
network: FastTD3's published 512-256-128 actor on a 235-entry observation with 12 actions (a humanoid MLP).
Weights are random; the observation normalizer gets non-trivial statistics so its folded constants run.
Each policy is exported with :func:`sim2real.export.write_onnx` (with its real contract) and run on one
observation (batch 1, float32) exactly as the deployment runtime runs it (a one-thread onnxruntime session
with input and output bound to fixed buffers, :class:`~sim2real_runtime.policy_runner.BoundInference`), and by torch
eager on the same module with one intra-op thread under ``inference_mode``. Before timing, both outputs
must agree; then the two contenders alternate in rounds so that machine noise hits each alike. The goal:
the reference network's onnxruntime p99 at or below 50 microseconds.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from policies.agent import AgentSpec, OffPolicyAgent
from policies.deployed import DeployedPolicy
from policies.fast_td3 import FastTD3, FastTD3Config
from policies.train_config import LEARNERS, resolve_train_config
from policies.trainer import build_agent
from sim2real.export import build_contract, write_onnx
from sim2real_runtime.contract import CONTRACT_KEY
from sim2real_runtime.policy_runner import BoundInference, single_thread_session
from tasks.registry import make_env, task_names

REFERENCE_OBS_SIZE = 235
"""Observation entries of the reference network (a humanoid MLP's, as REFERENCE.md quotes)."""
REFERENCE_ACTION_SIZE = 12
"""Actions of the reference network."""
GOAL_P99_US = 50.0
"""The goal: onnxruntime p99 of the reference network, in microseconds."""
TOLERANCE = 1e-5
"""Largest absolute difference allowed between the onnxruntime and torch actions."""
NORMALIZER_SAMPLES = 1024
"""Random observations folded into the normalizer's statistics."""


@dataclass(frozen=True)
class Latency:
    """Per-call durations of one contender, in microseconds."""

    p50_us: float
    """Median."""
    p99_us: float
    """99th percentile."""
    max_us: float
    """Slowest call."""


@dataclass(frozen=True)
class ExportBenchRow:
    """One exported policy's latencies."""

    policy: str
    """``task/algo``, or ``reference/fasttd3`` for the reference network."""
    algo: str
    """Algorithm whose actor it is."""
    hidden: tuple[int, ...]
    """Hidden layer widths of the actor."""
    activation: str
    """Hidden activation."""
    layer_norm: bool
    """Whether every hidden layer is followed by LayerNorm."""
    obs_size: int
    """Observation entries (the network's input width)."""
    action_size: int
    """Action entries (the network's output width)."""
    calls: int
    """Timed calls per contender (after warm-up)."""
    max_abs_diff: float
    """Largest absolute difference between the two contenders' actions on the timed input."""
    ort: Latency
    """onnxruntime, the deployment runtime's one-thread session."""
    torch: Latency
    """torch eager, one intra-op thread, ``inference_mode``."""
    torch_over_ort: float
    """torch p50 / onnxruntime p50: above 1 means onnxruntime is faster."""
    goal_met: bool | None
    """Reference row: whether onnxruntime p99 <= :data:`GOAL_P99_US`; None on the other rows."""


@dataclass(frozen=True)
class _Subject:
    """A policy to export and time, with the observation it is timed on."""

    name: str
    agent: OffPolicyAgent
    metadata: dict[str, str]
    obs: np.ndarray
    reference: bool


def _randomize_zero_parameters(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Give all-zero parameters (FastSAC's heads start at zero) small random values, so actions are non-zero."""
    with torch.no_grad():
        for param in module.parameters():
            if not param.any():
                param.copy_(0.01 * torch.randn(param.shape, generator=generator))


def _observations(size: int, count: int, generator: torch.Generator, offset: torch.Tensor) -> torch.Tensor:
    """``count`` random observations around per-entry ``offset`` with per-entry spreads drawn by ``generator``."""
    spread = torch.randn(size, generator=generator).exp()
    return offset + spread * torch.randn(count, size, generator=generator)


def _prepare(name: str, agent: OffPolicyAgent, metadata: dict[str, str], seed: int, reference: bool) -> _Subject:
    """Random weights made non-trivial, normalizer statistics from random observations, and the timed input."""
    generator = torch.Generator().manual_seed(seed)
    size = agent.spec.obs_size
    _randomize_zero_parameters(agent.actor, generator)
    samples = _observations(size, NORMALIZER_SAMPLES + 1, generator, 2.0 * torch.randn(size, generator=generator))
    agent.obs_normalizer.update(samples[1:])
    return _Subject(name, agent, metadata, samples[:1].numpy().astype(np.float32), reference)


def _task_subject(task: str, algo: str, seed: int) -> _Subject:
    """The actor ``task``'s preset would train with ``algo``, exported with its real contract."""
    env = make_env(task)
    agent = build_agent(resolve_train_config(task, algo, None, {}), env, torch.device("cpu"))
    bound = agent.actor.bound.detach().cpu().numpy()
    contract = build_contract(env, bound, {"task": task, "algo": algo})
    return _prepare(f"{task}/{algo}", agent, {CONTRACT_KEY: contract.to_json()}, seed, reference=False)


def _reference_subject(seed: int) -> _Subject:
    """FastTD3's published actor on the reference sizes, exported without a contract."""
    spec = AgentSpec(
        obs_size=REFERENCE_OBS_SIZE,
        critic_obs_size=REFERENCE_OBS_SIZE,
        action_bound=torch.ones(REFERENCE_ACTION_SIZE),
        num_envs=1,
        device=torch.device("cpu"),
    )
    return _prepare("reference/fasttd3", FastTD3(spec, FastTD3Config()), {}, seed, reference=True)


@contextlib.contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run torch with ``count`` intra-op threads, restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _time_calls(call: Callable[[], Any], calls: int) -> np.ndarray:
    """Nanoseconds of each of ``calls`` calls."""
    durations = np.empty(calls, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(calls):
        start = clock()
        call()
        durations[i] = clock() - start
    return durations


def _latency(durations_ns: np.ndarray) -> Latency:
    """p50, p99 and max of per-call nanoseconds, in microseconds."""
    p50, p99 = np.percentile(durations_ns, [50, 99]) / 1e3
    return Latency(float(p50), float(p99), float(durations_ns.max()) / 1e3)


def _max_abs_diff(name: str, inference: BoundInference, policy: DeployedPolicy, obs: np.ndarray) -> float:
    """How far onnxruntime's action is from torch's; RuntimeError beyond :data:`TOLERANCE` (a broken export)."""
    ort_action = inference(obs[0])[None]
    torch_action = policy(torch.from_numpy(obs)).numpy()
    diff = float(np.abs(ort_action - torch_action).max())
    if not diff <= TOLERANCE:
        raise RuntimeError(f"{name}: onnxruntime and torch actions differ by {diff:.3g} (> {TOLERANCE:g})")
    return diff


def _measure(subject: _Subject, folder: Path, iterations: int, rounds: int) -> ExportBenchRow:
    """Export one policy, check both contenders agree, then time them in alternating rounds."""
    policy = subject.agent.deployable()
    out = folder / f"{subject.name.replace('/', '-')}.onnx"
    path = write_onnx(policy, subject.agent.spec.obs_size, subject.metadata, out)
    spec = subject.agent.spec
    inference = BoundInference(single_thread_session(path), spec.obs_size, spec.action_bound.shape[0])
    per_round = max(1, iterations // rounds)
    with _torch_threads(1), torch.inference_mode():
        diff = _max_abs_diff(subject.name, inference, policy, subject.obs)
        contenders = {
            "ort": functools.partial(inference, subject.obs[0]),
            "torch": functools.partial(policy, torch.from_numpy(subject.obs)),
        }
        latency = _alternate(contenders, per_round, rounds)
    return _row(subject, per_round * rounds, diff, latency)


def _alternate(contenders: dict[str, Callable[[], Any]], per_round: int, rounds: int) -> dict[str, Latency]:
    """One untimed block of each contender, then ``rounds`` timed blocks of each, the order flipping every round."""
    for call in contenders.values():
        _time_calls(call, per_round)
    timed: dict[str, list[np.ndarray]] = {name: [] for name in contenders}
    for turn in range(rounds):
        order = list(contenders) if turn % 2 == 0 else list(reversed(contenders))
        for name in order:
            timed[name].append(_time_calls(contenders[name], per_round))
    return {name: _latency(np.concatenate(blocks)) for name, blocks in timed.items()}


def _row(subject: _Subject, calls: int, diff: float, latency: dict[str, Latency]) -> ExportBenchRow:
    """The table row of one measured policy."""
    config = subject.agent.config
    ort_latency, torch_latency = latency["ort"], latency["torch"]
    return ExportBenchRow(
        policy=subject.name,
        algo=config.algo,
        hidden=tuple(config.actor_hidden),
        activation=config.activation,
        layer_norm=config.layer_norm,
        obs_size=subject.agent.spec.obs_size,
        action_size=int(subject.agent.spec.action_bound.shape[0]),
        calls=calls,
        max_abs_diff=diff,
        ort=ort_latency,
        torch=torch_latency,
        torch_over_ort=torch_latency.p50_us / ort_latency.p50_us,
        goal_met=ort_latency.p99_us <= GOAL_P99_US if subject.reference else None,
    )


def run_export_bench(iterations: int = 20000, rounds: int = 10, seed: int = 0) -> list[ExportBenchRow]:
    """Time every shipped policy's export and the reference network: ``iterations`` calls per contender.

    The calls are split into ``rounds`` alternating blocks of onnxruntime and torch, after one untimed
    block of each as warm-up. The last row is the reference network.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        subjects = [_task_subject(task, algo, seed) for task in task_names() for algo in LEARNERS]
        subjects.append(_reference_subject(seed))
    with tempfile.TemporaryDirectory(prefix="export-bench-") as folder:
        return [_measure(subject, Path(folder), iterations, rounds) for subject in subjects]


def reference_row(rows: list[ExportBenchRow]) -> ExportBenchRow:
    """The reference network's row (the one the goal is judged on)."""
    return next(row for row in rows if row.goal_met is not None)


def format_export_bench(rows: list[ExportBenchRow]) -> str:
    """A table of the latencies, one row per policy, and the goal's verdict."""
    lines = [
        f"policy latency, batch 1, one thread, {rows[0].calls:,} calls each "
        f"(onnxruntime {ort.__version__}, torch {torch.__version__}), microseconds:",
        f"  {'policy':<26} {'actor':<20} {'obs':>4} {'act':>4} "
        f"{'ort p50':>8} {'p99':>7} {'max':>8} {'torch p50':>10} {'p99':>7} {'max':>8} {'torch/ort':>10}",
    ]
    for row in rows:
        actor = "-".join(map(str, row.hidden)) + (" LN" if row.layer_norm else "") + f" {row.activation}"
        lines.append(
            f"  {row.policy:<26} {actor:<20} {row.obs_size:>4} {row.action_size:>4} "
            f"{row.ort.p50_us:>8.1f} {row.ort.p99_us:>7.1f} {row.ort.max_us:>8.1f} "
            f"{row.torch.p50_us:>10.1f} {row.torch.p99_us:>7.1f} {row.torch.max_us:>8.1f} {row.torch_over_ort:>9.2f}x"
        )
    reference = reference_row(rows)
    verdict = "met" if reference.goal_met else "NOT met"
    lines.append(
        f"  goal: {reference.policy} onnxruntime p99 <= {GOAL_P99_US:g} us: {verdict} ({reference.ort.p99_us:.1f} us)"
    )
    return "\n".join(lines)


def result_as_dict(rows: list[ExportBenchRow]) -> dict[str, Any]:
    """The rows and the goal's verdict as one JSON-ready mapping (``bench: export``)."""
    reference = reference_row(rows)
    return {
        "bench": "export",
        "versions": {"onnxruntime": ort.__version__, "torch": torch.__version__},
        "goal": {"policy": reference.policy, "ort_p99_us_at_most": GOAL_P99_US, "met": reference.goal_met},
        "rows": [asdict(row) for row in rows],
    }
