"""Parsing of the date formats found in EXIF, XMP, IPTC, QuickTime and file names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MIN_YEAR = 1800
MAX_YEAR = 2200


@dataclass(frozen=True)
class DateCandidate:
    """One capture time a source offers: naive local wall-clock time plus its UTC offset."""

    source: str  # e.g. exif:DateTimeOriginal, gps, xmp:CreateDate, filename
    value: datetime
    offset: int | None = None  # minutes east of UTC


_EXIF_RE = re.compile(
    rb"\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?"
)
_ISO_RE = re.compile(
    r"\s*(\d{4})(?:[-:](\d{2})(?:[-:](\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)
_OFFSET_RE = re.compile(r"\s*([+-])(\d{1,2}):?(\d{2})\s*$")


def make_datetime(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime | None:
    """Build a datetime, or None for impossible values (zero month, year < 1800...)."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    if second == 60:  # leap second written by some GPS units
        second = 59
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def parse_exif_datetime(raw: bytes | str | None) -> datetime | None:
    """Parse "YYYY:MM:DD HH:MM:SS" leniently (trailing junk ignored); None when impossible."""
    if raw is None:
        return None
    data = raw.encode("latin-1", "replace") if isinstance(raw, str) else raw
    m = _EXIF_RE.match(data)
    if not m:
        return None
    parts = [int(g) if g else 0 for g in m.groups()]
    return make_datetime(*parts)


def parse_offset(raw: str | None) -> int | None:
    """Parse an EXIF OffsetTime ("+02:00") or XMP suffix ("Z", "-0500") into minutes."""
    if not raw:
        return None
    raw = raw.strip().rstrip("\0")
    if raw == "Z":
        return 0
    m = _OFFSET_RE.match(raw)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    if minutes > 14 * 60 or int(m.group(3)) >= 60:
        return None
    return -minutes if m.group(1) == "-" else minutes


def parse_iso_datetime(raw: str | None) -> tuple[datetime, int | None] | None:
    """Parse an XMP/ISO 8601 date ("2010-04-13T09:37:22+02:00", "2012-12-31", EXIF style too)."""
    if not raw:
        return None
    m = _ISO_RE.match(raw)
    if not m:
        dt = parse_exif_datetime(raw)
        return (dt, _trailing_offset(raw)) if dt else None
    year, month, day, hour, minute, second, frac, tz = m.groups()
    dt = make_datetime(
        int(year),
        int(month or 1),
        int(day or 1),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
    )
    if dt is None:
        return None
    if frac:
        dt = dt.replace(microsecond=int(frac[:6].ljust(6, "0")))
    return dt, parse_offset(tz) if tz else None


def _trailing_offset(raw: str) -> int | None:
    tail = raw.strip()[19:]
    return parse_offset(tail) if tail else None


def parse_subsec(raw: str | None) -> int:
    """Return microseconds from an EXIF SubSecTime string ("123" -> 123000)."""
    if not raw:
        return 0
    digits = raw.strip().split()[0] if raw.strip() else ""
    if not digits.isdigit():
        return 0
    return int(digits[:6].ljust(6, "0"))


def from_unix(seconds: float) -> datetime | None:
    """Return the naive UTC datetime for a Unix timestamp (None when out of range)."""
    try:
        dt = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None
    return dt if MIN_YEAR <= dt.year <= MAX_YEAR else None


_MAC_EPOCH = datetime(1904, 1, 1)


def from_mac_epoch(seconds: int) -> datetime | None:
    """Return the naive UTC datetime for QuickTime's seconds since 1904 (None for 0)."""
    if seconds <= 0:
        return None
    try:
        dt = _MAC_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return dt if 1970 <= dt.year <= MAX_YEAR else None


def gps_offset(local: datetime, utc: datetime) -> int | None:
    """Guess a UTC offset from a local time and the GPS (UTC) time of the same shot.

    Only accepted when the difference is within 2 minutes of a whole quarter hour
    and at most 14 hours, since GPS fixes can be older than the shot.
    """
    diff = (local - utc).total_seconds() / 60
    quarter = round(diff / 15) * 15
    if abs(diff - quarter) > 2 or abs(quarter) > 14 * 60:
        return None
    return int(quarter)


_NAME_PATTERNS = [
    # IMG_20230704_101500, VID_20230704_101500123, PXL_20230704_101500123, 20230704_101500
    re.compile(
        r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<mo>[01]\d)(?P<d>[0-3]\d)[_\- T]?"
        r"(?P<h>[0-2]\d)(?P<mi>[0-5]\d)(?P<s>[0-5]\d)(?:\d{0,3})(?!\d)"
    ),
    # Screenshot_2023-07-04-10-15-00, 2023-07-04 10.15.00, photo_2023-07-04_10-15-00
    re.compile(
        r"(?<!\d)(?P<y>(?:19|20)\d\d)[-_.](?P<mo>[01]\d)[-_.](?P<d>[0-3]\d)"
        r"(?:[-_ T]|\sat\s)(?P<h>[0-2]\d)[-_.:](?P<mi>[0-5]\d)[-_.:](?P<s>[0-5]\d)(?!\d)"
    ),
    # WhatsApp IMG-20230704-WA0001 / VID-20230704-WA0001: a date only
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<mo>[01]\d)(?P<d>[0-3]\d)-WA\d+", re.IGNORECASE),
    # 2023-07-04 or 2023_07_04 on its own: a date only
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)([-_])(?P<mo>[01]\d)\2(?P<d>[0-3]\d)(?!\d)"),
]


def date_from_filename(name: str) -> datetime | None:
    """Return the capture time encoded in a camera/phone file name, if any."""
    for pattern in _NAME_PATTERNS:
        for m in pattern.finditer(name):
            groups = m.groupdict()
            dt = make_datetime(
                int(groups["y"]),
                int(groups["mo"]),
                int(groups["d"]),
                int(groups.get("h") or 0),
                int(groups.get("mi") or 0),
                int(groups.get("s") or 0),
            )
            if dt is not None:
                return dt
    return None
