"""The env a policy is deployed in: the robot and task it was exported for, or a task the user names.

Without ``--task``, a policy whose contract records its robot files (schema 2) runs on the robot YAML it
was exported with, under the task settings it was trained with; if that file is gone, on the shipped robot
of the same name. Files that changed since export are named on stderr. A schema 1 contract runs on its
task's shipped robot. ``--task`` (a registered task or a task YAML) is for deploying on another robot.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.assets import shipped_robot_names
from sim.env import MjxEnv
from sim2real_runtime.contract import PolicyContract
from sim2real_runtime.errors import ContractError
from sim2real_runtime.origin import PolicyOrigin, changes_since_export, recorded_robot_yaml
from sim2real_runtime.robot_spec import RobotSpec
from tasks.registry import get_task, is_task_yaml, load_task_yaml, make_env

_REEXPORT = "or re-export the policy for this robot (sim2real export)"
FIXES = {
    True: f"drop --task to run it on the robot it was trained for, {_REEXPORT}",
    False: f"give --task a task YAML whose robot: names the robot YAML it was trained on, {_REEXPORT}",
}
"""What to do about a policy that does not fit the robot it would run on, by whether ``--task`` chose it."""


def task_env(task: str) -> tuple[str, MjxEnv]:
    """``(task name, env)`` for a registered task name or a task YAML path."""
    if is_task_yaml(task):
        spec, config = load_task_yaml(Path(task))
        return spec.name, spec.build(config)
    return task, make_env(task)


def _exported_robot(contract: PolicyContract, origin: PolicyOrigin, source: str) -> str:
    """The robot to load for a policy that records its origin: its robot YAML, else the shipped robot by name."""
    recorded = recorded_robot_yaml(origin)
    if recorded is not None:
        return str(recorded)
    if contract.robot in shipped_robot_names():
        print(
            f"sim2real: {source}: robot YAML {origin.robot_yaml} is gone; using the shipped robot {contract.robot}",
            file=sys.stderr,
        )
        return contract.robot
    raise ContractError(
        f"{source}: was trained on robot '{contract.robot}' from {origin.robot_yaml}, which is gone; give --task "
        "a task YAML whose robot: names that robot's YAML, or restore the file"
    )


def policy_env(contract: PolicyContract, task: str | None, source: str) -> tuple[str, MjxEnv]:
    """``(task name, env)`` to deploy the policy of ``source`` in, refused in one line when it does not fit the robot.

    ``task`` (a registered task or a task YAML) overrides what the contract records.
    """
    if task is not None or contract.origin is None:
        name, env = task_env(task or contract.task)
    else:
        origin = contract.origin
        spec = get_task(contract.task)
        overrides = {**origin.task_overrides, "robot": _exported_robot(contract, origin, source)}
        env = spec.build(spec.config(overrides, source=f"{source} (the task settings it was trained with)"))
        name = spec.name
        for change in changes_since_export(origin, env.robot.yaml_path, env.robot.mjcf_path):
            print(f"sim2real: {source}: {change}", file=sys.stderr)
    robot = RobotSpec(env.robot.config, str(env.robot.yaml_path))
    contract.check_robot(robot, source, FIXES[task is not None])
    return name, env
