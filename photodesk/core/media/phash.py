"""Perceptual hash: a 64-bit DCT hash of an image, robust to rescaling and recompression.

The image is reduced to 32x32 grey, transformed with a 2-D DCT, and the 8x8 lowest frequencies
(less the DC term's influence, by comparing with their median) give the bits. Two photos whose
hashes differ in at most a few bits look the same. Hashes are stored as signed 64-bit integers
(SQLite's INTEGER).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE, LOW = 32, 8


def _dct_rows(size: int, rows: int) -> np.ndarray:
    """The first ``rows`` basis vectors of the orthonormal DCT-II of length ``size``."""
    n = np.arange(size)
    k = np.arange(rows)[:, None]
    basis = np.sqrt(2 / size) * np.cos(np.pi * (2 * n + 1) * k / (2 * size))
    basis[0] /= np.sqrt(2)
    return basis.astype(np.float32)


# D @ X @ D.T is the 2-D DCT's top-left LOW x LOW corner: no FFT library to import or run
_DCT = _dct_rows(SIZE, LOW)


def dct_hash(image: Image.Image) -> int:
    """The perceptual hash of ``image`` as a signed 64-bit integer."""
    grey = image.convert("L").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, dtype=np.float32)
    low = (_DCT @ pixels @ _DCT.T).ravel()
    bits = low > np.median(low[1:])
    value = int.from_bytes(np.packbits(bits).tobytes(), "big")
    return value - (1 << 64) if value >= 1 << 63 else value


def sharpness(image: Image.Image) -> float:
    """Variance of the Laplacian of the grey image: higher is sharper (a burst's best frame)."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    lap = grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1]
    return float(lap.var())


def hash_file(path: Path) -> int | None:
    """The hash of an image file (a stored thumbnail), or None when it cannot be read."""
    measured = measure_file(path)
    return measured[0] if measured else None


def measure_file(path: Path) -> tuple[int, float] | None:
    """(perceptual hash, sharpness) of a stored thumbnail, or None when it cannot be read."""
    try:
        with Image.open(path) as image:
            image.draft("L", (SIZE * 4, SIZE * 4))  # JPEG: grey, decoded at half the size
            image.load()
            return dct_hash(image), sharpness(image)
    except (OSError, ValueError):
        return None


def distance(a: int, b: int) -> int:
    """Bits that differ between two hashes."""
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()
