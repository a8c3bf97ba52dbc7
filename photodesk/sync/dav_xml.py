"""WebDAV XML: request bodies parsed with defusedxml, multistatus answers and live properties."""

from __future__ import annotations

import mimetypes
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import quote

from aiohttp import web
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from photodesk.core import DAV_INFINITY as INFINITY
from photodesk.core import DavItem, DavLock
from photodesk.sync.views import http_error

DAV = "DAV:"
PREFIX = "/dav"
MAX_XML_BYTES = 1024 * 1024
ET.register_namespace("D", DAV)

# Properties the server computes; clients may read but not set them.
LIVE = (
    "resourcetype",
    "getcontentlength",
    "getlastmodified",
    "creationdate",
    "getetag",
    "getcontenttype",
    "displayname",
    "supportedlock",
    "lockdiscovery",
)
QUOTA = (f"{{{DAV}}}quota-used-bytes", f"{{{DAV}}}quota-available-bytes")  # RFC 4331
LIVE_NAMES = frozenset(f"{{{DAV}}}{n}" for n in LIVE) | frozenset(QUOTA)


def d(name: str) -> str:
    return f"{{{DAV}}}{name}"


def href(path: str, is_dir: bool) -> str:
    """The URL path of a space path: ``/dav/a%20b/`` for a folder."""
    url = PREFIX + "/" + quote(path, safe="/~!$&'()*+,;=:@")
    if is_dir and not url.endswith("/"):
        url += "/"
    return url


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def iso_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def content_type(item: DavItem) -> str:
    return item.content_type or mimetypes.guess_type(item.name)[0] or "application/octet-stream"


async def read_xml(request: web.Request) -> ET.Element | None:
    """The request's XML body (None when empty); 400 if it is not well-formed XML."""
    if request.content_length is not None and request.content_length > MAX_XML_BYTES:
        raise http_error(413, "the XML body is too large")
    data = bytearray()
    while chunk := await request.content.read(65536):
        data += chunk
        if len(data) > MAX_XML_BYTES:
            raise http_error(413, "the XML body is too large")
    if not data.strip():
        return None
    try:
        return fromstring(bytes(data))
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise http_error(400, f"the body is not well-formed XML: {exc}") from None


@dataclass(frozen=True)
class PropFind:
    mode: str  # allprop | propname | prop
    names: tuple[str, ...] = ()  # for prop (and allprop's include)


def parse_propfind(root: ET.Element | None) -> PropFind:
    if root is None:
        return PropFind("allprop")
    if root.tag != d("propfind"):
        raise http_error(400, "expected a DAV:propfind body")
    for child in root:
        if child.tag == d("allprop"):
            include = root.find(d("include"))
            extra = tuple(e.tag for e in include) if include is not None else ()
            return PropFind("allprop", extra)
        if child.tag == d("propname"):
            return PropFind("propname")
        if child.tag == d("prop"):
            return PropFind("prop", tuple(e.tag for e in child))
    raise http_error(400, "a DAV:propfind needs allprop, propname or prop")


def parse_proppatch(root: ET.Element | None) -> list[tuple[str, ET.Element | None]]:
    """(property name, element to set or None to remove), in document order."""
    if root is None or root.tag != d("propertyupdate"):
        raise http_error(400, "expected a DAV:propertyupdate body")
    changes: list[tuple[str, ET.Element | None]] = []
    for action in root:
        if action.tag not in (d("set"), d("remove")):
            continue
        for prop in action.findall(d("prop")):
            for elem in prop:
                changes.append((elem.tag, elem if action.tag == d("set") else None))
    return changes


def lock_elements(locks: Iterable[DavLock], parent: ET.Element) -> None:
    """<D:activelock> for each lock, under ``parent`` (a lockdiscovery)."""
    for lk in locks:
        active = ET.SubElement(parent, d("activelock"))
        ET.SubElement(ET.SubElement(active, d("locktype")), d("write"))
        ET.SubElement(
            ET.SubElement(active, d("lockscope")), d("exclusive" if lk.exclusive else "shared")
        )
        ET.SubElement(active, d("depth")).text = "infinity" if lk.depth == INFINITY else "0"
        if lk.owner_xml:
            active.append(fromstring(lk.owner_xml))
        ET.SubElement(active, d("timeout")).text = f"Second-{lk.seconds_left}"
        ET.SubElement(ET.SubElement(active, d("locktoken")), d("href")).text = lk.token
        ET.SubElement(ET.SubElement(active, d("lockroot")), d("href")).text = href(lk.path, False)


def _supported_lock(parent: ET.Element) -> None:
    for scope in ("exclusive", "shared"):
        entry = ET.SubElement(parent, d("lockentry"))
        ET.SubElement(ET.SubElement(entry, d("lockscope")), d(scope))
        ET.SubElement(ET.SubElement(entry, d("locktype")), d("write"))


def live_value(item: DavItem, name: str, locks: Callable[[], list[DavLock]]) -> ET.Element | None:
    """The live property ``name`` of ``item`` as an element, or None if it has none."""
    elem = ET.Element(name)
    local = name[len(DAV) + 2 :] if name.startswith(f"{{{DAV}}}") else ""
    if local == "resourcetype":
        if item.is_dir:
            ET.SubElement(elem, d("collection"))
    elif local == "getcontentlength" and not item.is_dir:
        elem.text = str(item.size)
    elif local == "getlastmodified":
        elem.text = http_date(item.modified_at)
    elif local == "creationdate":
        elem.text = iso_date(item.created_at)
    elif local == "getetag":
        elem.text = item.etag
    elif local == "getcontenttype" and not item.is_dir:
        elem.text = content_type(item)
    elif local == "displayname" and item.path:
        elem.text = item.name
    elif local == "supportedlock":
        _supported_lock(elem)
    elif local == "lockdiscovery":
        lock_elements(locks(), elem)
    else:
        return None
    return elem


def add_response(
    multistatus: ET.Element,
    item: DavItem,
    query: PropFind,
    locks: Callable[[], list[DavLock]],
    folder_props: dict[str, str] | None = None,
) -> None:
    """One <D:response> with the properties ``query`` asks for, grouped by status;
    ``folder_props`` are extra live values of folders (the quota, only when asked for)."""
    response = ET.SubElement(multistatus, d("response"))
    ET.SubElement(response, d("href")).text = href(item.path, item.is_dir)
    found: list[ET.Element] = []
    missing: list[str] = []
    if query.mode == "propname":
        names = [n for n in LIVE_NAMES if live_value(item, n, list) is not None]
        found = [ET.Element(n) for n in sorted(names)] + [ET.Element(n) for n in item.props]
    else:
        wanted = list(query.names)
        if query.mode == "allprop":
            wanted = [d(n) for n in LIVE] + list(item.props) + wanted
        for name in dict.fromkeys(wanted):
            if name in item.props:
                found.append(fromstring(item.props[name]))
                continue
            value = live_value(item, name, locks)
            if value is None and item.is_dir and name in (folder_props or {}):
                value = ET.Element(name)
                value.text = (folder_props or {})[name]
            if value is not None:
                found.append(value)
            elif query.mode == "prop":
                missing.append(name)
    for status, elems in ((200, found), (404, [ET.Element(n) for n in missing])):
        if elems or (status == 200 and not missing):
            propstat = ET.SubElement(response, d("propstat"))
            prop = ET.SubElement(propstat, d("prop"))
            prop.extend(elems)
            ET.SubElement(propstat, d("status")).text = status_line(status)


def status_line(status: int) -> str:
    return f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"


def xml_response(
    root: ET.Element, *, status: int = 207, headers: dict[str, str] | None = None
) -> web.Response:
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return web.Response(
        body=body,
        status=status,
        content_type="application/xml",
        charset="utf-8",
        headers=headers,
    )


def proppatch_response(
    item: DavItem, results: list[tuple[str, int]]
) -> web.Response:  # one status per property
    multistatus = ET.Element(d("multistatus"))
    response = ET.SubElement(multistatus, d("response"))
    ET.SubElement(response, d("href")).text = href(item.path, item.is_dir)
    by_status: dict[int, list[str]] = {}
    for name, status in results:
        by_status.setdefault(status, []).append(name)
    for status, names in by_status.items():
        propstat = ET.SubElement(response, d("propstat"))
        prop = ET.SubElement(propstat, d("prop"))
        for name in names:
            ET.SubElement(prop, name)
        ET.SubElement(propstat, d("status")).text = status_line(status)
    return xml_response(multistatus)


def error_response(status: int, condition: str | None = None, message: str = "") -> web.Response:
    """A WebDAV error: <D:error> with a precondition element when there is one."""
    root = ET.Element(d("error"))
    if condition:
        ET.SubElement(root, d(condition))
    if message:
        ET.SubElement(root, "{http://photodesk.invalid/ns}message").text = message
    return xml_response(root, status=status)
