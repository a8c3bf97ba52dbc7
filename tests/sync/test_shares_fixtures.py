"""Helpers for the sharing tests: corpus photos uploaded for users, albums, HTTP shortcuts."""

from __future__ import annotations

import hashlib
import io
import shutil
import time
from pathlib import Path

import exifread
import requests
from PIL import Image
from sqlalchemy import select

from tests.conftest import require_corpus

# JPEGs that carry GPS (ExifTool ground truth: Composite:GPSLatitude in exiftool.json).
GPS_PHOTOS = ("ianare__gps_DSCN0012.jpg", "exiftool__GPS.jpg", "mei__Apple_iPhone_4.jpg")
OTHER_PHOTOS = ("mei__Canon_EOS_REBEL_T3i.jpg", "facerec__obama2.jpg")


def upload_photo(lib, user_id: int, name: str, tmp: Path) -> int:
    """Put a corpus file into ``user_id``'s library through the upload pipeline."""
    tmp.mkdir(parents=True, exist_ok=True)
    copy = tmp / name
    shutil.copyfile(require_corpus() / name, copy)  # skips (one reason) without the corpus
    data = copy.read_bytes()
    staged = lib.uploads.stage(user_id)
    with staged:
        staged.write(data)
        staged.finish()
    outcome = lib.uploads.ingest(user_id, staged.path, name, hashlib.sha1(data).hexdigest())
    assert outcome.asset_id is not None, outcome
    analysed(lib, outcome.asset_id)
    return outcome.asset_id


def analysed(lib, asset_id: int, timeout: float = 120.0) -> None:
    """Wait for the server's jobs to analyse an upload (its ``upload.analyse`` job)."""
    from photodesk.core.catalog.db.jobs import ACTIVE
    from photodesk.core.catalog.db.schema import Job

    deadline = time.monotonic() + timeout
    while True:
        with lib.read() as s:
            busy = s.scalar(
                select(Job.id)
                .where(Job.kind == "upload.analyse", Job.target == str(asset_id))
                .where(Job.state.in_(ACTIVE))
            )
        if busy is None:
            return
        assert time.monotonic() < deadline, f"asset {asset_id} was not analysed"
        time.sleep(0.05)


def make_album(lib, user_id: int, name: str, asset_ids: list[int]) -> int:
    view = lib.for_user(user_id)
    album_id = int(view.albums.create(name))
    if asset_ids:
        view.albums.add(album_id, asset_ids)
    return album_id


def get(url: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 60)
    kwargs.setdefault("allow_redirects", False)
    return requests.get(url, **kwargs)


def has_metadata(data: bytes) -> list[str]:
    """What metadata a served file still carries (empty: none), read back with Pillow and
    exifread, plus the raw signatures of EXIF, XMP and IPTC segments."""
    found = []
    with Image.open(io.BytesIO(data)) as im:
        if im.info.get("exif") or len(im.getexif()):
            found.append("Pillow EXIF")
        if im.info.get("xmp"):
            found.append("Pillow XMP")
    tags = exifread.process_file(io.BytesIO(data), details=False)
    if any(k.startswith("GPS") for k in tags):
        found.append("exifread GPS")
    if any(k.startswith(("EXIF", "Image")) for k in tags):
        found.append("exifread EXIF")
    for sig in (b"Exif\x00\x00", b"http://ns.adobe.com/xap/", b"Photoshop 3.0"):
        if sig in data:
            found.append(sig.decode(errors="replace"))
    return found
