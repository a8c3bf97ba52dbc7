"""Face thumbnails: a square around a face box, cut from the 1440 px preview and cached on disk."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

Box = tuple[float, float, float, float]
MARGIN = 1.8  # the crop's side, in face-box sides: the whole head, a little shoulder
RAISE = 0.12  # detectors box brows to chin: centre a little higher to keep the hair
QUALITY = 88


class FaceCropStore:
    """Crops as ``<dir>/ab/<key>.jpg``, keyed by content checksum, box and size."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, checksum: str, box: Box, size: int) -> Path:
        key = hashlib.sha1(f"{checksum}:{box}:{size}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.jpg"

    def get(self, checksum: str, box: Box, size: int, preview: Path) -> bytes:
        """The cached crop, or one made now from ``preview`` (which must exist) and cached."""
        path = self.path(checksum, box, size)
        if path.is_file():
            return path.read_bytes()
        data = crop(preview, box, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return data


def crop(image_path: Path, box: Box, size: int) -> bytes:
    """JPEG bytes of a ``size`` px square around ``box`` (0-1), kept inside the image."""
    from PIL import Image

    with Image.open(image_path) as src:
        im = src.convert("RGB")
        w, h = im.size
        x1, y1, x2, y2 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
        side = min(max(x2 - x1, y2 - y1) * MARGIN, w, h)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - (y2 - y1) * RAISE
        left = min(max(cx - side / 2, 0), w - side)
        top = min(max(cy - side / 2, 0), h - side)
        face = im.resize(
            (size, size), Image.Resampling.LANCZOS, box=(left, top, left + side, top + side)
        )
    out = io.BytesIO()
    face.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
