"""``sim2real bench env``: env steps/s against raw MJX physics (and MuJoCo Playground) side by side.

All contenders run in one process on one machine, at the same batch, and are dispatched the same way:
one jitted call per control step from a Python loop, as a trainer drives them. They are timed in
alternating rounds so machine noise hits each alike. The env run is long enough to include its
auto-resets.

Raw physics is the physics of the env's own step and nothing else: ``n_substeps`` MJX steps holding
the motor input the env last applied, on each env's model of the episode, from the env's own states.
Its input is a copy of the env's batch taken at the start of every round, stepped again at every call
(never carried on), so raw physics always runs in the env's regime. That matters: MJX's cost depends
on the state (the constraint solver iterates until the slowest env of the batch converges), and a
baseline that drifts away on its own (robots collapsed under a held torque, an arm pinned against its
joint limits) ran 30-65% slower or faster than the same physics in the env's states. For the same
reason it steps the env's randomized models: with the nominal model baked in as constants, XLA on the
CPU ran the arm's physics about 10% slower than with per-env model arrays. The env adds everything
else: its control law (PD at physics rate for the legged and arm tasks), drawing and applying the
dynamics randomization, action delay, pushes, observation, noise, reward, termination, auto-reset and
episode bookkeeping.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import jax
import jax.numpy as jnp
import mujoco

from sim.batched import BatchedEnv
from tasks.registry import make_env

PLAYGROUND_EQUIVALENTS = {"cartpole_balance": "CartpoleBalance", "cartpole_swingup": "CartpoleSwingup"}
"""Our task name -> MuJoCo Playground's equivalent environment."""


@dataclass(frozen=True)
class EnvBenchResult:
    """What ``bench env`` measured."""

    task: str
    """Task name."""
    num_envs: int
    """Batch size."""
    steps: int
    """Control steps timed per contender (after warm-up)."""
    env_steps_per_s: float
    """Our batched env (physics, observation, reward, DR, noise, delay, auto-reset)."""
    raw_steps_per_s: float
    """The env's physics alone: its sub-steps on its models, from its states (see the module docstring)."""
    env_over_raw: float
    """env / raw: 1.0 means the env adds nothing over physics."""
    playground_steps_per_s: float | None
    """MuJoCo Playground's equivalent task, wrapped as its trainers use it, when installed."""
    env_over_playground: float | None
    """env / Playground."""
    jit_seconds: float
    """Time to compile and run our env's first step."""
    backend: str
    """JAX backend the run used."""
    versions: dict[str, str]
    """jax, mujoco and (if used) playground versions."""


@dataclass
class _Contender:
    """A jitted step function, its state, the input it is stepped with and the seconds spent stepping it."""

    step: Callable[[Any, Any], Any]
    state: Any
    inputs: Any
    replay: bool = False
    """Step the same state at every call (raw physics from the env's states) instead of carrying it on."""
    seconds: float = 0.0

    def run(self, steps: int) -> None:
        """Time ``steps`` calls, one jitted call per control step as a trainer makes them."""
        jax.block_until_ready(self.state)
        start = time.perf_counter()
        out = self.state
        for _ in range(steps):
            out = self.step(self.state if self.replay else out, self.inputs)
        jax.block_until_ready(out)
        self.seconds += time.perf_counter() - start
        if not self.replay:
            self.state = out


def _physics_snapshot(state: Any) -> tuple[Any, dict[str, jax.Array]]:
    """Copies of the env batch's physics state and randomization draws (the env donates its own)."""
    return jax.tree.map(jnp.copy, (state.pipeline_state, state.info["dr"]))


def _playground_contender(task: str, num_envs: int, rng: jax.Array) -> tuple[Callable, Any] | None:
    """Playground's equivalent env (JAX implementation, its training wrappers), or None."""
    name = PLAYGROUND_EQUIVALENTS.get(task)
    if name is None or importlib.util.find_spec("mujoco_playground") is None:
        return None
    from mujoco_playground import registry, wrapper

    env = wrapper.wrap_for_brax_training(
        registry.load(name, config_overrides={"impl": "jax"}), episode_length=1000, action_repeat=1
    )
    return jax.jit(env.step, donate_argnums=0), jax.jit(env.reset)(jax.random.split(rng, num_envs))


def run_env_bench(
    task: str, num_envs: int, steps: int, rounds: int = 8, seed: int = 0, overrides: dict[str, Any] | None = None
) -> EnvBenchResult:
    """Measure env, raw physics and (when installed) Playground steps/s at one batch size.

    ``overrides`` are task config fields (``{"mjx_impl": "warp"}`` runs MJX's Warp implementation).
    """
    env = make_env(task, overrides)
    batched = BatchedEnv(env, num_envs)
    rng, action_key = jax.random.split(jax.random.PRNGKey(seed))
    action = jax.random.uniform(action_key, (num_envs, env.action_size), minval=-1.0, maxval=1.0)

    env_step = jax.jit(batched.step, donate_argnums=0)
    env_state = jax.jit(batched.reset)(rng)
    start = time.perf_counter()
    env_state = jax.block_until_ready(env_step(env_state, action))
    jit_seconds = time.perf_counter() - start

    def physics(data: Any, dr: dict[str, jax.Array]) -> Any:
        return env.physics_step(env.randomized_model(dr), data, data.ctrl)

    raw_step = jax.jit(jax.vmap(physics))
    raw_state, raw_models = _physics_snapshot(env_state)
    jax.block_until_ready(raw_step(raw_state, raw_models))

    env_contender = _Contender(env_step, env_state, action)
    raw = _Contender(raw_step, raw_state, raw_models, replay=True)
    contenders = {"env": env_contender, "raw": raw}
    playground = _playground_contender(task, num_envs, rng)
    if playground is not None:
        pg_step, pg_state = playground
        contenders["playground"] = _Contender(pg_step, jax.block_until_ready(pg_step(pg_state, action)), action)

    per_round = max(1, steps // rounds)
    for _ in range(rounds):
        raw.state, raw.inputs = _physics_snapshot(env_contender.state)
        for contender in contenders.values():
            contender.run(per_round)

    timed = per_round * rounds
    rate = {name: timed * num_envs / contender.seconds for name, contender in contenders.items()}
    versions = {"jax": jax.__version__, "mujoco": mujoco.__version__}
    if playground is not None:
        versions["playground"] = importlib.metadata.version("playground")
    pg_rate = rate.get("playground")
    return EnvBenchResult(
        task=task,
        num_envs=num_envs,
        steps=timed,
        env_steps_per_s=rate["env"],
        raw_steps_per_s=rate["raw"],
        env_over_raw=rate["env"] / rate["raw"],
        playground_steps_per_s=pg_rate,
        env_over_playground=None if pg_rate is None else rate["env"] / pg_rate,
        jit_seconds=jit_seconds,
        backend=jax.default_backend(),
        versions=versions,
    )


def format_env_bench(result: EnvBenchResult) -> str:
    """A short human-readable report."""
    lines = [
        f"task {result.task}, {result.num_envs} envs, {result.steps} steps each, backend {result.backend}",
        f"  env         {result.env_steps_per_s:>14,.0f} steps/s   (first step incl. JIT {result.jit_seconds:.1f} s)",
        f"  raw physics {result.raw_steps_per_s:>14,.0f} steps/s   env/raw = {result.env_over_raw:.3f}",
    ]
    if result.playground_steps_per_s is not None:
        lines.append(
            f"  playground  {result.playground_steps_per_s:>14,.0f} steps/s   "
            f"env/playground = {result.env_over_playground:.3f}"
        )
    else:
        lines.append("  playground  not measured (install the 'compare' extra, or no equivalent task)")
    return "\n".join(lines)


def format_env_table(results: list[EnvBenchResult]) -> str:
    """Every result as a row of a Markdown table: task, envs, env and raw steps/s, env/raw."""
    lines = ["| task | envs | env steps/s | raw steps/s | env / raw |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.task} | {r.num_envs} | {r.env_steps_per_s:,.0f} | {r.raw_steps_per_s:,.0f} | {r.env_over_raw:.2f} |"
        for r in results
    ]
    return "\n".join(lines)


def env_bench_as_dict(results: list[EnvBenchResult]) -> dict[str, Any]:
    """The results (one row per task and batch size) as a JSON-ready dict."""
    return {"bench": "env", "rows": [asdict(result) for result in results]}
