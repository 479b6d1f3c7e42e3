"""JAX's persistent compilation cache, set up once for the CLI and the tests."""

from __future__ import annotations

import os
from pathlib import Path

import jax

DEFAULT_CACHE_DIR = Path(os.environ.get("SIM2REAL_JAX_CACHE", Path.home() / ".cache" / "sim2real" / "jax"))
"""Where compiled XLA programs are kept; override with the ``SIM2REAL_JAX_CACHE`` environment variable."""


def enable_compilation_cache(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Cache every compiled program on disk (minimum compile time 0) so later runs skip the JIT."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache_dir))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return cache_dir
