"""Reads a ROS 2 launch file without ROS's launch packages (no wheel exists for them here).

``launched_nodes`` runs the file's ``generate_launch_description`` against small recording stand-ins for
``launch``, ``launch_ros`` and their substitutions, so the tests start exactly the executables, parameter
files and overrides the launch file names. ``FindPackageShare("sim2real_ros")`` resolves to ``ros/``, the
package's source folder, whose ``launch/`` and ``config/`` colcon installs unchanged.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROS_PACKAGE = Path(__file__).resolve().parents[2] / "ros"


@dataclass
class LaunchedNode:
    """One ``Node`` action of a launch file, its substitutions resolved."""

    package: str
    executable: str
    name: str
    params_files: list[Path] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)

    def command(self, bin_dir: Path, extra: dict[str, Any] | None = None) -> list[str]:
        """The command line: the executable, ``--ros-args``, every ``--params-file``, then ``-p`` overrides."""
        args = [str(bin_dir / self.executable), "--ros-args"]
        for path in self.params_files:
            args += ["--params-file", str(path)]
        for key, value in {**self.overrides, **(extra or {})}.items():
            text = str(value).lower() if isinstance(value, bool) else str(value) or "''"  # '' keeps "" a string
            args += ["-p", f"{key}:={text}"]
        return args


class _Substitution:
    def resolve(self, arguments: dict[str, str]) -> str:
        raise NotImplementedError


def _resolve(part: Any, arguments: dict[str, str]) -> Any:
    if isinstance(part, _Substitution):
        return part.resolve(arguments)
    if isinstance(part, list):
        return "".join(str(_resolve(p, arguments)) for p in part)
    return part


def _stand_ins(arguments: dict[str, str]) -> dict[str, types.ModuleType]:
    """Modules ``launch``, ``launch.actions``, ``launch.substitutions``, ``launch_ros.*`` that record."""
    defaults: dict[str, str] = {}

    class LaunchConfiguration(_Substitution):
        def __init__(self, name: str) -> None:
            self.name = name

        def resolve(self, arguments: dict[str, str]) -> str:
            if self.name in arguments:
                return arguments[self.name]
            if self.name in defaults:
                return defaults[self.name]
            raise KeyError(f"launch argument '{self.name}' has no value and no default")

    class PathJoinSubstitution(_Substitution):
        def __init__(self, parts: list[Any]) -> None:
            self.parts = parts

        def resolve(self, arguments: dict[str, str]) -> str:
            return os.path.join(*(str(_resolve(p, arguments)) for p in self.parts))

    class FindPackageShare(_Substitution):
        def __init__(self, package: str) -> None:
            self.package = package

        def resolve(self, arguments: dict[str, str]) -> str:
            assert self.package == "sim2real_ros", self.package
            return str(ROS_PACKAGE)

    class DeclareLaunchArgument:
        def __init__(self, name: str, default_value: str | None = None, description: str = "") -> None:
            self.name = name
            if default_value is not None:
                defaults[name] = default_value

    class Node:
        def __init__(self, package: str, executable: str, name: str, parameters: list[Any], **_: Any) -> None:
            self.spec = LaunchedNode(package, executable, name)
            self.parameters = parameters

        def resolve(self, arguments: dict[str, str]) -> LaunchedNode:
            for entry in self.parameters:
                if isinstance(entry, dict):
                    self.spec.overrides.update({k: _resolve(v, arguments) for k, v in entry.items()})
                else:
                    self.spec.params_files.append(Path(_resolve(entry, arguments)))
            return self.spec

    class LaunchDescription:
        def __init__(self, entities: list[Any]) -> None:
            self.entities = entities

    modules = {
        name: types.ModuleType(name)
        for name in (
            "launch",
            "launch.actions",
            "launch.substitutions",
            "launch_ros",
            "launch_ros.actions",
            "launch_ros.substitutions",
        )
    }
    modules["launch"].LaunchDescription = LaunchDescription
    modules["launch.actions"].DeclareLaunchArgument = DeclareLaunchArgument
    modules["launch.substitutions"].LaunchConfiguration = LaunchConfiguration
    modules["launch.substitutions"].PathJoinSubstitution = PathJoinSubstitution
    modules["launch_ros.actions"].Node = Node
    modules["launch_ros.substitutions"].FindPackageShare = FindPackageShare
    return modules


@contextlib.contextmanager
def _modules(stand_ins: dict[str, types.ModuleType]) -> Iterator[None]:
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def launched_nodes(launch_file: str, arguments: dict[str, str]) -> dict[str, LaunchedNode]:
    """The nodes ``ros/launch/<launch_file>`` starts with these launch arguments, by node name."""
    path = ROS_PACKAGE / "launch" / launch_file
    with _modules(_stand_ins(arguments)):
        spec = importlib.util.spec_from_file_location(f"launch_file_{path.stem.replace('.', '_')}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        description = module.generate_launch_description()
        nodes = [entity.resolve(arguments) for entity in description.entities if hasattr(entity, "spec")]
    return {node.name: node for node in nodes}
