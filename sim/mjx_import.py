"""``mujoco.mjx`` (and so JAX) imported quietly, once, before anything else imports it.

- Without the optional ``warp-lang`` package, importing ``mujoco.mjx`` prints "Failed to import warp"
  to stdout. The stack runs MJX's JAX implementation (``impl="jax"``), for which warp is irrelevant,
  so those two lines would only be noise on every command's output (and in front of ``--json``).
- XLA's C++ logging reports every executable loaded from the persistent compilation cache as a
  "machine type mismatch" error on the very machine that compiled it. ``TF_CPP_MIN_LOG_LEVEL``
  defaults to 3 here (set it yourself to see XLA's C++ logs); Python errors are unaffected.

``sim/__init__`` imports this module, so it runs before brax (which imports MJX too) can. Any other
output of the import still goes through.
"""

import contextlib
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_captured = io.StringIO()
with contextlib.redirect_stdout(_captured):
    from mujoco import mjx

for _line in _captured.getvalue().splitlines():
    if not _line.startswith(("Failed to import warp", "Failed to import mujoco_warp")):
        print(_line)

__all__ = ["mjx"]
