"""Face regions in XMP: the Metadata Working Group schema (mwg-rs) and Microsoft Photo's (MP).

Both are read from a parsed XMP tree and built for writing. Boxes are (x1, y1, x2, y2) in 0-1 of
the image as displayed (orientation applied), like the catalog's faces. MWG stores the centre and
the size of a region (``stArea:x/y/w/h``, unit ``normalized``); Microsoft stores the top-left
corner and the size as one string (``MPReg:Rectangle="x, y, w, h"``).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement

from photodesk.core.media.mediatypes import FaceRegion

__all__ = ["FaceRegion", "build_mp_regions", "build_mwg_regions", "read_face_regions"]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MP_RI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MP_REG = "http://ns.microsoft.com/photo/1.2/t/Region#"

REGION_PREFIXES = {
    MWG_RS: "mwg-rs",
    ST_AREA: "stArea",
    ST_DIM: "stDim",
    MP: "MP",
    MP_RI: "MPRI",
    MP_REG: "MPReg",
}

_PARSE_TYPE = f"{{{RDF}}}parseType"


def _fields(node: Element) -> dict[str, Element | str]:
    """The fields of an RDF struct, whichever way it is written: ``rdf:parseType="Resource"``
    children, an inner ``rdf:Description`` (attributes and children), or attributes."""
    out: dict[str, Element | str] = {}
    targets = [node]
    targets += [c for c in node if c.tag == f"{{{RDF}}}Description"]
    for t in targets:
        for key, value in t.attrib.items():
            if not key.startswith(f"{{{RDF}}}"):
                out.setdefault(key, value)
        for child in t:
            if child.tag != f"{{{RDF}}}Description":
                out.setdefault(child.tag, child)
    return out


def _text(value: Element | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    return (value.text or "").strip() or None


def _items(value: Element | str | None) -> list[Element]:
    """The ``rdf:li`` of the Bag/Seq inside a property."""
    if not isinstance(value, Element):
        return []
    out: list[Element] = []
    for container in value:
        if container.tag in (f"{{{RDF}}}Bag", f"{{{RDF}}}Seq", f"{{{RDF}}}Alt"):
            out += [li for li in container if li.tag == f"{{{RDF}}}li"]
    return out


def _float(value: Element | str | None) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number else None  # NaN


def _clamped(name: str, x1: float, y1: float, x2: float, y2: float) -> FaceRegion | None:
    x1, y1 = max(0.0, x1), max(0.0, y1)
    x2, y2 = min(1.0, x2), min(1.0, y2)
    if not (x1 < x2 and y1 < y2):
        return None
    return FaceRegion(name, round(x1, 6), round(y1, 6), round(x2, 6), round(y2, 6))


def _mwg_faces(root: Element) -> list[FaceRegion]:
    out: list[FaceRegion] = []
    for regions in root.iter(f"{{{MWG_RS}}}Regions"):
        lists = _fields(regions).get(f"{{{MWG_RS}}}RegionList")
        for li in _items(lists):
            f = _fields(li)
            name = _text(f.get(f"{{{MWG_RS}}}Name"))
            kind = _text(f.get(f"{{{MWG_RS}}}Type")) or "Face"
            area = f.get(f"{{{MWG_RS}}}Area")
            if not name or kind.lower() != "face" or not isinstance(area, Element):
                continue
            a = _fields(area)
            unit = _text(a.get(f"{{{ST_AREA}}}unit")) or "normalized"
            x, y = _float(a.get(f"{{{ST_AREA}}}x")), _float(a.get(f"{{{ST_AREA}}}y"))
            w, h = _float(a.get(f"{{{ST_AREA}}}w")), _float(a.get(f"{{{ST_AREA}}}h"))
            if unit.lower() != "normalized" or None in (x, y, w, h):
                continue
            assert x is not None and y is not None and w is not None and h is not None
            region = _clamped(name, x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if region is not None:
                out.append(region)
    return out


def _mp_faces(root: Element) -> list[FaceRegion]:
    out: list[FaceRegion] = []
    for info in root.iter(f"{{{MP}}}RegionInfo"):
        for li in _items(_fields(info).get(f"{{{MP_RI}}}Regions")):
            f = _fields(li)
            name = _text(f.get(f"{{{MP_REG}}}PersonDisplayName"))
            rect = _text(f.get(f"{{{MP_REG}}}Rectangle"))
            if not name or not rect:
                continue
            try:
                x, y, w, h = (float(v) for v in rect.split(","))
            except ValueError:
                continue
            region = _clamped(name, x, y, x + w, y + h)
            if region is not None:
                out.append(region)
    return out


def read_face_regions(root: Element) -> tuple[FaceRegion, ...]:
    """Named face regions of a parsed XMP tree: MWG first, Microsoft's for names MWG lacks."""
    faces = _mwg_faces(root)
    names = {f.name.casefold() for f in faces}
    for f in _mp_faces(root):
        if f.name.casefold() not in names:
            faces.append(f)
            names.add(f.name.casefold())
    return tuple(faces)


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _resource(parent: Element, tag: str) -> Element:
    node = SubElement(parent, tag)
    node.set(_PARSE_TYPE, "Resource")
    return node


def _leaf(parent: Element, tag: str, text: str) -> None:
    SubElement(parent, tag).text = text


def build_mwg_regions(
    faces: tuple[FaceRegion, ...], width: int | None, height: int | None, keep: list[Element]
) -> Element:
    """``mwg-rs:Regions`` for ``faces`` on a ``width`` x ``height`` displayed image; ``keep`` are
    regions of other types (focus points, pets) from the old list, carried over unchanged."""
    regions = Element(f"{{{MWG_RS}}}Regions")
    regions.set(_PARSE_TYPE, "Resource")
    if width and height:
        dims = _resource(regions, f"{{{MWG_RS}}}AppliedToDimensions")
        _leaf(dims, f"{{{ST_DIM}}}w", str(width))
        _leaf(dims, f"{{{ST_DIM}}}h", str(height))
        _leaf(dims, f"{{{ST_DIM}}}unit", "pixel")
    bag = SubElement(SubElement(regions, f"{{{MWG_RS}}}RegionList"), f"{{{RDF}}}Bag")
    for f in faces:
        li = _resource(bag, f"{{{RDF}}}li")
        area = _resource(li, f"{{{MWG_RS}}}Area")
        _leaf(area, f"{{{ST_AREA}}}x", _num((f.x1 + f.x2) / 2))
        _leaf(area, f"{{{ST_AREA}}}y", _num((f.y1 + f.y2) / 2))
        _leaf(area, f"{{{ST_AREA}}}w", _num(f.x2 - f.x1))
        _leaf(area, f"{{{ST_AREA}}}h", _num(f.y2 - f.y1))
        _leaf(area, f"{{{ST_AREA}}}unit", "normalized")
        _leaf(li, f"{{{MWG_RS}}}Name", f.name)
        _leaf(li, f"{{{MWG_RS}}}Type", "Face")
    bag.extend(keep)
    return regions


def other_mwg_regions(regions: Element) -> list[Element]:
    """The regions of an existing ``mwg-rs:Regions`` that are not faces (kept on rewrite)."""
    out = []
    for li in _items(_fields(regions).get(f"{{{MWG_RS}}}RegionList")):
        kind = _text(_fields(li).get(f"{{{MWG_RS}}}Type")) or "Face"
        if kind.lower() != "face":
            out.append(li)
    return out


def build_mp_regions(faces: tuple[FaceRegion, ...]) -> Element:
    """``MP:RegionInfo`` (Windows Photo Gallery, older readers) for ``faces``."""
    info = Element(f"{{{MP}}}RegionInfo")
    info.set(_PARSE_TYPE, "Resource")
    bag = SubElement(SubElement(info, f"{{{MP_RI}}}Regions"), f"{{{RDF}}}Bag")
    for f in faces:
        li = _resource(bag, f"{{{RDF}}}li")
        rect = ", ".join(_num(v) for v in (f.x1, f.y1, f.x2 - f.x1, f.y2 - f.y1))
        _leaf(li, f"{{{MP_REG}}}Rectangle", rect)
        _leaf(li, f"{{{MP_REG}}}PersonDisplayName", f.name)
    return info
