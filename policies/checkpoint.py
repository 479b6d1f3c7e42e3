"""Checkpoint files: written atomically, verified on read, loaded without unpickling arbitrary code.

A file holds two ``torch.save`` archives of tensors and plain data (read back with ``weights_only=True``):
first the *policy*, what a deployed policy needs (actor weights, observation normalizer, recipe and
provenance), then the whole *training state* (networks, optimizers, replay buffer, env and random state).
A header line comes before them: ``SIM2REAL-CKPT 2`` and, for each archive, its byte count and SHA-256.
:func:`load_policy` reads the header and the policy archive alone, however large the replay buffer behind
it; :func:`load_checkpoint` verifies both and loads the training state. A file of format 1 (header
``SIM2REAL-CKPT 1 <bytes> <sha256>``, the training state alone) still loads; it has no policy archive.

The file is written to a temporary name in the same folder, flushed to disk and renamed over the old
one, so a kill at any moment leaves either the previous checkpoint or the new one, never a torn file;
the next save removes a temporary file such a kill left behind.
A truncated or altered file fails its length or digest check and is reported in one line; the policy
reader checks the file's length and the policy's digest, not the training state it never reads.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import IO, Any

import torch

from sim2real_runtime.errors import ConfigError

MAGIC = b"SIM2REAL-CKPT"
FORMAT_VERSION = 2
ARCHIVES = {b"1": 1, b"2": 2}
"""How many archives a file of each format version this module reads holds; the training state is the last."""
HEADER_LIMIT = 512
"""Bytes read for the header line before a file is called no checkpoint."""
CHECKPOINT_NAME = "checkpoint.pt"
"""The latest checkpoint's file name inside a run folder."""
FIX = "resume from an intact copy or start a new run"


def _archive(data: dict[str, Any]) -> bytes:
    """``data`` as a ``torch.save`` archive."""
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


def _digest(body: bytes) -> bytes:
    """Hex SHA-256 of ``body``, as the header spells it."""
    return hashlib.sha256(body).hexdigest().encode()


def save_checkpoint(path: Path, payload: dict[str, Any], *, policy: dict[str, Any]) -> None:
    """Write ``policy`` and the training state ``payload`` to ``path`` atomically.

    Temporary file, fsync, rename, fsync of the folder.
    """
    bodies = [_archive(policy), _archive(payload)]
    archives = b"".join(b" %d %s" % (len(body), _digest(body)) for body in bodies)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(b"%s %d%s\n" % (MAGIC, FORMAT_VERSION, archives))
        for body in bodies:
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


def _open(path: Path) -> IO[bytes]:
    """The checkpoint at ``path``, open for reading; one line when there is none."""
    if not path.is_file():
        raise ConfigError.single(path, "-", f"no checkpoint here; {FIX}")
    return open(path, "rb")


def _read_header(path: Path, handle: IO[bytes]) -> list[tuple[int, bytes]]:
    """Byte count and digest of each archive the header announces, once the file's length matches them."""
    line = handle.readline(HEADER_LIMIT)
    fields = line.split()
    if not line.endswith(b"\n") or len(fields) < 2 or fields[0] != MAGIC:
        raise ConfigError.single(path, "-", f"not a sim2real checkpoint (bad header); {FIX}")
    count = ARCHIVES.get(fields[1])
    if count is None:
        known = ", ".join(version.decode() for version in ARCHIVES)
        version = fields[1].decode(errors="replace")
        raise ConfigError.single(path, "-", f"checkpoint format {version} is not one this sim2real reads ({known})")
    sizes, digests = fields[2::2], fields[3::2]
    if len(fields) != 2 + 2 * count or not all(size.isdigit() for size in sizes):
        raise ConfigError.single(path, "-", f"not a sim2real checkpoint (bad header); {FIX}")
    archives = [(int(size), digest) for size, digest in zip(sizes, digests, strict=True)]
    expected = sum(size for size, _ in archives)
    stored = os.fstat(handle.fileno()).st_size - len(line)
    if stored != expected:
        raise ConfigError.single(path, "-", f"checkpoint is truncated ({stored} of {expected} bytes); {FIX}")
    return archives


def _read_verified(path: Path, handle: IO[bytes], archive: tuple[int, bytes]) -> bytes:
    """The next archive's bytes, checked against its digest."""
    size, digest = archive
    body = handle.read(size)
    if _digest(body) != digest:
        raise ConfigError.single(path, "-", f"checkpoint is corrupt (checksum mismatch); {FIX}")
    return body


def _unpack(path: Path, body: bytes, device: torch.device | str) -> dict[str, Any]:
    """Tensors and plain data of one verified archive, on ``device``."""
    try:
        return torch.load(io.BytesIO(body), map_location=device, weights_only=True)
    except Exception as exc:
        raise ConfigError.single(path, "-", f"checkpoint cannot be read ({type(exc).__name__}); {FIX}") from None


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read and verify a whole checkpoint; returns the training state. One-line :class:`ConfigError` when damaged."""
    with _open(path) as handle:
        bodies = [_read_verified(path, handle, archive) for archive in _read_header(path, handle)]
    return _unpack(path, bodies[-1], device)


def load_policy(path: Path, device: torch.device | str = "cpu") -> dict[str, Any] | None:
    """Read and verify a checkpoint's policy archive alone (None for a format-1 file, which has none).

    The training state behind it is neither read nor unpickled. One-line :class:`ConfigError` when damaged.
    """
    with _open(path) as handle:
        archives = _read_header(path, handle)
        if len(archives) == 1:
            return None
        body = _read_verified(path, handle, archives[0])
    return _unpack(path, body, device)
