"""Importing ``sim`` sets up XLA for MJX on CPU, and leaves a user's own XLA flags alone."""

import os
import subprocess
import sys

PRINT_FLAGS = "import sim, os; print(os.environ['XLA_FLAGS'])"


def _flags_after_import(xla_flags: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    result = subprocess.run([sys.executable, "-c", PRINT_FLAGS], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_sim_turns_off_xla_cpu_fusion_emitters_that_make_deep_chains_slow():
    assert _flags_after_import(None) == "--xla_cpu_use_fusion_emitters=false"


def test_a_users_own_fusion_choice_wins():
    assert _flags_after_import("--xla_cpu_use_fusion_emitters=true") == "--xla_cpu_use_fusion_emitters=true"


def test_a_users_other_xla_flags_are_kept():
    assert _flags_after_import("--xla_force_host_platform_device_count=2") == (
        "--xla_force_host_platform_device_count=2 --xla_cpu_use_fusion_emitters=false"
    )


def test_the_fusion_flag_is_only_given_to_a_jaxlib_that_knows_it():
    from sim.mjx_import import cpu_fusion_flag_known

    assert cpu_fusion_flag_known("0.9.2")  # the pinned jaxlib: the flag was measured there
    assert not cpu_fusion_flag_known("0.11.2")  # its XLA aborts the process on an unknown XLA_FLAGS entry
    assert not cpu_fusion_flag_known("")
