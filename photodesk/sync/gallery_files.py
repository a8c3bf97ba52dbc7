"""Files a public link serves: copies without metadata, and a zip streamed in chunks."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import queue
import shutil
import struct
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path

from aiohttp import web

from photodesk.core import neutral_icc
from photodesk.sync.decoding import DecodeGate, TooManyPixels

log = logging.getLogger(__name__)
CHUNK = 256 * 1024
JPEG_TYPES = ("jpeg", "jpg", "mpo")
MP4_TYPES = ("mp4", "mov", "m4v", "3gp", "qt")
# MP4 boxes that hold metadata (user data, iTunes-style meta, XMP uuid) become 'free' space.
_MP4_META = {b"udta", b"meta", b"uuid"}
_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"edts"}
_MP4_TIMES = {b"mvhd", b"tkhd", b"mdhd"}


class NotStrippable(Exception):
    """This file's metadata cannot be removed here, so it is not served without metadata."""


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without APPn segments (EXIF, XMP, IPTC, MPF, maker data), COM comments, a JFIF
    thumbnail or anything after EOI, also between the scans of a progressive JPEG; the colour
    profile stays, without its descriptions (``neutral_icc``)."""
    if data[:2] != b"\xff\xd8":
        raise NotStrippable("not a JPEG")
    out = bytearray(b"\xff\xd8")
    icc: list[tuple[int, bytes]] = []
    icc_at: int | None = None
    i, n = 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:
            raise NotStrippable("damaged JPEG segment structure")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out += data[i : i + 2]
            i += 2
            continue
        if i + 4 > n:
            raise NotStrippable("truncated JPEG")
        end = i + 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
        if end > n:
            raise NotStrippable("truncated JPEG")
        seg = data[i:end]
        if marker == 0xDA:  # start of scan: its entropy-coded data runs to the next marker
            stop = _scan_end(data, end)
            out += data[i:stop]
            i = stop
            continue
        if marker == 0xE2 and seg[4:16] == b"ICC_PROFILE\x00" and len(seg) > 18:
            icc_at = len(out) if icc_at is None else icc_at
            icc.append((seg[16], seg[18:]))
        elif marker == 0xE0 and seg[4:9] == b"JFIF\x00" and len(seg) >= 16:
            out += b"\xff\xe0\x00\x10" + seg[4:16] + b"\x00\x00"  # no thumbnail
        elif marker == 0xEE and seg[4:9] == b"Adobe" and len(seg) >= 16:
            out += b"\xff\xee\x00\x0e" + seg[4:16]  # the colour transform, nothing more
        elif not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            out += seg
        i = end
    out += b"\xff\xd9"
    profile = neutral_icc(b"".join(chunk for _, chunk in sorted(icc))) if icc else None
    if profile and icc_at is not None:
        out[icc_at:icc_at] = _icc_segments(profile)
    return bytes(out)


def _scan_end(data: bytes, start: int) -> int:
    """Where a scan's entropy-coded data ends: the next marker that is not a stuffed 0xFF00 or
    a restart marker (or the end of the data)."""
    j, n = start, len(data)
    while True:
        j = data.find(b"\xff", j)
        if j < 0 or j + 1 >= n:
            return n
        following = data[j + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            j += 1 if following == 0xFF else 2
            continue
        return j


def _icc_segments(profile: bytes) -> bytes:
    step = 65519 - 16  # APP2's 65535 less its length, signature, and sequence bytes
    chunks = [profile[k : k + step] for k in range(0, len(profile), step)]
    out = bytearray()
    for seq, chunk in enumerate(chunks, 1):
        out += b"\xff\xe2" + struct.pack(">H", 2 + 14 + len(chunk))
        out += b"ICC_PROFILE\x00" + bytes([seq, len(chunks)]) + chunk
    return bytes(out)


def _reencode(src: Path, dst: Path, file_type: str, kind: str, orientation: int | None) -> None:
    """Decode as the thumbnailer does (HEIF, RAW, the catalog's orientation) and write a plain
    upright JPEG: no EXIF, no XMP; only the colour profile stays."""
    from photodesk.core import PhotodeskError, write_plain_jpeg

    try:
        write_plain_jpeg(src, dst, file_type, kind, orientation)
    except (PhotodeskError, OSError, ValueError, SyntaxError) as exc:
        raise NotStrippable(f"cannot decode: {exc}") from exc


def _zero_times(box: bytearray, start: int) -> None:
    """Clear the creation/modification times of an mvhd/tkhd/mdhd box (capture dates)."""
    version = box[start + 8]
    width = 8 if version == 1 else 4
    box[start + 12 : start + 12 + 2 * width] = bytes(2 * width)


def _scrub_boxes(buf: bytearray, start: int, end: int) -> None:
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", buf[i : i + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", buf[i + 8 : i + 16])[0]
            header = 16
        elif size == 0:
            size = end - i
        if size < header or i + size > end:
            raise NotStrippable("damaged MP4 box structure")
        if kind in _MP4_META:
            buf[i + 4 : i + 8] = b"free"
            buf[i + header : i + size] = bytes(size - header)
        elif kind in _MP4_CONTAINERS:
            _scrub_boxes(buf, i + header, i + size)
        elif kind in _MP4_TIMES and size >= header + 4 + 16:
            _zero_times(buf, i + header - 8)
        i += size


def strip_mp4(src: Path, dst: Path) -> None:
    """Copy an MP4/MOV with its metadata boxes blanked (same layout, so offsets stay valid)."""
    with open(src, "rb") as fh, open(dst, "wb") as out:
        size_total = os.fstat(fh.fileno()).st_size
        pos = 0
        while pos < size_total:
            head = fh.read(8)
            if len(head) < 8:
                raise NotStrippable("truncated MP4")
            size, kind = struct.unpack(">I4s", head)
            header = head
            if size == 1:
                ext = fh.read(8)
                header += ext
                size = struct.unpack(">Q", ext)[0]
            elif size == 0:
                size = size_total - pos
            if size < len(header) or pos + size > size_total:
                raise NotStrippable("damaged MP4 box structure")
            body_len = size - len(header)
            if kind == b"moov":
                box = bytearray(header + fh.read(body_len))
                _scrub_boxes(box, len(header), len(box))
                out.write(box)
            elif kind in _MP4_META:
                out.write(header[:4] + b"free" + header[8:])
                remaining = body_len
                while remaining:
                    step = min(remaining, CHUNK)
                    out.write(bytes(step))
                    fh.seek(step, os.SEEK_CUR)
                    remaining -= step
            else:
                out.write(header)
                remaining = body_len
                while remaining:
                    chunk = fh.read(min(remaining, CHUNK))
                    if not chunk:
                        raise NotStrippable("truncated MP4")
                    out.write(chunk)
                    remaining -= len(chunk)
            pos += size


def _strip_jpeg_file(src: Path, dst: Path) -> None:
    dst.write_bytes(strip_jpeg(src.read_bytes()))


def _reencode_to(src: Path, dst: Path, *, ft: str, kind: str, orientation: int | None) -> None:
    _reencode(src, dst, ft, kind, orientation)


class StrippedCache:
    """Metadata-free copies of originals, made once per content and kept beside the library.

    Copies are made through the decode gate: a few at a time, one run per copy however many
    visitors ask for it at once, and never of a picture over the gate's pixel limit.
    """

    def __init__(self, folder: Path, gate: DecodeGate) -> None:
        self.folder = folder
        self.gate = gate

    def plan(
        self, src: Path, checksum: str, file_type: str, kind: str, orientation: int | None
    ) -> tuple[Path, str, Callable[[], None]]:
        """Where the copy goes, its extension, and how to make it (the copy may exist)."""
        ft = (file_type or "").lower()
        maker: Callable[[Path, Path], None]
        if kind == "video":
            if ft not in MP4_TYPES:
                raise NotStrippable(f"{ft or 'this'} video cannot be served without metadata")
            ext, maker = "." + ft, strip_mp4
        elif ft in JPEG_TYPES and orientation in (None, 0, 1):
            ext = ".jpg"
            maker = _strip_jpeg_file
        else:
            ext = ".jpg"
            maker = partial(_reencode_to, ft=ft, kind=kind, orientation=orientation)
        target = self.folder / checksum[:2] / f"{checksum}{ext}"

        def make() -> None:
            if target.is_file():  # made by a run that finished meanwhile
                return
            if maker is not strip_mp4:
                try:
                    self.gate.check_pixels(src, file_type, kind)
                except TooManyPixels as exc:
                    raise NotStrippable(str(exc)) from exc
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{uuid.uuid4().hex}.part")
            try:
                maker(src, tmp)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)

        return target, ext, make

    def path_for(
        self, src: Path, checksum: str, file_type: str, kind: str, orientation: int | None
    ) -> tuple[Path, str]:
        """The stripped copy (made now if needed, waiting on this thread) and its extension."""
        target, ext, make = self.plan(src, checksum, file_type, kind, orientation)
        if not target.is_file():
            self.gate.submit(str(target), make).result()
        return target, ext

    async def path_for_async(
        self, src: Path, checksum: str, file_type: str, kind: str, orientation: int | None
    ) -> tuple[Path, str]:
        """``path_for`` for the event loop: no thread is held while the copy is made."""
        target, ext, make = self.plan(src, checksum, file_type, kind, orientation)
        if not target.is_file():
            await self.gate.run(str(target), make)
        return target, ext


# ----- zip, streamed ------------------------------------------------------------------------
class _Sink(io.RawIOBase):
    """A write-only, unseekable file whose bytes go to a bounded queue (zipfile then writes data
    descriptors instead of seeking back)."""

    def __init__(self, out: queue.Queue[bytes | None], stop: threading.Event) -> None:
        self._out = out
        self._stop = stop
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        if self._stop.is_set():
            raise OSError("the client went away")
        self._buf += b
        if len(self._buf) >= CHUNK:
            self.flush()
        return len(b)

    def flush(self) -> None:
        if self._buf:
            while not self._stop.is_set():
                try:
                    self._out.put(bytes(self._buf), timeout=0.5)
                    break
                except queue.Full:
                    continue
            self._buf.clear()


Entry = tuple[str, Callable[[], Path | None], datetime | None]


def unique_names(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        stem, ext = os.path.splitext(name)
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem} ({n}){ext}"
        seen.add(candidate.lower())
        result.append(candidate)
    return result


def _write_zip(entries: list[Entry], sink: _Sink) -> None:
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, resolve, when in entries:
            path = resolve()
            if path is None:
                continue
            stamp = (when or datetime(1980, 1, 1)).timetuple()[:6]
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_STORED  # photos and videos are compressed already
            info.file_size = path.stat().st_size
            with open(path, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    sink.flush()


async def stream_zip(
    request: web.Request, filename: str, entries: list[Entry]
) -> web.StreamResponse:
    """Send ``entries`` as one zip, written on a worker thread and sent chunk by chunk."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
    stop = threading.Event()
    loop = asyncio.get_running_loop()

    def produce() -> None:
        try:
            _write_zip(entries, _Sink(chunks, stop))
        except Exception as exc:  # the client went away, or a file vanished mid-way
            if not stop.is_set():
                log.warning("zip of %s stopped: %s", filename, exc)
        finally:
            while not stop.is_set():
                try:
                    chunks.put(None, timeout=0.5)
                    break
                except queue.Full:
                    continue

    producer = loop.run_in_executor(None, produce)
    try:
        while True:
            chunk = await loop.run_in_executor(None, chunks.get)
            if chunk is None:
                break
            await response.write(chunk)
    finally:
        stop.set()
        while not chunks.empty():  # let a blocked producer finish
            chunks.get_nowait()
        await producer
    await response.write_eof()
    return response
