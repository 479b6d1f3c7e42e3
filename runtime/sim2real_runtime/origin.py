"""Where a policy's robot came from: the robot YAML and MJCF it was exported with, by path and SHA-256.

Export records them in the policy contract (schema 2), so a consumer given only the ONNX file finds the
robot the policy was trained for (:func:`recorded_robot_yaml`) and says when its files changed since
(:func:`changes_since_export`). Only the two files are hashed, not the meshes or includes an MJCF names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim2real_runtime.errors import ContractError


@dataclass(frozen=True)
class PolicyOrigin:
    """The robot files and task settings a policy was exported with."""

    robot_yaml: str
    """Absolute path of the robot YAML at export."""
    robot_yaml_sha256: str
    """SHA-256 of that file at export."""
    mjcf: str
    """Absolute path of the MJCF the robot YAML named at export."""
    mjcf_sha256: str
    """SHA-256 of that file at export."""
    task_overrides: dict[str, Any] = field(default_factory=dict)
    """The task config fields the policy was trained with over the task's defaults (a task YAML's, say)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyOrigin:
        """An origin from its JSON form; ``TypeError`` when a field is missing, unknown or mistyped."""
        origin = cls(**data)
        texts = (origin.robot_yaml, origin.robot_yaml_sha256, origin.mjcf, origin.mjcf_sha256)
        if not all(isinstance(value, str) for value in texts) or not isinstance(origin.task_overrides, dict):
            raise TypeError("origin paths and hashes must be text and task_overrides a mapping")
        return origin


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def origin_of(robot_yaml: Path, mjcf: Path, task_overrides: dict[str, Any]) -> PolicyOrigin:
    """The origin of a policy exported for the robot in ``robot_yaml`` (compiled from ``mjcf``)."""
    robot_yaml, mjcf = robot_yaml.resolve(), mjcf.resolve()
    return PolicyOrigin(str(robot_yaml), file_sha256(robot_yaml), str(mjcf), file_sha256(mjcf), task_overrides)


def recorded_robot_yaml(origin: PolicyOrigin) -> Path | None:
    """The robot YAML the policy was exported with, when it is still at its recorded path."""
    path = Path(origin.robot_yaml)
    return path if path.is_file() else None


def changes_since_export(origin: PolicyOrigin, robot_yaml: Path, mjcf: Path) -> list[str]:
    """One line for each of ``robot_yaml`` and ``mjcf`` that is missing or differs from the file exported with."""
    changes = []
    for kind, path, recorded in (
        ("robot YAML", robot_yaml, origin.robot_yaml_sha256),
        ("MJCF", mjcf, origin.mjcf_sha256),
    ):
        if not path.is_file():
            changes.append(f"{kind} {path} is missing")
        elif (digest := file_sha256(path)) != recorded:
            changes.append(
                f"{kind} {path} changed since the policy was exported (sha256 {digest[:12]}, was {recorded[:12]})"
            )
    return changes


def exported_robot_yaml(origin: PolicyOrigin | None, source: str) -> tuple[Path, list[str]]:
    """The robot YAML the policy of ``source`` was exported with, and what changed since (see above).

    :class:`ContractError` (one line naming the policy) when the contract records no robot (schema 1) or
    the file is gone.
    """
    if origin is None:
        raise ContractError(f"{source} does not record its robot (exported before contract schema 2)")
    path = recorded_robot_yaml(origin)
    if path is None:
        raise ContractError(f"the robot YAML {origin.robot_yaml} that {source} was exported with is gone")
    return path, changes_since_export(origin, path, Path(origin.mjcf))
