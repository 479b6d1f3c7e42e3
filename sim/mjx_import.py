"""``mujoco.mjx`` imported without its warp notice.

Without the optional ``warp-lang`` package, importing ``mujoco.mjx`` prints "Failed to import warp"
to stdout. The stack runs MJX's JAX implementation (``impl="jax"``), for which warp is irrelevant, so
those two lines would only be noise on every command's output (and in front of ``--json``). Every
module of ours imports ``mjx`` from here, and ``sim/__init__`` imports this module before brax (which
imports MJX too) can. Any other output of the import still goes through.
"""

import contextlib
import io

_captured = io.StringIO()
with contextlib.redirect_stdout(_captured):
    from mujoco import mjx

for _line in _captured.getvalue().splitlines():
    if not _line.startswith(("Failed to import warp", "Failed to import mujoco_warp")):
        print(_line)

__all__ = ["mjx"]
