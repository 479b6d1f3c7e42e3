"""The robot side, installable alone (``pip install ./runtime``): it runs the same way in sim2sim and on the robot.

The robot YAML's one schema (:mod:`sim2real_runtime.robot_schema`, which training reads too), and the
runtime on numpy and onnxruntime:
``PolicyRunner`` feeds an exported ONNX policy (contract checked against the robot YAML), the
``ObservationBuilder`` rebuilds the training observation from measured state, the ``SafetyFilter``
bounds every command and latches DAMP on faults, and ``Controller`` ties them into one tick.
"""

from sim2real_runtime.contract import CONTRACT_KEY, PolicyContract
from sim2real_runtime.controller import Controller, Tick
from sim2real_runtime.errors import ContractError, MissingInputError, RefusalError, RobotSpecError
from sim2real_runtime.observation import ObservationBuilder
from sim2real_runtime.policy_runner import PolicyRunner, PolicyStep, read_contract
from sim2real_runtime.robot_spec import RobotSpec, load_robot_spec
from sim2real_runtime.safety import SafetyConfig, SafetyFilter
from sim2real_runtime.state import ImuReading, JointCommand, RobotState

__all__ = [
    "CONTRACT_KEY",
    "ContractError",
    "Controller",
    "ImuReading",
    "JointCommand",
    "MissingInputError",
    "ObservationBuilder",
    "PolicyContract",
    "PolicyRunner",
    "PolicyStep",
    "RefusalError",
    "RobotSpec",
    "RobotSpecError",
    "RobotState",
    "SafetyConfig",
    "SafetyFilter",
    "Tick",
    "load_robot_spec",
    "read_contract",
]
