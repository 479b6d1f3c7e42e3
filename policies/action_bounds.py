"""Per-joint action bounds for the tanh output.

``unit`` bounds every action entry to [-1, 1]. ``joint_limits`` (FastSAC, for position-controlled robots
whose target is ``default + action_scale * action``) lets each joint's action reach its farther joint
limit and no further: ``max(high - default, default - low) / action_scale``.
"""

from __future__ import annotations

import numpy as np


def joint_limit_bounds(low: np.ndarray, high: np.ndarray, default: np.ndarray, action_scale: float) -> np.ndarray:
    """Bounds that let the target ``default + action_scale * a`` reach the farther limit of each joint."""
    if action_scale <= 0:
        raise ValueError(f"action_scale must be positive, got {action_scale}")
    reach = np.maximum(high - default, default - low)
    return (reach / action_scale).astype(np.float32)
