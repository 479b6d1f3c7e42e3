"""Where the shipped data lives: robots (MJCF + robot.yaml) and task YAML overrides."""

from __future__ import annotations

import os
from pathlib import Path

ASSETS_DIR = Path(os.environ.get("SIM2REAL_ASSETS", Path(__file__).resolve().parents[1] / "assets"))
"""Root of the shipped assets; override with the ``SIM2REAL_ASSETS`` environment variable."""

ROBOTS_DIR = ASSETS_DIR / "robots"
"""One folder per robot, each holding ``robot.yaml`` and its MJCF."""

TASKS_DIR = ASSETS_DIR / "tasks"
"""Task YAML overrides, ``<task>.yaml``."""


def shipped_robot_names() -> list[str]:
    """Names of the robots shipped under ``assets/robots`` (folders with a ``robot.yaml``)."""
    return sorted(p.parent.name for p in ROBOTS_DIR.glob("*/robot.yaml"))


def robot_yaml_path(name_or_path: str | Path) -> Path:
    """Resolve a shipped robot name or a path to a robot YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        return candidate
    return ROBOTS_DIR / str(name_or_path) / "robot.yaml"


def resolve_robot_reference(value: str, relative_to: Path) -> str:
    """A robot named in a YAML file, made independent of the working folder.

    Shipped robot names and ``menagerie:`` references are returned unchanged; a path to a robot YAML
    (anything ending in ``.yaml``/``.yml``) is taken relative to the folder of the file that names it.
    """
    if Path(value).suffix not in (".yaml", ".yml"):
        return value
    return str((relative_to.parent / Path(value).expanduser()).resolve())
