"""``sim2real.runtime`` on a robot computer: a venv holding only numpy and onnxruntime runs a real policy.

The venv is built offline in a second (``venv --without-pip``, then links to the installed numpy,
onnxruntime and onnxruntime's own requirements); the repo's ``sim2real`` package is reachable through a
folder that holds nothing else, so ``sim``, ``tasks`` and ``policies`` stay out of reach.
"""

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from sim2real.runtime import Controller, PolicyRunner, RobotSpec, RobotState, SafetyFilter

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("jax", "torch", "yaml", "pydantic", "mujoco", "onnx", "sim", "tasks", "policies")
"""Packages the main venv (or the repo) has and the minimal venv must not."""
JOINTS = ("hinge", "slider")
"""Measured joints in an order the robot YAML does not use; 'hinge' is the passive pole the policy observes."""
STATES = [
    ([0.0, 0.0], [0.0, 0.0]),
    ([0.3, -0.5], [1.5, 0.2]),
    ([-2.8, 1.7], [-4.0, 3.0]),
    ([3.1, 0.9], [0.7, -9.0]),
    ([-0.1, -1.75], [12.0, -0.4]),
]
"""(position, velocity) per tick, in JOINTS order; some push the cart near its limits."""

STANDALONE = f"""
import json
import sys

import sim2real.runtime
from sim2real.runtime import Controller, PolicyRunner, RobotSpec, RobotSpecError, RobotState, SafetyFilter
from sim2real.runtime import load_robot_spec

FORBIDDEN = {FORBIDDEN!r}
leaked = sorted(name for name in sys.modules if name.split(".")[0] in FORBIDDEN)
assert not leaked, f"import sim2real.runtime pulled in {{leaked}}"

policy, spec_path, states_path = sys.argv[1:]
with open(spec_path) as f:
    spec = RobotSpec.from_mapping(json.load(f), spec_path)
with open(states_path) as f:
    states = json.load(f)
runner = PolicyRunner(policy, spec)
controller = Controller(runner, SafetyFilter(spec, runner.contract.control_dt))
ticks = []
for position, velocity in states:
    tick = controller.tick(RobotState({JOINTS!r}, position, velocity))
    ticks.append({{"action": tick.action.tolist(), "command": tick.command.as_rows().tolist(), "fault": tick.fault}})

try:
    load_robot_spec("x.yaml")
except RobotSpecError as exc:
    yaml_error = str(exc)
else:
    yaml_error = None

importable = []
for name in FORBIDDEN:
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        importable.append(name)

import numpy
import onnxruntime

print(json.dumps({{
    "ticks": ticks,
    "yaml_error": yaml_error,
    "importable": importable,
    "runtime_file": sim2real.runtime.__file__,
    "numpy_file": numpy.__file__,
    "onnxruntime_file": onnxruntime.__file__,
    "prefix": sys.prefix,
}}))
"""


def runtime_distributions() -> list[importlib.metadata.Distribution]:
    """onnxruntime, numpy and everything onnxruntime needs at run time (no extras), transitively."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = ["onnxruntime", "numpy"]
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
    """Symlink a distribution's top-level entries into ``site``; namespace folders (``google``) get real
    folders holding links to only this distribution's subpackages."""
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
def minimal_python(tmp_path_factory) -> Path:
    """The python of a fresh venv with only numpy, onnxruntime (and its requirements) and ``sim2real``."""
    root = tmp_path_factory.mktemp("standalone")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert site.is_dir()
    for dist in runtime_distributions():
        link_distribution(dist, site)
    code = root / "code"
    code.mkdir()
    (code / "sim2real").symlink_to(REPO / "sim2real", target_is_directory=True)
    (site / "sim2real_only.pth").write_text(f"{code}\n")
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def exported(fresh_policy, tmp_path_factory) -> tuple[Path, Path]:
    """The shared untrained cart-pole policy as ONNX, and its robot as JSON."""
    spec = tmp_path_factory.mktemp("robot") / "robot.json"
    spec.write_text(json.dumps(fresh_policy.env.robot.config.model_dump()))
    return fresh_policy.path, spec


def ticks_here(policy: Path, spec_path: Path) -> list[dict]:
    """The same ticks as the standalone script, run in this (full) environment."""
    spec = RobotSpec.from_mapping(json.loads(spec_path.read_text()), str(spec_path))
    runner = PolicyRunner(policy, spec)
    controller = Controller(runner, SafetyFilter(spec, runner.contract.control_dt))
    ticks = []
    for position, velocity in STATES:
        tick = controller.tick(RobotState(JOINTS, position, velocity))
        ticks.append({"action": tick.action.tolist(), "command": tick.command.as_rows().tolist(), "fault": tick.fault})
    return ticks


def test_runtime_runs_a_policy_in_a_venv_with_only_numpy_and_onnxruntime(minimal_python, exported, tmp_path):
    policy, spec = exported
    states = tmp_path / "states.json"
    states.write_text(json.dumps(STATES))
    script = tmp_path / "standalone.py"
    script.write_text(STANDALONE)
    result = subprocess.run(
        [str(minimal_python), "-I", "-B", str(script), str(policy), str(spec), str(states)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    # it really ran in the minimal venv, on the repo's runtime, with nothing else to lean on
    assert Path(report["prefix"]) == minimal_python.parents[1]
    assert Path(report["runtime_file"]).resolve() == (REPO / "sim2real" / "runtime" / "__init__.py")
    assert Path(report["numpy_file"]).is_relative_to(minimal_python.parents[1])
    assert Path(report["onnxruntime_file"]).is_relative_to(minimal_python.parents[1])
    assert report["importable"] == []

    # reading a robot YAML is the one thing that needs more, and it says so in one line
    assert report["yaml_error"] is not None and "PyYAML" in report["yaml_error"]
    assert "\n" not in report["yaml_error"]

    # the same policy, the same ticks, the same numbers as in the full environment
    here = ticks_here(policy, spec)
    assert len(report["ticks"]) == len(here) == len(STATES)
    for standalone, full in zip(report["ticks"], here, strict=True):
        assert standalone["fault"] is None and full["fault"] is None
        np.testing.assert_allclose(standalone["action"], full["action"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(standalone["command"], full["command"], rtol=0, atol=1e-6)
    actions = np.array([tick["action"] for tick in here])
    assert np.ptp(actions) > 1e-3  # the policy reacts to the state: not a constant, not all zeros
