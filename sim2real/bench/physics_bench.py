"""``sim2real bench env --robot R``: raw physics steps/s of one robot, MJX batched beside MuJoCo C single-thread.

Both engines step the robot's own MJCF (its solver options and timestep) from the same random states
around its home pose (:func:`sim.robot_pose.random_states`), with the same random motor inputs held
constant (a tenth of each motor's range, so robots move but do not fly apart). MJX is dispatched as the
envs dispatch it: one jitted call per control period, each a loop of physics sub-steps over the whole
batch. MuJoCo C runs the states one after another on one thread. Each round restarts from the initial
states (not timed), so every round times the same stretch of motion; rounds alternate between the
contenders so machine noise hits both alike.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from sim.mjx_import import mjx
from sim.mjx_limits import to_mjx
from sim.robot import Robot
from sim.robot_pose import random_states

DEFAULT_BATCHES = (256, 1024, 4096)
"""World counts the README reports."""

C_WORLDS = 16
"""Distinct states MuJoCo C steps through per round (one at a time, on one thread)."""


@dataclass(frozen=True)
class PhysicsBenchRow:
    """Raw physics throughput of one robot at one MJX batch size."""

    robot: str
    """Robot name."""
    num_worlds: int
    """MJX batch size."""
    mjx_steps_per_s: float
    """Physics steps per second summed over the batch (MJX, jit(vmap), this machine's JAX backend)."""
    mujoco_c_steps_per_s: float
    """Physics steps per second of MuJoCo C on one thread (same robot, same kind of states)."""
    mjx_over_c: float
    """MJX / MuJoCo C."""
    jit_seconds: float
    """Compile time of the batched step at this size."""
    substeps: int
    """Physics steps per jitted call (one control period)."""
    timestep: float
    """Physics step (s), from the MJCF."""


def _substeps(robot: Robot) -> int:
    """Physics steps in one control period (1 when the robot names no control period)."""
    control_dt = robot.config.control_dt or robot.mj_model.opt.timestep
    return max(1, round(control_dt / robot.mj_model.opt.timestep))


def _held_inputs(model: mujoco.MjModel, rng: np.random.Generator, count: int) -> np.ndarray:
    """Motor inputs drawn within a tenth of each motor's control range (+-0.1 where unlimited)."""
    low, high = model.actuator_ctrlrange.T
    half = np.where(model.actuator_ctrllimited, (high - low) / 2, 1.0) * 0.1
    mid = np.where(model.actuator_ctrllimited, (high + low) / 2, 0.0)
    return rng.uniform(mid - half, mid + half, (count, model.nu))


def _time_mujoco_c(model: mujoco.MjModel, qpos: np.ndarray, qvel: np.ndarray, ctrl: np.ndarray, steps: int) -> float:
    """Seconds MuJoCo C takes to step each state ``steps`` times, one state after another."""
    data = mujoco.MjData(model)
    elapsed = 0.0
    for q, v, u in zip(qpos, qvel, ctrl, strict=True):
        mujoco.mj_resetData(model, data)
        data.qpos[:], data.qvel[:], data.ctrl[:] = q, v, u
        start = time.perf_counter()
        for _ in range(steps):
            mujoco.mj_step(model, data)
        elapsed += time.perf_counter() - start
    return elapsed


def _batched_stepper(robot: Robot, substeps: int) -> Any:
    """A jitted function advancing a batch of MJX data by ``substeps`` physics steps."""
    model, _ = to_mjx(robot.mj_model, "jax", robot.mjcf_path)

    def control_period(data: mjx.Data) -> mjx.Data:
        return jax.lax.fori_loop(0, substeps, lambda _, d: mjx.step(model, d), data)

    return jax.jit(jax.vmap(control_period))


def bench_robot_physics(
    robot: Robot, batches: tuple[int, ...] = DEFAULT_BATCHES, calls: int = 25, rounds: int = 4, seed: int = 0
) -> list[PhysicsBenchRow]:
    """Measure one robot at each batch size; ``calls`` control periods per round and contender."""
    model = robot.mj_model
    substeps = _substeps(robot)
    stepper = _batched_stepper(robot, substeps)
    blank = mjx.make_data(model, impl="jax")
    rows = []
    for num_worlds in batches:
        rng = np.random.default_rng(seed)
        qpos, qvel = random_states(robot, num_worlds, rng)
        ctrl = _held_inputs(model, rng, num_worlds)
        initial = jax.vmap(lambda q, v, u: blank.replace(qpos=q, qvel=v, ctrl=u))(
            jnp.asarray(qpos, jnp.float32), jnp.asarray(qvel, jnp.float32), jnp.asarray(ctrl, jnp.float32)
        )
        initial = jax.block_until_ready(initial)
        start = time.perf_counter()
        jax.block_until_ready(stepper(stepper(initial)))  # the stepped data's types differ a little: two traces
        jit_seconds = time.perf_counter() - start
        c_worlds = min(C_WORLDS, num_worlds)
        mjx_seconds = c_seconds = 0.0
        for _ in range(rounds):
            data = initial
            start = time.perf_counter()
            for _ in range(calls):
                data = stepper(data)
            jax.block_until_ready(data)
            mjx_seconds += time.perf_counter() - start
            c_seconds += _time_mujoco_c(model, qpos[:c_worlds], qvel[:c_worlds], ctrl[:c_worlds], calls * substeps)
        mjx_rate = rounds * calls * substeps * num_worlds / mjx_seconds
        c_rate = rounds * calls * substeps * c_worlds / c_seconds
        rows.append(
            PhysicsBenchRow(
                robot=robot.name,
                num_worlds=num_worlds,
                mjx_steps_per_s=mjx_rate,
                mujoco_c_steps_per_s=c_rate,
                mjx_over_c=mjx_rate / c_rate,
                jit_seconds=jit_seconds,
                substeps=substeps,
                timestep=float(model.opt.timestep),
            )
        )
    return rows


def format_physics_bench(rows: list[PhysicsBenchRow]) -> str:
    """One line per robot and batch size."""
    lines = [
        f"raw physics, backend {jax.default_backend()}; MuJoCo C on one thread",
        f"  {'robot':<12}{'worlds':>8}{'MJX steps/s':>16}{'C steps/s':>14}{'MJX / C':>10}{'JIT s':>8}",
    ]
    for r in rows:
        lines.append(
            f"  {r.robot:<12}{r.num_worlds:>8}{r.mjx_steps_per_s:>16,.0f}{r.mujoco_c_steps_per_s:>14,.0f}"
            f"{r.mjx_over_c:>10.2f}{r.jit_seconds:>8.1f}"
        )
    return "\n".join(lines)


def physics_bench_as_dict(rows: list[PhysicsBenchRow]) -> dict[str, Any]:
    """The rows as a JSON-ready dict."""
    versions = {"jax": jax.__version__, "mujoco": mujoco.__version__}
    return {
        "bench": "physics",
        "backend": jax.default_backend(),
        "versions": versions,
        "rows": [asdict(r) for r in rows],
    }
