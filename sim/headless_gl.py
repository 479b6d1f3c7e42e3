"""Headless OpenGL for MuJoCo's renderer: EGL by default, chosen before ``mujoco`` is first imported.

MuJoCo picks its OpenGL backend from ``MUJOCO_GL`` when it is imported, and with ``MUJOCO_GL=egl`` on a
machine whose EGL library cannot be loaded the import itself fails. So the backend is settled here,
before anything imports ``mujoco``: EGL when its library loads; otherwise rendering is switched off and
everything but rendering keeps working, and :func:`headless_gl_problem` says why rendering is off.
A ``MUJOCO_GL`` the user set to another backend (osmesa, glfw) is left alone, and so is everything once
``mujoco`` has been imported (its choice is made by then).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

EGL_LIBRARY = "libEGL.so.1"
"""The EGL library MuJoCo's EGL backend loads (Mesa's or a GPU driver's)."""

INSTALL_HINT = "install EGL (Mesa: apt install libegl1 libgl1-mesa-dri) or a GPU driver, or set MUJOCO_GL=osmesa"
"""How to get a headless OpenGL context, for error messages."""


def egl_problem() -> str | None:
    """Why the EGL library cannot be loaded, or None when it loads."""
    try:
        ctypes.CDLL(ctypes.util.find_library("EGL") or EGL_LIBRARY)
    except OSError as exc:
        return str(exc)
    return None


def prepare_headless_gl() -> None:
    """Set ``MUJOCO_GL`` for headless rendering unless the user chose a backend other than EGL."""
    requested = os.environ.get("MUJOCO_GL", "").strip().lower()
    if requested not in ("", "egl") or "mujoco" in sys.modules:  # a choice made, or too late to make one
        return
    os.environ["MUJOCO_GL"] = "egl" if egl_problem() is None else "disable"


def headless_gl_problem(error: BaseException | None = None) -> str:
    """Why MuJoCo cannot open an OpenGL context, and the fix (``error``: what MuJoCo raised, if it did)."""
    backend = os.environ.get("MUJOCO_GL", "")
    missing_egl = egl_problem() if backend in ("", "egl", "disable") else None
    if missing_egl:
        reason = f"EGL could not be loaded ({missing_egl})"
    elif error is not None:
        text = str(error).strip()
        reason = f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
    else:
        reason = "rendering is switched off"
    hint = INSTALL_HINT if backend else "set MUJOCO_GL=egl before Python first imports mujoco"
    return f"MuJoCo could not open a headless OpenGL context, {reason}; {hint}"
