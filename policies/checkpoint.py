"""Checkpoint files: written atomically, verified on read, loaded without unpickling arbitrary code.

Layout of a file: one header line ``SIM2REAL-CKPT 1 <payload bytes> <sha256 of payload>`` and a newline, followed by
the payload, a ``torch.save`` archive of tensors and plain data (read back with ``weights_only=True``).
The file is written to a temporary name in the same folder, flushed to disk and renamed over the old
one, so a kill at any moment leaves either the previous checkpoint or the new one, never a torn file;
the next save removes a temporary file such a kill left behind.
A truncated or altered file fails its length or digest check and is reported in one line.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from sim.errors import ConfigError

MAGIC = b"SIM2REAL-CKPT"
FORMAT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"
"""The latest checkpoint's file name inside a run folder."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (temporary file, fsync, rename, fsync of the folder)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    header = b"%s %d %d %s\n" % (MAGIC, FORMAT_VERSION, len(body), hashlib.sha256(body).hexdigest().encode())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(header)
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)  # left by a writer killed mid-write
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read and verify a checkpoint; :class:`ConfigError` (one line) when it is missing or damaged."""
    fix = "resume from an intact copy or start a new run"
    if not path.is_file():
        raise ConfigError.single(path, "-", f"no checkpoint here; {fix}")
    raw = path.read_bytes()
    header, _, body = raw.partition(b"\n")
    fields = header.split(b" ")
    if len(fields) != 4 or fields[0] != MAGIC:
        raise ConfigError.single(path, "-", f"not a sim2real checkpoint (bad header); {fix}")
    if fields[1] != str(FORMAT_VERSION).encode():
        raise ConfigError.single(
            path, "-", f"checkpoint format {fields[1].decode(errors='replace')} is not {FORMAT_VERSION}"
        )
    expected = int(fields[2])
    if len(body) != expected:
        raise ConfigError.single(path, "-", f"checkpoint is truncated ({len(body)} of {expected} bytes); {fix}")
    if hashlib.sha256(body).hexdigest().encode() != fields[3]:
        raise ConfigError.single(path, "-", f"checkpoint is corrupt (checksum mismatch); {fix}")
    try:
        return torch.load(io.BytesIO(body), map_location=device, weights_only=True)
    except Exception as exc:
        raise ConfigError.single(path, "-", f"checkpoint cannot be read ({type(exc).__name__}); {fix}") from None
