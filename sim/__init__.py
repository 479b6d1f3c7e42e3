"""MJX simulation core: robots, the batched env contract, domain randomization, noise and delay, rendering."""

# Settle MuJoCo's OpenGL backend (headless EGL) before the first ``import mujoco``.
from sim.headless_gl import prepare_headless_gl as _prepare_headless_gl

_prepare_headless_gl()

# Import MJX once, quietly, before anything (brax included) imports it with its warp notice.
from sim import mjx_import as _mjx_import  # noqa: E402, F401
