"""Fixtures of the ROS tests: an isolated DDS domain per test, node processes torn down after it, policies."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ros.launch_reader import launched_nodes
from tests.ros.ros_graph import Launched, Probe

ROOT = Path(__file__).resolve().parents[2]
CARTPOLE_YAML = ROOT / "assets" / "robots" / "cartpole" / "robot.yaml"
QUADRUPED_YAML = ROOT / "assets" / "robots" / "quadruped" / "robot.yaml"
CARTPOLE_POLICY = ROOT / "assets" / "policies" / "cartpole_balance.onnx"
"""A FastTD3 cart-pole policy trained by ``make demo`` (400K env steps), shipped for the bridge tests."""
QUADRUPED_WALKING_POLICY = ROOT / "assets" / "policies" / "quadruped_joystick_flat.onnx"
"""The trained ``quadruped_joystick_flat`` walking policy, shipped for the walking tests over DDS."""

_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_DOMAINS = itertools.count(20 + 40 * _WORKER)
"""ROS domain ids: 40 per pytest worker (xdist), one per test, so parallel tests never hear each other."""


@pytest.fixture
def domain_id() -> int:
    """A ROS domain no other test of this session uses."""
    return next(_DOMAINS)


@pytest.fixture
def launch(domain_id: int, tmp_path: Path) -> Iterator[Callable[..., Launched]]:
    """``launch(launch_file, node_name, arguments, extra_parameters)``: start that node as the launch file does."""
    started: list[Launched] = []

    def start(launch_file: str, name: str, arguments: dict[str, str], extra: dict[str, Any] | None = None) -> Launched:
        node = launched_nodes(launch_file, {k: str(v) for k, v in arguments.items()})[name]
        process = Launched(node, domain_id, tmp_path, extra)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def probe(domain_id: int) -> Iterator[Probe]:
    """The test's own node on the test's domain."""
    node = Probe(domain_id)
    yield node
    node.close()
