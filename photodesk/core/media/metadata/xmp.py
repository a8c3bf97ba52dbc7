"""Reading XMP packets (embedded or sidecar) safely with defusedxml."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from photodesk.core.media.metadata.dates import DateCandidate, parse_iso_datetime
from photodesk.core.media.metadata.regions import FaceRegion, read_face_regions

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# namespace URI (without a trailing slash) -> short family name used below
_NAMESPACES = {
    "http://ns.adobe.com/xap/1.0": "xmp",
    "http://purl.org/dc/elements/1.1": "dc",
    "http://ns.adobe.com/exif/1.0": "exif",
    "http://cipa.jp/exif/1.0": "exifEX",
    "http://ns.adobe.com/tiff/1.0": "tiff",
    "http://ns.adobe.com/photoshop/1.0": "photoshop",
    "http://ns.adobe.com/lightroom/1.0": "lr",
    "http://www.digikam.org/ns/1.0": "digiKam",
    "http://ns.adobe.com/exif/1.0/aux": "aux",
    "http://ns.microsoft.com/photo/1.0": "MicrosoftPhoto",
}

_DATE_PROPS = (
    ("exif", "datetimeoriginal", "xmp:DateTimeOriginal"),
    ("xmp", "createdate", "xmp:CreateDate"),
    ("photoshop", "datecreated", "xmp:DateCreated"),
    ("exif", "datetimedigitized", "xmp:DateTimeDigitized"),
)


@dataclass
class XmpData:
    """The photo fields an XMP packet carries (all optional)."""

    rating: int | None = None
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    dates: list[DateCandidate] = field(default_factory=list)
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    orientation: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    iso: int | None = None
    f_number: float | None = None
    exposure_time: float | None = None
    focal_length: float | None = None
    faces: tuple[FaceRegion, ...] = ()  # named face regions (MWG, Microsoft)
    warnings: list[str] = field(default_factory=list)


Props = dict[tuple[str, str], str | list[str]]


def _packet_bounds(data: bytes) -> bytes | None:
    """Cut the XML document out of an XMP packet (xpacket wrapper, padding, junk around)."""
    for opener, closer in ((b"<x:xmpmeta", b"</x:xmpmeta>"), (b"<x:xapmeta", b"</x:xapmeta>")):
        start = data.find(opener)
        if start >= 0:
            end = data.rfind(closer)
            if end > start:
                return data[start : end + len(closer)]
    start = data.find(b"<rdf:RDF")
    end = data.rfind(b"</rdf:RDF>")
    if start >= 0 and end > start:
        return data[start : end + len(b"</rdf:RDF>")]
    return None


@lru_cache(maxsize=1024)
def _split(name: str) -> tuple[str, str] | None:
    """Map "{uri}Local" to (family, lowercase local), or None for namespaces photodesk ignores."""
    if not name.startswith("{"):
        return None
    uri, _, local = name[1:].partition("}")
    family = _NAMESPACES.get(uri.rstrip("/"))
    if family is None:
        return None
    return family, local.lower()


def _element_value(elem: Element) -> str | list[str] | None:
    """Return a property's text, or the items of an rdf:Alt/Bag/Seq it holds."""
    for container in elem:
        if container.tag in (f"{{{_RDF}}}Alt", f"{{{_RDF}}}Bag", f"{{{_RDF}}}Seq"):
            items = [li for li in container if li.tag == f"{{{_RDF}}}li"]
            if container.tag == f"{{{_RDF}}}Alt":
                default = [li for li in items if li.get(_XML_LANG) == "x-default"]
                items = default + [li for li in items if li not in default]
            return [(li.text or "").strip() for li in items if (li.text or "").strip()]
        return None  # a struct: not a value photodesk reads
    text = (elem.text or "").strip()
    return text or None


def _collect(root: Element) -> Props:
    props: Props = {}
    for desc in root.iter(f"{{{_RDF}}}Description"):
        for name, text in desc.attrib.items():
            key = _split(name)
            if key and text.strip():
                props.setdefault(key, text.strip())
        for child in desc:
            key = _split(child.tag)
            if key is None:
                continue
            value = _element_value(child)
            if value:
                props.setdefault(key, value)
    return props


def parse_xmp(data: bytes) -> XmpData | None:
    """Parse an XMP packet; None when it holds no parseable RDF."""
    packet = _packet_bounds(data)
    if packet is None:
        return None
    try:
        root = fromstring(packet)
    except (ParseError, DefusedXmlException, ValueError):
        return XmpData(warnings=["unreadable XMP packet"])
    out = _to_fields(_collect(root))
    out.faces = read_face_regions(root)
    return out


def _first(props: Props, family: str, name: str) -> str | None:
    value = props.get((family, name))
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _items(props: Props, family: str, name: str) -> list[str]:
    value = props.get((family, name))
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _number(raw: str | None) -> float | None:
    """Parse an XMP number or rational ("28/10")."""
    if not raw:
        return None
    try:
        if "/" in raw:
            num, den = raw.split("/", 1)
            return float(num) / float(den) if float(den) else None
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_COORD_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$"
)


def parse_xmp_coordinate(raw: str | None, limit: float) -> float | None:
    """Parse XMP GPS coordinates: "53,22.97N", "48,53,19.4N" or a signed decimal."""
    if not raw:
        return None
    m = _COORD_RE.match(raw.upper())
    if m:
        deg, minutes, seconds, ref = m.groups()
        value = float(deg) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
        if ref in "SW":
            value = -value
    else:
        parsed = _number(raw)
        if parsed is None:
            return None
        value = parsed
    return value if abs(value) <= limit else None


def _keywords(props: Props) -> tuple[str, ...]:
    paths: list[str] = []
    for raw in _items(props, "lr", "hierarchicalsubject"):
        paths.append("/".join(p.strip() for p in raw.split("|") if p.strip()))
    for family, name in (("digiKam", "tagslist"), ("MicrosoftPhoto", "lastkeywordxmp")):
        for raw in _items(props, family, name):
            paths.append("/".join(p.strip() for p in raw.split("/") if p.strip()))
    if not any(paths):
        paths = [s.strip() for s in _items(props, "dc", "subject")]
    return tuple(dict.fromkeys(p for p in paths if p))


def parse_rating(raw: str | None) -> int | None:
    """Return an XMP rating folded into 0-5 (-1, "rejected", becomes 0)."""
    value = _number(raw)
    if value is None:
        return None
    return max(0, min(5, round(value)))


def _to_fields(props: Props) -> XmpData:
    out = XmpData()
    out.rating = parse_rating(_first(props, "xmp", "rating"))
    out.title = _first(props, "dc", "title")
    out.description = _first(props, "dc", "description")
    out.keywords = _keywords(props)
    for family, name, source in _DATE_PROPS:
        parsed = parse_iso_datetime(_first(props, family, name))
        if parsed:
            out.dates.append(DateCandidate(source, parsed[0], parsed[1]))
    out.make = _first(props, "tiff", "make")
    out.model = _first(props, "tiff", "model")
    out.lens = _first(props, "exifEX", "lensmodel") or _first(props, "aux", "lens")
    orientation = _number(_first(props, "tiff", "orientation"))
    if orientation is not None and orientation in range(1, 9):
        out.orientation = int(orientation)
    lat = parse_xmp_coordinate(_first(props, "exif", "gpslatitude"), 90)
    lon = parse_xmp_coordinate(_first(props, "exif", "gpslongitude"), 180)
    if lat is not None and lon is not None:
        out.latitude, out.longitude = lat, lon
        alt = _number(_first(props, "exif", "gpsaltitude"))
        if alt is not None and _first(props, "exif", "gpsaltituderef") == "1":
            alt = -alt
        out.altitude = alt
    iso = _number(_first(props, "exif", "isospeedratings")) or _number(
        _first(props, "exifEX", "photographicsensitivity")
    )
    out.iso = int(iso) if iso else None
    out.f_number = _number(_first(props, "exif", "fnumber"))
    out.exposure_time = _number(_first(props, "exif", "exposuretime"))
    out.focal_length = _number(_first(props, "exif", "focallength"))
    return out
