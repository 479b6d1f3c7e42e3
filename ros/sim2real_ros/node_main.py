"""What both console scripts do around their node: signals, the one-line refusal, and an orderly stop."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_node(
    program: str,
    build: Callable[[], Node],
    refusals: tuple[type[Exception], ...],
    on_stop: Callable[[Node], None] | None = None,
    args: list[str] | None = None,
) -> int:
    """Build the node and spin it; exit code 2 with one line ``PROGRAM: error: ...`` on a refusal, else 0.

    SIGINT and SIGTERM stop the loop but leave the ROS context up, so ``on_stop`` can still publish.
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    node = None
    try:
        node = build()
        rclpy.spin(node)
    except refusals as exc:
        print(f"{program}: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            if on_stop is not None:
                on_stop(node)
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0
