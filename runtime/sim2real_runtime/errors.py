"""User-facing errors, one line each naming the culprit and the fix: problems in files, and runtime refusals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in a user file."""

    file: str
    """The file the problem is in (as the user named it)."""
    field: str
    """Dotted path of the offending field (``joints[1].kp``), or ``-`` for the whole file."""
    message: str
    """What is wrong and how to fix it."""

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class ConfigError(Exception):
    """A user file (YAML, MJCF) is invalid; carries one :class:`Problem` per error."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: str | Path, field: str, message: str) -> ConfigError:
        """Build an error holding one problem."""
        return cls([Problem(str(file), field, message)])


class RefusalError(Exception):
    """The runtime refuses to run: a policy, contract or robot description does not fit (one-line message)."""


class ContractError(RefusalError):
    """A policy contract is missing, malformed, or does not match the robot or task it is run on."""


class RobotSpecError(RefusalError):
    """A robot YAML cannot drive the robot: unreadable, invalid, or missing a value the runtime needs."""


class MissingInputError(RefusalError):
    """The robot state lacks a joint or sensor reading the policy needs."""
