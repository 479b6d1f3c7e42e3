"""The ``sim2real`` command line: ``sim2real COMMAND [FLAGS]``, each command's flags parsed by tyro.

User mistakes (unknown command, bad flag, bad file) give one line naming the culprit and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tyro

from sim.errors import ConfigError


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
    """Env steps/s against bare mjx.step (and MuJoCo Playground when installed), side by side."""

    task: str = "cartpole_balance"
    """Registered task to measure."""
    num_envs: int = 1024
    """Batch size (parallel envs)."""
    steps: int = 4000
    """Control steps timed per contender; keep it above the episode length so auto-resets count."""
    rounds: int = 8
    """Alternating timing rounds the steps are split into."""
    seed: int = 0
    """Seed for the envs and the random actions."""
    json: bool = False
    """Print one JSON object as the last line."""


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
    for flag, value, least in (("--num-envs", cmd.num_envs, 1), ("--steps", cmd.steps, 1), ("--rounds", cmd.rounds, 1)):
        if value < least:
            raise ConfigError.single(flag, str(value), f"must be at least {least}")
    _prepare_jax()
    from sim2real.bench.env_bench import format_env_bench, result_as_dict, run_env_bench

    result = run_env_bench(cmd.task, cmd.num_envs, cmd.steps, cmd.rounds, cmd.seed)
    print(format_env_bench(result))
    if cmd.json:
        print(json.dumps(result_as_dict(result)))
    return 0


COMMANDS: dict[str, tuple[type, Callable[[Any], int]]] = {
    "tasks": (TasksCmd, _run_tasks),
    "robots": (RobotsCmd, _run_robots),
    "validate": (ValidateCmd, _run_validate),
    "bench env": (BenchEnvCmd, _run_bench_env),
}
"""Command words -> (flags dataclass, handler returning the exit code)."""


def _usage() -> str:
    """The top-level help: every command with its one-line description."""
    rows = [f"  sim2real {name:<12} {(cls.__doc__ or '').strip()}" for name, (cls, _) in COMMANDS.items()]
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
        cmd = tyro.cli(cls, args=rest, prog=f"sim2real {name}", console_outputs=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return handler(cmd)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2


def console_main() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    raise SystemExit(main())
