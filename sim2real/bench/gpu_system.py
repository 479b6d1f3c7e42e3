"""The machine a ``bench gpu`` run measured: its GPU, driver, devices and the versions of every package that counts."""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import subprocess
from typing import Any

import jax
import torch

PACKAGES = (
    "jax",
    "jaxlib",
    "jax-cuda12-plugin",
    "jax-cuda13-plugin",
    "mujoco",
    "mujoco-mjx",
    "warp-lang",
    "brax",
    "torch",
    "triton",
    "onnxruntime",
    "numpy",
)
"""Packages whose versions a report names (``not installed`` for those absent)."""


def package_versions() -> dict[str, str]:
    """Python's version and each of :data:`PACKAGES`'s."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _nvidia_smi(query: str) -> dict[str, Any]:
    """One ``nvidia-smi --query-gpu`` field of the first GPU as ``{"value": ...}``, or ``{"reason": ...}``."""
    if shutil.which("nvidia-smi") is None:
        return {"reason": "nvidia-smi is not on the PATH"}
    try:
        done = subprocess.run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"reason": "nvidia-smi did not answer within 30 s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"reason": f"nvidia-smi failed (exit {done.returncode}): {done.stderr.strip()[:200]}"}
    return {"value": lines[0].strip()}


def system_info() -> dict[str, Any]:
    """GPU name, driver, JAX's backend and devices, torch's CUDA, and :func:`package_versions`."""
    if torch.cuda.is_available():
        gpu: dict[str, Any] = {"value": torch.cuda.get_device_name(0)}
    else:
        gpu = {"reason": "torch sees no CUDA device"}
    return {
        "gpu": gpu,
        "driver": _nvidia_smi("driver_version"),
        "gpu_memory": _nvidia_smi("memory.total"),
        "jax_backend": jax.default_backend(),
        "jax_devices": [device.device_kind for device in jax.devices()],
        "torch_cuda": torch.version.cuda or "none (CPU build)",
        "versions": package_versions(),
    }
