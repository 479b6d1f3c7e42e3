"""Node parameters read with their types checked, so a wrong type is one line naming it, not a traceback."""

from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "text"}


class ParameterError(Exception):
    """A parameter the node cannot start with; the message names it and the fix."""


def read_parameters(node: Node, defaults: dict[str, object]) -> dict[str, object]:
    """Declare every parameter (any type accepted by ROS), then check each against its default's type.

    Integers are accepted where a number is expected, and converted.
    """
    values = {}
    for name, default in defaults.items():
        value = node.declare_parameter(name, default, ParameterDescriptor(dynamic_typing=True)).value
        kind = type(default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not kind:
            raise ParameterError(f"parameter '{name}' is {value!r}; give {_KINDS[kind]}")
        values[name] = value
    return values
