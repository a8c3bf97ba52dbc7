"""Writing photodesk's fields into XMP sidecars, editing the existing tree in place.

Only the properties photodesk owns are touched; every other node (darktable's history,
Lightroom's develop settings, other regions) is kept with its namespace prefix. The packet is
parsed with defusedxml and serialised here (so prefixes stay as the other tool wrote them);
what surrounds ``x:xmpmeta`` (the ``<?xpacket?>`` wrapper) is kept byte for byte. Files are
replaced atomically: a temp file beside the sidecar, fsynced, then renamed over it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring, iterparse

from photodesk.core.catalog.errors import CorruptFile
from photodesk.core.media.mediatypes import FaceRegion
from photodesk.core.media.metadata.regions import (
    MP,
    MWG_RS,
    RDF,
    REGION_PREFIXES,
    build_mp_regions,
    build_mwg_regions,
    other_mwg_regions,
)

X = "adobe:ns:meta/"
XML = "http://www.w3.org/XML/1998/namespace"
XMP = "http://ns.adobe.com/xap/1.0/"
DC = "http://purl.org/dc/elements/1.1/"
EXIF = "http://ns.adobe.com/exif/1.0/"
PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
LR = "http://ns.adobe.com/lightroom/1.0/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
MSPHOTO = "http://ns.microsoft.com/photo/1.0/"
PREFIXES = {
    X: "x",
    RDF: "rdf",
    XMP: "xmp",
    DC: "dc",
    EXIF: "exif",
    PHOTOSHOP: "photoshop",
    LR: "lr",
    DIGIKAM: "digiKam",
    MSPHOTO: "MicrosoftPhoto",
    **REGION_PREFIXES,
}
TEMP_SUFFIX = ".photodesk-tmp"  # ".<name>.<pid>.photodesk-tmp" beside the sidecar
_NEW = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="photodesk">\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about=""/>\n'
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    '<?xpacket end="w"?>\n'
).encode()


@dataclass(frozen=True)
class SidecarValues:
    """What photodesk writes. ``fields`` names the groups to write: keywords, rating, title,
    description, date, location, faces; the others are left as the file has them."""

    fields: frozenset[str]
    keywords: tuple[str, ...] = ()  # hierarchical paths joined with "/"
    rating: int = 0
    title: str | None = None
    description: str | None = None
    taken_at: datetime | None = None
    taken_offset: int | None = None  # minutes east of UTC
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    faces: tuple[FaceRegion, ...] = ()
    width: int | None = None  # the image as displayed (orientation applied)
    height: int | None = None


# ----- reading the packet --------------------------------------------------------------------
def _split_packet(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(before, the xmpmeta/RDF document, after)."""
    for opener, closer in ((b"<x:xmpmeta", b"</x:xmpmeta>"), (b"<x:xapmeta", b"</x:xapmeta>")):
        start, end = data.find(opener), data.rfind(closer)
        if 0 <= start < end:
            end += len(closer)
            return data[:start], data[start:end], data[end:]
    start, end = data.find(b"<rdf:RDF"), data.rfind(b"</rdf:RDF>")
    if 0 <= start < end:
        end += len(b"</rdf:RDF>")
        return data[:start], data[start:end], data[end:]
    raise CorruptFile("not an XMP packet")


def _prefixes(doc: bytes) -> dict[str, str]:
    """namespace URI -> the prefix the file uses for it (first declaration wins)."""
    found: dict[str, str] = {}
    for _event, (prefix, uri) in iterparse(io.BytesIO(doc), events=("start-ns",)):
        if prefix and uri not in found:
            found[uri] = prefix
    return found


def parse_packet(data: bytes) -> tuple[bytes, Element, bytes, dict[str, str]]:
    """Split and parse an XMP file: (before, root element, after, prefixes).

    Raises:
        CorruptFile: not an XMP packet, or XML that cannot be parsed (never rewritten then).
    """
    before, doc, after = _split_packet(data)
    try:
        root = fromstring(doc)
        prefixes = _prefixes(doc)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CorruptFile(f"damaged XMP: {exc}") from exc
    return before, root, after, prefixes


# ----- serialising ---------------------------------------------------------------------------
def _escape(text: str, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
        text = text.replace("\t", "&#9;")
    else:
        text = text.replace("\r", "&#13;")
    return text


class _Names:
    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = {**PREFIXES, **prefixes}
        self.used: dict[str, str] = {}

    def qname(self, name: str) -> str:
        if not name.startswith("{"):
            return name
        uri, local = name[1:].split("}", 1)
        if uri == XML:
            return f"xml:{local}"
        prefix = self.used.get(uri)
        if prefix is None:
            taken = set(self.used.values())
            prefix = self.prefixes.get(uri)
            if prefix is None or prefix in taken or prefix in ("xml", "xmlns"):
                n = 1
                while f"ns{n}" in taken:
                    n += 1
                prefix = f"ns{n}"
            self.used[uri] = prefix
        return f"{prefix}:{local}"


def _write(elem: Element, names: _Names, out: list[str]) -> None:
    tag = names.qname(elem.tag)
    attrs = "".join(
        f' {names.qname(k)}="{_escape(v, attribute=True)}"' for k, v in elem.attrib.items()
    )
    out.append(f"<{tag}{attrs}")
    if len(elem) == 0 and not elem.text:
        out.append("/>")
    else:
        out.append(">")
        if elem.text:
            out.append(_escape(elem.text))
        for child in elem:
            _write(child, names, out)
            if child.tail:
                out.append(_escape(child.tail))
        out.append(f"</{tag}>")


def serialize(root: Element, prefixes: dict[str, str]) -> bytes:
    """The XML of ``root`` with every namespace declared on it, using the file's own prefixes."""
    names = _Names(prefixes)
    body: list[str] = []
    _write(root, names, body)
    text = "".join(body)
    decls = "".join(
        f' xmlns:{p}="{_escape(uri, attribute=True)}"'
        for uri, p in sorted(names.used.items(), key=lambda kv: kv[1])
    )
    cut = len(names.qname(root.tag)) + 1  # after "<prefix:tag"
    return (text[:cut] + decls + text[cut:]).encode("utf-8")


# ----- editing the tree ----------------------------------------------------------------------
def _same_ns(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _is(name: str, uri: str, local: str) -> bool:
    if not name.startswith("{"):
        return False
    u, loc = name[1:].split("}", 1)
    return loc == local and _same_ns(u, uri)


class _Tree:
    """The rdf:Description nodes of a packet, and edits of one property at a time."""

    def __init__(self, root: Element) -> None:
        rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
        if rdf is None:
            raise CorruptFile("XMP without rdf:RDF")
        self.rdf = rdf
        self.descs = [d for d in rdf if d.tag == f"{{{RDF}}}Description"]
        if not self.descs:
            desc = SubElement(rdf, f"{{{RDF}}}Description")
            desc.set(f"{{{RDF}}}about", "")
            self.descs = [desc]

    def find(self, uri: str, local: str) -> Element | None:
        for d in self.descs:
            for child in d:
                if _is(child.tag, uri, local):
                    return child
        return None

    def remove(self, uri: str, local: str) -> tuple[Element, int] | None:
        """Drop every occurrence; returns where the first element form stood."""
        where: tuple[Element, int] | None = None
        for d in self.descs:
            for key in [k for k in d.attrib if _is(k, uri, local)]:
                del d.attrib[key]
            for i, child in reversed(list(enumerate(d))):
                if _is(child.tag, uri, local):
                    if i > 0 and d[i - 1].tail is not None and child.tail is not None:
                        d[i - 1].tail = child.tail  # keep the indentation of what follows
                    d.remove(child)
                    where = (d, i)
        return where

    def text(self, uri: str, local: str) -> str | None:
        """A simple property's value, written as an attribute or as an element."""
        home = self.attribute_home(uri, local)
        if home is not None:
            return next(v for k, v in home.attrib.items() if _is(k, uri, local))
        found = self.find(uri, local)
        return (found.text or "").strip() if found is not None and len(found) == 0 else None

    def attribute_home(self, uri: str, local: str) -> Element | None:
        for d in self.descs:
            if any(_is(k, uri, local) for k in d.attrib):
                return d
        return None

    def put(self, new: Element | None, uri: str, local: str) -> None:
        """Replace the property with ``new`` (None: remove it), in place where it was."""
        where = self.remove(uri, local)
        if new is None:
            return
        desc, index = where if where is not None else (self.descs[0], len(self.descs[0]))
        _indent_like(desc, index, new)
        desc.insert(index, new)

    def put_simple(self, uri: str, local: str, value: str | None) -> None:
        home = self.attribute_home(uri, local)
        if home is not None and value is not None and self.find(uri, local) is None:
            for key in [k for k in home.attrib if _is(k, uri, local)]:
                home.set(key, value)  # darktable writes simple values as attributes: keep so
            return
        new = None
        if value is not None:
            new = Element(f"{{{uri}}}{local}")
            new.text = value
        self.put(new, uri, local)


def _indent_like(desc: Element, index: int, new: Element) -> None:
    """Give ``new`` (about to be inserted at ``index``) the whitespace its siblings have."""
    if len(desc) == 0:
        child, closing = "\n   ", "\n  "
        desc.text = child
        new.tail = closing
    else:
        text = desc.text or ""
        child = text if text.strip() == "" and text else "\n   "
        if index >= len(desc):
            last = desc[-1]
            new.tail = last.tail
            last.tail = child
        else:
            new.tail = child
    _pretty(new, child)


def _pretty(elem: Element, indent: str) -> None:
    """Indent a newly built subtree that starts after ``indent``."""
    if len(elem) == 0:
        return
    inner = indent + " "
    elem.text = inner
    for i, child in enumerate(elem):
        _pretty(child, inner)
        child.tail = inner if i < len(elem) - 1 else indent


def _bag(uri: str, local: str, items: Iterable[str], container: str = "Bag") -> Element | None:
    values = list(items)
    if not values:
        return None
    prop = Element(f"{{{uri}}}{local}")
    bag = SubElement(prop, f"{{{RDF}}}{container}")
    for v in values:
        SubElement(bag, f"{{{RDF}}}li").text = v
    return prop


def _alt(uri: str, local: str, text: str | None) -> Element | None:
    if not text:
        return None
    prop = Element(f"{{{uri}}}{local}")
    li = SubElement(SubElement(prop, f"{{{RDF}}}Alt"), f"{{{RDF}}}li")
    li.set(f"{{{XML}}}lang", "x-default")
    li.text = text
    return prop


def xmp_date(when: datetime, offset: int | None) -> str:
    text = when.replace(microsecond=0).isoformat()
    if offset is None:
        return text
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def xmp_coordinate(value: float, axis: str) -> str:
    """XMP's GPSCoordinate: ``DDD,MM.mmmmmmK`` (degrees, decimal minutes, N/S/E/W)."""
    ref = axis[0] if value >= 0 else axis[1]
    value = abs(value)
    degrees = int(value)
    minutes = (value - degrees) * 60
    return f"{degrees},{minutes:.6f}{ref}"


def apply_values(root: Element, v: SidecarValues) -> None:
    """Edit the parsed packet so it says what ``v`` says (for ``v.fields`` only)."""
    t = _Tree(root)
    old_rating = (t.text(XMP, "Rating") or "").strip()
    if "rating" in v.fields and not (v.rating == 0 and old_rating.startswith("-")):
        # a Lightroom "rejected" (-1) is no stars in photodesk: it stays until stars are given
        t.put_simple(XMP, "Rating", str(max(0, min(5, v.rating))))
    if "title" in v.fields:
        t.put(_alt(DC, "title", v.title), DC, "title")
    if "description" in v.fields:
        t.put(_alt(DC, "description", v.description), DC, "description")
    if "keywords" in v.fields:
        paths = [k for k in v.keywords if k]
        leaves = list(dict.fromkeys(p.rsplit("/", 1)[-1] for p in paths))
        t.put(_bag(DC, "subject", leaves), DC, "subject")
        lr_paths = [p.replace("/", "|") for p in paths]
        t.put(_bag(LR, "hierarchicalSubject", lr_paths), LR, "hierarchicalSubject")
        t.put(_bag(DIGIKAM, "TagsList", paths, "Seq"), DIGIKAM, "TagsList")
        if t.find(MSPHOTO, "LastKeywordXMP") is not None or t.attribute_home(
            MSPHOTO, "LastKeywordXMP"
        ):
            t.put(_bag(MSPHOTO, "LastKeywordXMP", paths), MSPHOTO, "LastKeywordXMP")
    if "date" in v.fields and v.taken_at is not None:
        text = xmp_date(v.taken_at, v.taken_offset)
        t.put_simple(EXIF, "DateTimeOriginal", text)
        t.put_simple(PHOTOSHOP, "DateCreated", text)
    if "location" in v.fields:
        _put_gps(t, v)
    if "faces" in v.fields:
        old = t.find(MWG_RS, "Regions")
        keep = other_mwg_regions(old) if old is not None else []
        mwg = build_mwg_regions(v.faces, v.width, v.height, keep) if v.faces or keep else None
        t.put(mwg, MWG_RS, "Regions")
        t.put(build_mp_regions(v.faces) if v.faces else None, MP, "RegionInfo")


def _put_gps(t: _Tree, v: SidecarValues) -> None:
    gps: dict[str, str | None] = dict.fromkeys(
        ("GPSLatitude", "GPSLongitude", "GPSAltitude", "GPSAltitudeRef", "GPSVersionID")
    )
    if v.latitude is not None and v.longitude is not None:
        gps["GPSLatitude"] = xmp_coordinate(v.latitude, "NS")
        gps["GPSLongitude"] = xmp_coordinate(v.longitude, "EW")
        gps["GPSVersionID"] = "2.3.0.0"
        if v.altitude is not None:
            gps["GPSAltitude"] = f"{round(abs(v.altitude) * 1000)}/1000"
            gps["GPSAltitudeRef"] = "1" if v.altitude < 0 else "0"
    for name, value in gps.items():
        t.put_simple(EXIF, name, value)


def render_sidecar(existing: bytes | None, values: SidecarValues) -> bytes:
    """The new bytes of a sidecar: ``existing`` edited in place, or a new packet.

    Raises:
        CorruptFile: ``existing`` is not XMP that can be parsed (it is never overwritten).
    """
    before, root, after, prefixes = parse_packet(existing if existing else _NEW)
    apply_values(root, values)
    return before + serialize(root, prefixes) + after


# ----- files ---------------------------------------------------------------------------------
def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def write_atomic(path: Path, data: bytes) -> os.stat_result:
    """Replace ``path`` with ``data``: the file is the old one or the new one, never a mix.

    Returns the new file's stat. Temp files a killed writer left for this path are removed.
    """
    for stale in path.parent.glob(f".{_glob_escape(path.name)}.*{TEMP_SUFFIX}"):
        pid = stale.name[len(path.name) + 2 : -len(TEMP_SUFFIX)]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            try:
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            except OSError:
                pass
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path.stat()


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _alive(pid: int) -> bool:
    from photodesk.core.catalog.procs import pid_alive

    return pid_alive(pid)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
