"""Random robot states for parity tests."""

import mujoco
import numpy as np


def random_states(model, rng, count):
    """Joint positions inside their ranges (any angle for unlimited hinges), unit quaternions, brisk velocities."""
    qpos = np.tile(model.qpos0, (count, 1))
    for j in range(model.njnt):
        adr, kind = model.jnt_qposadr[j], model.jnt_type[j]
        if kind == mujoco.mjtJoint.mjJNT_FREE:
            qpos[:, adr : adr + 3] = rng.uniform(-1, 1, (count, 3))
            quat = rng.normal(size=(count, 4))
            qpos[:, adr + 3 : adr + 7] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
        elif model.jnt_limited[j]:
            qpos[:, adr] = rng.uniform(*model.jnt_range[j], count)
        else:
            qpos[:, adr] = rng.uniform(-np.pi, np.pi, count)
    return qpos, rng.normal(0.0, 3.0, (count, model.nv))
