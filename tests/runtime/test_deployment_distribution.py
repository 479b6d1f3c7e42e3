"""The robot side installs alone: a fresh venv gets ``runtime/`` (the ``sim2real-runtime`` distribution), offline,
and runs the shipped quadruped policy through the runtime and the safety filter.

Offline: the distribution's own wheel is built from a copy of ``runtime/``, and its requirements (numpy,
onnxruntime, PyYAML, pydantic and theirs) are linked in from this environment, metadata included, so
pip resolves them without an index. Nothing else of this environment is reachable from the venv.
"""

import importlib.metadata
import json
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from sim2real_runtime import load_robot_spec

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "assets" / "policies" / "quadruped_joystick_flat.onnx"
ROBOT = REPO / "assets" / "robots" / "quadruped" / "robot.yaml"
REQUIRED = ("numpy", "onnxruntime", "pyyaml", "pydantic")
"""What the distribution may depend on, and nothing more."""
TRAINING_SIDE = ("torch", "jax", "jaxlib", "mujoco", "mujoco-mjx", "brax", "opencv-python", "matplotlib")
"""Distributions a robot must not get."""
FORBIDDEN_MODULES = ("jax", "torch", "mujoco", "brax", "cv2", "matplotlib", "onnx", "sim", "tasks", "policies")
"""Modules the venv must not be able to import (``onnx`` is the exporter; ``sim2real`` is the training CLI)."""
STEPS = 40
"""Control ticks run on each side."""

STANDALONE = f"""
import json
import sys

import numpy as np

from sim2real_runtime import Controller, ImuReading, PolicyRunner, RobotSpecError, RobotState, SafetyFilter
from sim2real_runtime import load_robot_spec

policy, robot_yaml = sys.argv[1:]
robot = load_robot_spec(robot_yaml)
runner = PolicyRunner(policy, robot)
controller = Controller(runner, SafetyFilter(robot, runner.contract.control_dt))
names = list(reversed(robot.joint_names))
position = robot.column("default")[::-1].copy()
ticks = []
for step in range({STEPS}):
    imu = ImuReading(np.array([1.0, 0.02 * np.sin(step), 0.0, 0.0]), np.array([0.1, -0.2, 0.05]))
    tick = controller.tick(RobotState(names, position, np.zeros(len(names)), imu), np.array([0.5, 0.0, 0.2]))
    ticks.append({{"action": tick.action.tolist(), "q": tick.command.position.tolist(), "fault": tick.fault}})
    position = tick.command.position[::-1] + 0.01

try:
    load_robot_spec("missing_robot.yaml")
except RobotSpecError as exc:
    missing = str(exc)

importable = []
for name in {FORBIDDEN_MODULES!r}:
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        importable.append(name)

import sim2real_runtime

print(json.dumps({{
    "ticks": ticks,
    "missing": missing,
    "importable": importable,
    "runtime_file": sim2real_runtime.__file__,
    "prefix": sys.prefix,
}}))
"""


def requirement_closure(names: tuple[str, ...]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``names`` need at run time (no extras), transitively."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        dist = importlib.metadata.distribution(todo.pop())
        name = dist.metadata["Name"].lower()
        if name in found:
            continue
        found[name] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def link_distribution(dist: importlib.metadata.Distribution, site: Path) -> None:
    """Symlink a distribution's top-level entries (its metadata folder included) into ``site``; namespace
    folders (``google``) get real folders holding links to only this distribution's subpackages."""
    for entry in sorted({Path(*f.parts[:2]) for f in dist.files or [] if f.parts[0] != ".."}):
        top = Path(entry.parts[0])
        source = Path(dist.locate_file(top))
        namespace = source.is_dir() and not (source / "__init__.py").exists() and not top.suffix
        if namespace and len(entry.parts) == 2:
            (site / top).mkdir(exist_ok=True)
            target, source = site / entry, Path(dist.locate_file(entry))
        else:
            target = site / top
        if not target.exists() and not target.is_symlink():
            target.symlink_to(source, target_is_directory=source.is_dir())


@pytest.fixture(scope="module")
def robot_venv(tmp_path_factory) -> Path:
    """A fresh venv into which pip installed the ``sim2real-runtime`` wheel built from ``runtime/``, offline."""
    root = tmp_path_factory.mktemp("robot_side")
    source = root / "runtime"
    shutil.copytree(REPO / "runtime", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    wheels = root / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels)]
    subprocess.run([*build, str(source)], check=True, capture_output=True, timeout=300)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for dist in requirement_closure(REQUIRED):
        link_distribution(dist, site)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    install = [*pip, "install", "--no-index", "--find-links", str(wheels), "sim2real-runtime"]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    return venv


def installed(venv: Path) -> dict[str, str]:
    """``pip list`` of a venv, by lowercase name."""
    listing = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {row["name"].lower(): row["version"] for row in json.loads(listing.stdout)}


def run_script(python: Path, folder: Path) -> dict:
    """Run the standalone script with ``python`` (isolated: no user site, no current folder); its report."""
    script = folder / "standalone.py"
    script.write_text(STANDALONE)
    result = subprocess.run(
        [str(python), "-I", "-B", str(script), str(POLICY), str(ROBOT)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_pip_list_of_the_robot_venv_shows_the_runtime_and_nothing_that_trains(robot_venv):
    dists = installed(robot_venv)
    assert dists["sim2real-runtime"] == "0.1.0"
    assert {"numpy", "onnxruntime", "pyyaml", "pydantic"} <= set(dists)
    assert not [name for name in dists if name in TRAINING_SIDE or name.startswith("opencv")]
    assert "sim2real-stack" not in dists


def test_the_robot_venv_runs_the_shipped_policy_through_the_safety_filter_as_training_side_does(robot_venv, tmp_path):
    report = run_script(robot_venv / "bin" / "python", tmp_path)

    # it ran on the installed distribution, not on the repository, with nothing that trains in reach
    assert Path(report["prefix"]) == robot_venv
    assert Path(report["runtime_file"]).is_relative_to(robot_venv)
    assert report["importable"] == []
    assert report["missing"] == "missing_robot.yaml: -: file not found; check the path"

    # the same ticks as in the full environment, every target inside the joint limits less the margin
    here = run_script(Path(sys.executable), tmp_path)["ticks"]
    robot = load_robot_spec(ROBOT)
    for standalone, full in zip(report["ticks"], here, strict=True):
        assert standalone["fault"] is None and full["fault"] is None
        np.testing.assert_allclose(standalone["action"], full["action"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(standalone["q"], full["q"], rtol=0, atol=1e-9)
        assert (np.array(standalone["q"]) >= robot.column("lower")).all()
        assert (np.array(standalone["q"]) <= robot.column("upper")).all()
    assert np.ptp(np.array([tick["action"] for tick in here])) > 1e-2  # a walking policy, not a constant


def test_the_ros_package_depends_on_the_runtime_distribution_and_ros_packages_only():
    setup = (REPO / "ros" / "setup.py").read_text()
    assert 'install_requires=["setuptools", "sim2real-runtime"]' in setup
    manifest = ET.parse(REPO / "ros" / "package.xml").getroot()
    depends = {node.text for tag in ("depend", "exec_depend") for node in manifest.iter(tag)}
    ros_packages = {"rclpy", "rcl_interfaces", "builtin_interfaces", "launch", "launch_ros"}
    messages = {"sensor_msgs", "std_msgs", "geometry_msgs", "std_srvs", "diagnostic_msgs", "nav_msgs"}
    assert depends <= ros_packages | messages | {"sim2real-runtime"}, depends - ros_packages - messages
    project = tomllib.loads((REPO / "runtime" / "pyproject.toml").read_text())["project"]
    assert sorted(Requirement(text).name.lower() for text in project["dependencies"]) == sorted(REQUIRED)
