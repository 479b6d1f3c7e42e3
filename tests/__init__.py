"""The test suite. Importing this package (pytest does, before any conftest) sets the XLA flag the tests run under."""

import os

XLA_TEST_FLAG = "--xla_backend_optimization_level=0"
"""Tests compile without LLVM's backend optimizations: their tiny batches run for seconds while XLA compiles for
minutes, and this cuts both (measured on this 2-core CPU: a quarter less compile time for a legged task, and
10-15% less time for the heaviest MJX tests). Set before JAX starts its backend, so the processes the tests
start (the CLI, torchrun ranks) inherit it too."""

if XLA_TEST_FLAG not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {XLA_TEST_FLAG}".strip()
