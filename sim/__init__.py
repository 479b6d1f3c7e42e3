"""MJX simulation core: robots, the batched env contract, domain randomization, noise and delay."""

# Import MJX once, quietly, before anything (brax included) imports it with its warp notice.
from sim import mjx_import as _mjx_import  # noqa: F401
