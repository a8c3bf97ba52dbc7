"""WebDAV class 2: the ``If`` header, lock checks before writes, LOCK and UNLOCK."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from aiohttp import web

from photodesk.core import DAV_INFINITY as INFINITY
from photodesk.core import DavLock, DavSpace, Locked, NotFound, norm_path
from photodesk.sync.dav_xml import PREFIX, d, lock_elements, read_xml, xml_response
from photodesk.sync.views import http_error

_TOKEN = re.compile(r"\s*(<[^>]*>|\(|\)|\[[^\]]*\]|Not\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    negate: bool
    kind: str  # token | etag
    value: str


@dataclass(frozen=True)
class IfList:
    path: str | None  # the tagged resource, or None for the request's own
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class IfHeader:
    lists: tuple[IfList, ...]

    @property
    def tokens(self) -> set[str]:
        """Every lock token the client submitted (they allow writes under those locks)."""
        return {c.value for lst in self.lists for c in lst.conditions if c.kind == "token"}


def space_path(url: str) -> str | None:
    """The space path of a URL (absolute or a path) under /dav/, else None."""
    path = unquote(urlsplit(url).path)
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return None
    return norm_path(path[len(PREFIX) :])


def parse_if(text: str | None) -> IfHeader | None:
    """Parse RFC 4918's ``If`` header; 400 when it is malformed."""
    if not text:
        return None
    lists: list[IfList] = []
    tag: str | None = None
    pos, current, negate = 0, None, False
    conditions: list[Condition] = []
    bad = http_error(400, "malformed If header")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise bad
            break
        tok, pos = m.group(1), m.end()
        if tok == "(":
            if current is not None:
                raise bad
            current, conditions = tok, []
        elif tok == ")":
            if current is None or not conditions:
                raise bad
            lists.append(IfList(tag, tuple(conditions)))
            current = None
        elif tok.lower() == "not":
            if current is None or negate:
                raise bad
            negate = True
        elif tok.startswith("<"):
            if current is None:
                tag = space_path(tok[1:-1])
                if tag is None:
                    tag = "\x00elsewhere"  # a resource outside this space: never matches
            else:
                conditions.append(Condition(negate, "token", tok[1:-1].strip()))
                negate = False
        elif tok.startswith("["):
            if current is None:
                raise bad
            conditions.append(Condition(negate, "etag", tok[1:-1].strip()))
            negate = False
    if current is not None or not lists:
        raise bad
    return IfHeader(tuple(lists))


def _etag(value: str) -> str:
    return value[2:] if value.startswith("W/") else value


def evaluate(space: DavSpace, owner_id: int, request_path: str, header: IfHeader) -> bool:
    """Whether any list of the header holds (runs on a worker thread: it reads the catalog)."""
    for lst in header.lists:
        path = request_path if lst.path is None else lst.path
        item = space.stat(owner_id, path) if path != "\x00elsewhere" else None
        ok = True
        for c in lst.conditions:
            if c.kind == "token":
                lk = space.locks.get(owner_id, c.value)
                holds = lk is not None and lk.covers(path)
            else:
                holds = item is not None and _etag(item.etag) == _etag(c.value)
            if holds == c.negate:
                ok = False
                break
        if ok:
            return True
    return False


async def check_write(
    request: web.Request,
    space: DavSpace,
    owner_id: int,
    path: str,
    *,
    deep: bool = False,
    others: tuple[str, ...] = (),
    locks: bool = True,
) -> IfHeader | None:
    """Before a write: 412 if ``If`` fails, 423 if a lock not submitted stands in the way."""
    header = parse_if(request.headers.get("If"))
    if header is not None and not await asyncio.to_thread(evaluate, space, owner_id, path, header):
        raise http_error(412, "the If header's conditions do not hold")
    if not locks:
        return header
    tokens = header.tokens if header else set()
    try:
        space.locks.check(owner_id, path, tokens, deep=deep)
        for other in others:
            space.locks.check(owner_id, other, tokens, deep=True)
    except Locked as exc:
        raise LockedError(exc.path) from None
    return header


class LockedError(Exception):
    """Answered as 423 with DAV:lock-token-submitted (see dav.py)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _timeout(text: str | None) -> int | None:
    for part in (text or "").split(","):
        part = part.strip()
        if part.lower().startswith("second-") and part[7:].isdigit():
            return int(part[7:])
        if part.lower() == "infinite":
            return None
    return None


def _discovery(lock: DavLock, *, status: int, headers: dict[str, str]) -> web.Response:
    prop = ET.Element(d("prop"))
    lock_elements([lock], ET.SubElement(prop, d("lockdiscovery")))
    return xml_response(prop, status=status, headers=headers)


async def lock(request: web.Request, space: DavSpace, owner_id: int, path: str) -> web.Response:
    body = await read_xml(request)
    timeout = _timeout(request.headers.get("Timeout"))
    if body is None:  # a refresh: the token comes in the If header
        header = parse_if(request.headers.get("If"))
        tokens = sorted(header.tokens) if header else []
        for token in tokens:
            try:
                lk = space.locks.refresh(owner_id, path, token, timeout)
            except NotFound:
                continue
            return _discovery(lk, status=200, headers={})
        raise http_error(412, "no lock of this resource was submitted to refresh")
    if body.tag != d("lockinfo"):
        raise http_error(400, "expected a DAV:lockinfo body")
    scope = body.find(d("lockscope"))
    if scope is None or len(scope) != 1 or scope[0].tag not in (d("exclusive"), d("shared")):
        raise http_error(400, "the lockscope must be exclusive or shared")
    kind = body.find(d("locktype"))
    if kind is None or kind.find(d("write")) is None:
        raise http_error(400, "only write locks exist")
    owner = body.find(d("owner"))
    owner_xml = ET.tostring(owner, encoding="unicode") if owner is not None else ""
    depth_text = request.headers.get("Depth", "infinity").strip().lower()
    if depth_text not in ("0", "infinity"):
        raise http_error(400, "a lock's depth is 0 or infinity")
    depth = 0 if depth_text == "0" else INFINITY
    await check_write(request, space, owner_id, path, locks=False)  # conflicts: lock() decides
    exists = await asyncio.to_thread(space.stat, owner_id, path)
    try:
        new = space.locks.lock(
            owner_id,
            path,
            depth=depth,
            exclusive=scope[0].tag == d("exclusive"),
            owner_xml=owner_xml,
            timeout_s=timeout,
        )
    except Locked as exc:
        raise LockedError(exc.path) from None
    created = False
    if exists is None:  # locking an unmapped name creates an empty file (RFC 4918 7.3)
        try:
            await asyncio.to_thread(space.touch, owner_id, path)
        except BaseException:
            space.locks.unlock(owner_id, path, new.token)
            raise
        created = True
    return _discovery(new, status=201 if created else 200, headers={"Lock-Token": f"<{new.token}>"})


async def unlock(request: web.Request, space: DavSpace, owner_id: int, path: str) -> web.Response:
    token = request.headers.get("Lock-Token", "").strip()
    if not (token.startswith("<") and token.endswith(">")):
        raise http_error(400, "UNLOCK needs a Lock-Token header: <token>")
    try:
        space.locks.unlock(owner_id, path, token[1:-1])
    except NotFound:
        raise http_error(409, "this lock token does not lock this resource") from None
    return web.Response(status=204)
