"""``mujoco.mjx`` (and so JAX) imported quietly, once, before anything else imports it.

- Without the optional ``warp-lang`` package, importing ``mujoco.mjx`` prints "Failed to import warp"
  to stdout. The stack runs MJX's JAX implementation (``impl="jax"``) unless a task's ``mjx_impl`` asks
  for warp, so those two lines would only be noise on every command's output (and in front of ``--json``).
- XLA's C++ logging reports every executable loaded from the persistent compilation cache as a
  "machine type mismatch" error on the very machine that compiled it. ``TF_CPP_MIN_LOG_LEVEL``
  defaults to 3 here (set it yourself to see XLA's C++ logs); Python errors are unaffected.
- XLA's CPU compiler (jax 0.9) emits kernels whose run time grows steeply with the depth of the body
  tree in MJX's kinematics: one ``mjx.step`` of the 7-joint arm (9 bodies deep) took 13.6 ms per world,
  29 steps/s at 16 worlds. ``--xla_cpu_use_fusion_emitters=false`` brings it to 46.6K steps/s (the
  humanoid, 7 deep: 5.1K -> 6.5K; the cart-pole env, 2 deep: unchanged within noise). It is added to
  ``XLA_FLAGS`` unless the flag is already there; GPU backends ignore it. Only with a jaxlib older than
  0.10: jaxlib 0.11's XLA no longer knows the flag and aborts the process on it ("Unknown flag in
  XLA_FLAGS"), which the GPU machines' jax 0.11 would hit at its first computation.

``sim/__init__`` imports this module, so it runs before brax (which imports MJX too) can. Any other
output of the import still goes through.
"""

import contextlib
import importlib.metadata
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CPU_FUSION_FLAG = "--xla_cpu_use_fusion_emitters"
"""XLA flag whose default (true) makes MJX on CPU slow on deep kinematic chains; set false unless given."""


def cpu_fusion_flag_known(jaxlib_version: str) -> bool:
    """Whether a jaxlib of this version accepts :data:`CPU_FUSION_FLAG` (0.9 does; 0.11 aborts on it)."""
    try:
        major, minor = (int(part) for part in jaxlib_version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) < (0, 10)


def _jaxlib_version() -> str:
    """The installed jaxlib's version, read without importing it (empty when absent)."""
    try:
        return importlib.metadata.version("jaxlib")
    except importlib.metadata.PackageNotFoundError:
        return ""


if CPU_FUSION_FLAG not in os.environ.get("XLA_FLAGS", "") and cpu_fusion_flag_known(_jaxlib_version()):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {CPU_FUSION_FLAG}=false".strip()

_captured = io.StringIO()
with contextlib.redirect_stdout(_captured):
    from mujoco import mjx

for _line in _captured.getvalue().splitlines():
    if not _line.startswith(("Failed to import warp", "Failed to import mujoco_warp")):
        print(_line)

__all__ = ["mjx"]
