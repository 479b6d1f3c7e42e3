"""``mjcf: menagerie:<name>[/<entry>]`` in a robot YAML: a MuJoCo Menagerie model through ``mujoco-menagerie``.

The package is an optional extra (``pip install 'sim2real-stack[menagerie]'``). It downloads a model on
first use and caches it (``MENAGERIE_CACHE_DIR``, or ``MENAGERIE_ROOT`` for a local checkout). A model
that is not cached needs the network: before downloading, the archive host is probed with a short
connect timeout, so an offline machine gets one clear line at once instead of a hang in retries.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path
from urllib.parse import urlsplit

from sim2real_runtime.errors import ConfigError

PREFIX = "menagerie:"
"""How a robot YAML's ``mjcf`` field names a Menagerie model."""

CONNECT_TIMEOUT_S = 3.0
"""How long the archive host may take to accept a connection before we call the machine offline."""

_INSTALL = "pip install 'sim2real-stack[menagerie]'"


def _host_reachable(url: str) -> bool:
    """Whether a TCP connection to the URL's host opens within :data:`CONNECT_TIMEOUT_S`."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return True
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def menagerie_mjcf(reference: str, yaml_path: Path) -> Path:
    """The MJCF file of ``menagerie:<name>[/<entry>]``; :class:`ConfigError` on the ``mjcf`` field otherwise.

    Without an entry, the robot's default model (the robot alone, no scene) is used.
    """
    name, _, entry = reference.removeprefix(PREFIX).partition("/")
    if importlib.util.find_spec("mujoco_menagerie") is None:
        raise ConfigError.single(yaml_path, "mjcf", f"'{reference}' needs the mujoco-menagerie package; {_INSTALL}")
    import mujoco_menagerie as mm

    try:
        robot = mm.get(name)
        entry_point = robot.entry(entry or robot.default_model)
    except mm.MenagerieError as exc:
        raise ConfigError.single(yaml_path, "mjcf", f"{exc} (sim2real: {PREFIX}NAME[/ENTRY])") from None
    cache = mm.Cache()
    if cache.root is None and not cache.is_cached(robot) and not _host_reachable(cache.base_url):
        host = urlsplit(cache.base_url).hostname
        raise ConfigError.single(
            yaml_path,
            "mjcf",
            f"Menagerie model '{name}' is not in the local cache ({cache.dir}) and {host} cannot be reached "
            f"(offline?); fetch it once online (python -m mujoco_menagerie prefetch {name}), set MENAGERIE_ROOT "
            "to a Menagerie checkout, or give an MJCF path",
        )
    try:
        return robot.path(cache, progress=None) / entry_point.file
    except mm.MenagerieError as exc:
        raise ConfigError.single(yaml_path, "mjcf", f"cannot fetch Menagerie model '{name}': {exc}") from None
