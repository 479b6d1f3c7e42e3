"""What both console scripts do around their node: signals, the one-line refusal, and an orderly stop.

SIGINT and SIGTERM only set a flag. The spin loop looks at it between short waits and returns, so no
exception is ever raised inside rclpy (an exception raised by a signal handler in the middle of a message
take or a task leaves rclpy half-way and prints its traceback). The ROS context stays up until the node's
``on_stop`` has run, so that can still publish and wait for delivery.
"""

from __future__ import annotations

import signal
import sys
import time
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

SPIN_MIN_INTERVAL_S = 0.001
"""The shortest time from one callback's start to the next one's: a flood of messages (a driver bursting at 5 kHz)
cannot turn the executor into a busy loop. The nodes run it at real-time priority, where a busy loop uses up
the kernel's real-time share (95% of each second) and the throttling that follows stops the control loop too:
under a 5 kHz burst the bridge's period reached 50 ms without this pacing, 11 ms with it. State topics are
read newest-first, so a paced executor only skips states that a newer one has replaced."""


class StopRequest:
    """Set by SIGINT or SIGTERM: the handler raises nothing, it only marks the stop for the spin loop.

    A node's own thread that fails asks for the same orderly stop through :meth:`fail`.
    """

    def __init__(self) -> None:
        self.requested = False
        self.failure: BaseException | None = None

    def install(self) -> StopRequest:
        """Make :data:`STOP_SIGNALS` set this request instead of interrupting whatever runs."""
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, self._handle)
        return self

    def fail(self, error: BaseException) -> None:
        """Stop because ``error`` ended a thread the node cannot run without (the process then exits 1)."""
        self.failure = error
        self.requested = True

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True


def spin_until(node: Node, stop: StopRequest) -> None:
    """Run the node's callbacks, at most one per :data:`SPIN_MIN_INTERVAL_S`, until ``stop`` is requested.

    The request is looked at after each callback and at least every :data:`SPIN_WAIT_S`.
    """
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        while not stop.requested:
            began = time.monotonic()
            executor.spin_once(timeout_sec=SPIN_WAIT_S)
            time.sleep(max(0.0, began + SPIN_MIN_INTERVAL_S - time.monotonic()))
    finally:
        executor.shutdown()


def run_node(
    program: str,
    build: Callable[[StopRequest], Node],
    refusals: tuple[type[Exception], ...],
    on_stop: Callable[[Node], None] | None = None,
    args: list[str] | None = None,
) -> int:
    """Build the node and spin it; exit code 2 with one line ``PROGRAM: error: ...`` on a refusal, else 0.

    SIGINT and SIGTERM (even one that arrives while the node is being built) end the spin loop; then
    ``on_stop`` runs with the ROS context still up, the node is destroyed and the context shut down. ``build``
    gets the stop request, so that a thread of the node that fails can stop it the same way (exit code 1).
    """
    stop = StopRequest().install()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    try:
        node = build(stop)
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
    return 0 if stop.failure is None else 1
