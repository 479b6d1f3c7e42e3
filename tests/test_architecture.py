"""The house rules of DESIGN.md that code can check: import direction, docstrings, typed configs."""

import ast
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["sim", "tasks", "policies", "sim2real"]
"""Arrows point down this list: a package may import only packages before it."""


def _python_files(package):
    return sorted((ROOT / package).rglob("*.py"))


def _imported_top_levels(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_imports_a_layer_above_it(package):
    above = set(LAYERS[LAYERS.index(package) + 1 :])
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _python_files(package)
        for name in _imported_top_levels(path)
        if name in above
    ]
    assert not offenders


@pytest.mark.parametrize("package", ["sim", "tasks"])
def test_the_simulation_side_never_imports_torch(package):
    """Envs and their evaluation work on plain arrays; torch meets them only in ``policies`` (through DLPack)."""
    offenders = [
        f"{path.relative_to(ROOT)} imports torch"
        for path in _python_files(package)
        if "torch" in set(_imported_top_levels(path))
    ]
    assert not offenders


RUNTIME_MAY_IMPORT = {"numpy", "onnxruntime", "yaml", "pydantic", "sim2real_runtime"}
"""What the robot-side distribution (``runtime/sim2real_runtime``) may import besides the standard library."""
RUNTIME_PACKAGE = ROOT / "runtime" / "sim2real_runtime"
"""The robot-side distribution's package."""
SCHEMA_MODULES = ("sim2real_runtime.errors", "sim2real_runtime.yaml_io", "sim2real_runtime.robot_schema")
"""The part of the robot-side distribution below ``sim``: the robot YAML's schema and how files are read."""


def test_the_robot_side_imports_only_numpy_onnxruntime_pyyaml_pydantic_and_itself():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _python_files("runtime")
        for name in _imported_top_levels(path)
        if name not in sys.stdlib_module_names and name not in RUNTIME_MAY_IMPORT
    ]
    assert not offenders


def test_the_schema_modules_import_no_runtime_module():
    """The schema sits below ``sim``; the runtime proper above the export: the bottom never reaches the top."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _python_files("runtime")
        if f"sim2real_runtime.{path.stem}" in SCHEMA_MODULES
        for module in _imported_modules(path)
        if module.startswith("sim2real_runtime") and module not in SCHEMA_MODULES
    ]
    assert not offenders


@pytest.mark.parametrize("package", ["sim", "tasks", "policies"])
def test_layers_below_the_export_use_only_the_schema_part_of_the_robot_side(package):
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _python_files(package)
        for module in _imported_modules(path)
        if module.split(".")[0] == "sim2real_runtime" and module not in SCHEMA_MODULES
    ]
    assert not offenders


ROBOT_YAML_ONLY_KEYS = (
    "default_pos",
    "effort_limit",
    "velocity_limit",
    "base_body",
    "imu_site",
    "foot_geoms",
    "termination_contact_bodies",
    "self_collision",
)
"""Keys only a robot YAML has: code that looks one up in a mapping is parsing a robot YAML by hand."""
CODE_FOLDERS = ("sim", "tasks", "policies", "sim2real", "runtime", "ros")


def test_only_the_robot_schema_reads_a_robot_yaml():
    """One typed model of the robot YAML: nothing else validates ``RobotConfig`` or picks its keys by hand."""
    from sim2real_runtime.robot_schema import JointConfig, RobotConfig

    assert set(ROBOT_YAML_ONLY_KEYS) <= set(RobotConfig.model_fields) | set(JointConfig.model_fields)
    schema = ROOT / "runtime" / "sim2real_runtime" / "robot_schema.py"
    offenders = []
    for path in (p for folder in CODE_FOLDERS for p in _python_files(folder) if p != schema):
        for node in ast.walk(ast.parse(path.read_text())):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                key = node.slice.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                key = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            validates = (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("model_validate")
                and isinstance(node.value, ast.Name)
                and node.value.id in ("RobotConfig", "JointConfig")
            ) or (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "parse_model"
                and any(getattr(arg, "id", None) == "RobotConfig" for arg in node.args)
            )
            if key in ROBOT_YAML_ONLY_KEYS or validates:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders


def _imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _modules():
    for package, folder in [*((layer, ROOT / layer) for layer in LAYERS), ("sim2real_runtime", RUNTIME_PACKAGE)]:
        yield package
        for info in pkgutil.walk_packages([str(folder)], prefix=f"{package}."):
            if not info.name.endswith("__main__"):
                yield info.name


def test_every_config_field_has_a_description():
    missing = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseModel) and cls.__module__ == name:
                missing += [
                    f"{name}.{cls.__name__}.{f}" for f, info in cls.model_fields.items() if not info.description
                ]
    assert not missing


def test_every_config_refuses_unknown_keys():
    lenient = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseModel) and cls.__module__ == name and cls.model_config.get("extra") != "forbid":
                lenient.append(f"{name}.{cls.__name__}")
    assert not lenient


def test_every_robot_and_task_config_is_strict_so_numbers_are_never_coerced():
    lax = []
    for name in _modules():
        if name.split(".")[0] not in ("sim", "tasks") and name not in SCHEMA_MODULES:
            continue
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseModel) and cls.__module__ == name and cls.model_config.get("strict") is not True:
                lax.append(f"{name}.{cls.__name__}")
    assert not lax


ROS_NODES = ROOT / "ros" / "sim2real_ros"
BRIDGE_MAY_IMPORT = ("sim2real_runtime", "sim2real_ros")
"""The project modules the bridge side of the ROS package may use: it runs on a robot without jax or torch."""


def test_the_ros_package_imports_only_the_runtime_except_the_emulator():
    offenders = []
    for path in sorted(ROS_NODES.glob("*.py")):
        if path.name == "mujoco_robot.py":  # the emulator is a simulator: MuJoCo and sim2sim's robot
            continue
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if top in (*LAYERS, "sim2real_runtime", "sim2real_ros") and not module.startswith(BRIDGE_MAY_IMPORT):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
            if top in ("jax", "torch", "mujoco"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders
    assert (ROS_NODES / "policy_bridge.py").is_file()


def test_the_brax_baselines_are_a_table_not_a_chain_of_algorithm_names():
    """Behaviour per algorithm lives in ``BRAX_BASELINES`` rows; no code compares an algorithm's name."""
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in [*_python_files("sim2real/baselines"), ROOT / "sim2real" / "training.py"]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        and any(isinstance(side, ast.Constant) and str(side.value).startswith("brax_") for side in node.comparators)
    ]
    assert not offenders


ABOVE_TASKS = ("policies", "sim2real", "ros")
"""Folders above the tasks: they read a task's declared goal (``spec.goal``, ``env.GOAL``), never its internals."""
SHARED_WORDS = {
    "joint_vel": "also an observation kind of the policy contract",
    "joint_limits": "also an action_bounds choice of the learners",
    "base_height": "also a size inspect robot reports",
}
"""Reward term names that are other things too above the tasks, with what they are there."""


def _above_tasks_files():
    return [path for folder in ABOVE_TASKS for path in _python_files(folder)]


def _task_modules_imported(path):
    """Every ``tasks.*`` module ``path`` imports (``from tasks import x`` as ``tasks.x``)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "tasks" and node.level == 0:
            yield from (f"tasks.{alias.name}" for alias in node.names)
    yield from (module for module in _imported_modules(path) if module.startswith("tasks."))


def test_no_module_above_the_tasks_imports_a_task_module_only_the_registry():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _above_tasks_files()
        for module in _task_modules_imported(path)
        if module != "tasks.registry"
    ]
    assert not offenders


def test_no_module_above_the_tasks_names_a_reward_term():
    """A term name, or a metric path ending in one (``eval/episode_reward/<term>``), is the task's to declare."""
    from tasks.registry import get_task, task_names

    terms = {term for name in task_names() for term in get_task(name).env_class.reward_terms()} - set(SHARED_WORDS)
    assert {"tracking_lin_vel", "reach", "upright"} <= terms
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
        for path in _above_tasks_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value in terms or node.value.rsplit("/", 1)[-1] in terms)
    ]
    assert not offenders
