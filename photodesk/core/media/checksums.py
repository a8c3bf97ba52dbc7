"""Content checksums: the SHA-1 that identifies an asset's bytes (and names its derivatives)."""

from __future__ import annotations

import hashlib

HASH_CHUNK = 1 << 20


def sha1_file(path: str) -> str:
    """The SHA-1 (hex) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha1(usedforsecurity=False)
    buf = bytearray(HASH_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()
