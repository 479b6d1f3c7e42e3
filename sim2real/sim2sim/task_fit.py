"""Does a policy contract fit a task? Observation layout and control period, checked term by term."""

from __future__ import annotations

import math

from sim.env import MjxEnv
from sim2real_runtime.contract import ObservationTermSpec, PolicyContract

_COMPARED = ("kind", "joints", "size", "scale", "clip", "period_steps")


def task_mismatches(contract: PolicyContract, env: MjxEnv, task: str) -> list[str]:
    """Every way ``contract`` disagrees with ``env``'s observation and timing; empty when it fits."""
    problems = []
    if not math.isclose(contract.control_dt, env.config.control_dt, rel_tol=1e-9):
        problems.append(f"control dt differs: policy {contract.control_dt} s, task {task} {env.config.control_dt} s")
    if contract.observation_size != env.actor_layout.size:
        problems.append(
            f"observation size differs: policy {contract.observation_size}, task {task} {env.actor_layout.size}"
        )
    ours = contract.observation
    theirs = [ObservationTermSpec.from_dict(term) for term in env.actor_layout.contract_terms()]
    if [t.name for t in ours] != [t.name for t in theirs]:
        problems.append(
            f"observation terms differ: policy [{', '.join(t.name for t in ours)}], "
            f"task {task} [{', '.join(t.name for t in theirs)}]"
        )
        return problems
    for mine, task_term in zip(ours, theirs, strict=True):
        for key in _COMPARED:
            policy_value, task_value = getattr(mine, key), getattr(task_term, key)
            if policy_value != task_value:
                problems.append(
                    f"observation term '{mine.name}' {key} differs: policy {policy_value}, task {task_value}"
                )
    return problems
