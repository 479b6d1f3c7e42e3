"""User-facing configuration errors: one line each, naming the file, the field and the fix."""

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
