"""What both console scripts do around their node: signals, the one-line refusal, and an orderly stop.

SIGINT and SIGTERM only set a flag. The spin loop looks at it between short waits and returns, so no
exception is ever raised inside rclpy (an exception raised by a signal handler in the middle of a message
take or a task leaves rclpy half-way and prints its traceback). The ROS context stays up until the node's
``on_stop`` has run, so that can still publish and wait for delivery.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a node the orderly way (``ros2 launch`` sends SIGINT, then SIGTERM)."""

SPIN_WAIT_S = 0.05
"""The longest the loop waits for work before it looks at the stop flag again: a stop takes at most this long."""


class StopRequest:
    """Set by SIGINT or SIGTERM: the handler raises nothing, it only marks the stop for the spin loop."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> StopRequest:
        """Make :data:`STOP_SIGNALS` set this request instead of interrupting whatever runs."""
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, self._handle)
        return self

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True


def spin_until(node: Node, stop: StopRequest) -> None:
    """Run the node's callbacks until ``stop`` is requested (checked at least every :data:`SPIN_WAIT_S`)."""
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        while not stop.requested:
            executor.spin_once(timeout_sec=SPIN_WAIT_S)
    finally:
        executor.shutdown()


def run_node(
    program: str,
    build: Callable[[], Node],
    refusals: tuple[type[Exception], ...],
    on_stop: Callable[[Node], None] | None = None,
    args: list[str] | None = None,
) -> int:
    """Build the node and spin it; exit code 2 with one line ``PROGRAM: error: ...`` on a refusal, else 0.

    SIGINT and SIGTERM (even one that arrives while the node is being built) end the spin loop; then
    ``on_stop`` runs with the ROS context still up, the node is destroyed and the context shut down.
    """
    stop = StopRequest().install()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    try:
        node = build()
    except refusals as exc:
        print(f"{program}: error: {exc}", file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    try:
        spin_until(node, stop)
    finally:
        if on_stop is not None:
            on_stop(node)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
