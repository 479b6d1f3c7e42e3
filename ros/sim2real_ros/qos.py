"""The quality of service of every topic both nodes use, and why.

State topics (``/joint_states``, ``/imu``) are read newest-first: best effort, keep last, depth 1. A driver
that bursts at 5 kHz, or a reader that falls behind, never builds a queue: each take gets the newest
message, the older ones are overwritten inside DDS. (A best-effort reader matches best-effort and reliable
drivers alike.)

``/joint_commands`` stays reliable, keep last, depth 10: drivers and ros2_control subscribe reliably (a
best-effort writer would not match them at all), and the bridge's stop must know that its final DAMP
arrived (``wait_for_all_acked`` exists only for reliable writers). Such a write never waits for
acknowledgements: with KEEP_LAST a full history drops its oldest sample instead (only KEEP_ALL blocks, up to
``max_blocking_time``). Measured over Fast DDS with a reliable reader frozen by SIGSTOP for 20 s, beside two
CPU-bound processes: publish p50 0.49 ms, max 4 ms (0.18 and 0.5 ms with the reader live). What did hold a
publish for hundreds of milliseconds (issue 20 saw 196 ms; 680 ms here at ``realtime_priority: 0``) was the
publishing thread itself, preempted under load inside the synchronous write: the control loop's real-time
priority (:mod:`sim2real_ros.realtime`) is what keeps the write short.
"""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

LATEST_SENSOR_DATA = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.BEST_EFFORT)
"""Subscriptions to state topics: the newest sample only (publishers of state keep sensor-data QoS)."""

RELIABLE = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
"""``/joint_commands``, ``/cmd_vel``, ``/goal_position``, ``/estop``, ``/diagnostics``."""

LATCHED = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""``~/mode``: a late subscriber gets the current mode."""
