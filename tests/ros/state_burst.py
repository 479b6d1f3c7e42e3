"""A robot driver for the burst tests: ``/joint_states`` at a steady rate, and bursts at a far higher one on request.

    python -m tests.ros.state_burst --names slider,hinge --position 0,0.02 --rate-hz 200 \\
        --burst-hz 5000 --burst-seconds 2

It runs in a process of its own under ``SCHED_FIFO`` where permitted, as a robot's driver would: the states
then really arrive at their rate on a loaded test machine (from the test's own process, at normal priority,
a 200 Hz stream stalled past the cart-pole's 50 ms state timeout and a burst reached a quarter of its rate).
Once a subscriber has matched it prints ``ready`` and publishes one still state at ``--rate-hz``. Each line
on stdin starts a burst at ``--burst-hz`` for ``--burst-seconds``, after which it prints one JSON line
(messages sent, seconds taken, the longest gap between two sends) and goes back to the steady rate. It
exits when stdin closes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time

import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import JointState

DRIVER_PRIORITY = 70
"""SCHED_FIFO priority of the driver, below the bridge's loop (80) and its other threads (79)."""


def main() -> None:
    """Parse the arguments, wait for a subscriber, then stream states and burst on request until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", required=True, help="joint names, comma-separated")
    parser.add_argument("--position", required=True, help="joint positions, comma-separated")
    parser.add_argument("--rate-hz", type=float, required=True)
    parser.add_argument("--burst-hz", type=float, required=True)
    parser.add_argument("--burst-seconds", type=float, required=True)
    args = parser.parse_args()
    with contextlib.suppress(OSError):  # at normal priority the states may arrive slower: the report shows it
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(DRIVER_PRIORITY))
    names = args.names.split(",")
    rclpy.init()
    node = rclpy.create_node("state_burst")
    publisher = node.create_publisher(JointState, "/joint_states", qos_profile_sensor_data)
    message = JointState(name=names, position=[float(v) for v in args.position.split(",")], velocity=[0.0] * len(names))
    requests = threading.Semaphore(0)
    closed = threading.Event()

    def read_requests() -> None:
        for _ in sys.stdin:
            requests.release()
        closed.set()

    while publisher.get_subscription_count() == 0:
        time.sleep(0.01)
    threading.Thread(target=read_requests, daemon=True).start()
    print("ready", flush=True)
    due = time.monotonic()
    while not closed.is_set():
        if requests.acquire(blocking=False):
            total = round(args.burst_hz * args.burst_seconds)
            start = last = time.monotonic()
            longest = 0.0
            for sent in range(1, total + 1):
                publisher.publish(message)
                now = time.monotonic()
                longest, last = max(longest, now - last), now
                time.sleep(max(0.0, start + sent / args.burst_hz - now))
            report = {"sent": total, "seconds": time.monotonic() - start, "longest_gap_s": longest}
            print(json.dumps(report), flush=True)
            due = time.monotonic()
        publisher.publish(message)
        due += 1.0 / args.rate_hz
        time.sleep(max(0.0, due - time.monotonic()))
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
