"""Video metadata through PyAV: duration, size, creation time and ISO 6709 location."""

from __future__ import annotations

import re
from pathlib import Path

from photodesk.core.catalog.errors import CorruptFile
from photodesk.core.media.metadata.dates import DateCandidate, parse_iso_datetime
from photodesk.core.media.metadata.exif import Found

_ISO6709_RE = re.compile(r"^\s*([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")
_ROTATION_TO_ORIENTATION = {0: 1, 90: 6, 180: 3, 270: 8, -90: 8, -180: 3, -270: 6}


def parse_iso6709(text: str | None) -> tuple[float, float, float | None] | None:
    """Parse "+48.8577+002.2950+035.000/" style locations (decimal degrees form)."""
    if not text:
        return None
    m = _ISO6709_RE.match(text)
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    alt = float(m.group(3)) if m.group(3) else None
    return lat, lon, alt


def read_video(path: Path, found: Found) -> None:
    """Read a video container's header with PyAV (no frame is decoded)."""
    import av  # heavy; only needed for videos

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            tags = {k.lower(): v for k, v in container.metadata.items()}
            if container.duration is not None and container.duration > 0:
                found.duration = container.duration / av.time_base
            video = container.streams.video[0] if container.streams.video else None
            if video is not None:
                context = video.codec_context
                found.set_dims(context.width or None, context.height or None)
                tags.update({f"stream:{k.lower()}": v for k, v in video.metadata.items()})
                if found.duration is None and video.duration and video.time_base:
                    found.duration = float(video.duration * video.time_base)
    except Exception as exc:  # FFmpeg reports damage through many exception types
        raise CorruptFile(f"unreadable video: {exc}") from exc
    if video is None:
        found.warnings.append("no video stream")
    _add_tags(tags, found)


def _add_tags(tags: dict[str, str], found: Found) -> None:
    # Apple's creationdate carries the local offset; creation_time is UTC
    local = parse_iso_datetime(tags.get("com.apple.quicktime.creationdate"))
    if local is not None:
        found.dates.append(DateCandidate("quicktime:CreationDate", local[0], local[1]))
    utc = parse_iso_datetime(tags.get("creation_time"))
    if utc is not None and utc[0].year > 1970:
        found.dates.append(DateCandidate("quicktime:CreateDate", utc[0].replace(microsecond=0), 0))
    place = parse_iso6709(
        tags.get("com.apple.quicktime.location.iso6709") or tags.get("location") or tags.get("©xyz")
    )
    if place is not None:
        found.set_position(*place)
    found.set("make", tags.get("com.apple.quicktime.make") or tags.get("make"))
    found.set("model", tags.get("com.apple.quicktime.model") or tags.get("model"))
    rotate = tags.get("stream:rotate")
    if rotate and rotate.lstrip("-").isdigit():
        found.set("orientation", _ROTATION_TO_ORIENTATION.get(int(rotate) % 360))
