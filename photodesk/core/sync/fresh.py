"""Make the catalog rows of assets that exist only on the server, a page at a time (bulk inserts).

A first sync of a big account is mostly this: rows, links, field clocks, tags and albums, with no
per-asset round trips through the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import sync_fields as repo
from photodesk.core.catalog.db.tags import ensure_tag, normalize_path
from photodesk.core.sync import fields
from photodesk.core.sync.types import AssetState

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session

_COLUMNS = repo.FRESH_COLUMNS  # all but the id (made here) and the XMP state (none yet)
_DEFAULTS = {"rating": 0, "favorite": False, "archived": False, "has_thumbnail": False}


def _parse_dt(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=None) if text else None
    except ValueError:
        return None


_BLANK: dict[str, Any] = {k: None for k in _COLUMNS}


def _row(
    s: Session,
    owner: int,
    state: AssetState,
    cache: dict[str, int],
    errors: list[str],
    now: datetime,
) -> dict[str, Any]:
    info = state.info
    row = dict(_BLANK)
    row.update(zip(fields.INFO, map(info.get, fields.INFO), strict=True))
    source = info.get("taken_at_source")
    values = state.fields
    for field in fields.SCALAR_FIELDS:
        versioned = values.get(field)
        if versioned is None or versioned[0] is None:
            continue  # blank already
        try:
            row.update(fields.columns(s, field, versioned[0], cache))
        except ValueError as exc:
            errors.append(f"{state.checksum[:12]} {field}: {exc}")
    if source:  # the server's word on where the capture time came from
        row["taken_at_source"] = source
    for k, v in _DEFAULTS.items():
        if row[k] is None:
            row[k] = v
    row.update(
        owner_id=owner,
        checksum=state.checksum,
        kind=info.get("kind") or "photo",
        file_type=info.get("file_type") or "",
        mime=info.get("mime") or "",
        size=int(info.get("size") or 0),
        offline=True,  # the original is on the server until fetched
        created_at=_parse_dt(info.get("created_at")) or now,
        updated_at=now,
    )
    return row


def insert_fresh(
    s: Session, owner: int, states: Sequence[AssetState], cache: dict[str, int], errors: list[str]
) -> dict[int, int]:
    """Insert assets only the server has, with links, clocks, tags, albums: remote -> local id."""
    if not states:
        return {}
    now = datetime.now()
    rows = [_row(s, owner, st, cache, errors, now) for st in states]
    made = repo.insert_assets(s, owner, rows)  # Core executemany: no ORM bookkeeping
    ids = {st.remote_id: int(made[st.checksum]) for st in states}
    repo.insert_rows(
        s,
        links=[
            {"asset_id": ids[st.remote_id], "remote_id": st.remote_id,
             "filename": str(st.info.get("filename") or "")}
            for st in states
        ],
    )  # fmt: skip
    clocks, tags, members = [], [], []
    now = datetime.now()
    for st in states:
        aid = ids[st.remote_id]
        for field, (value, hlc) in st.fields.items():
            if not fields.is_synced(field):
                continue
            if hlc:
                clocks.append({"asset_id": aid, "field": field, "hlc": hlc})
            if value is not True:
                continue
            try:
                if field.startswith(fields.TAG):
                    tags.append({"asset_id": aid, "tag_id": _tag(s, owner, field, cache)})
                elif field.startswith(fields.ALBUM):
                    album = _album(s, owner, field, cache)
                    members.append({"album_id": album, "asset_id": aid, "added_at": now})
            except Exception as exc:  # a bad name (empty tag path): one line, the rest goes on
                errors.append(f"{st.checksum[:12]} {field[:60]}: {exc}")
    repo.insert_rows(s, clocks=clocks, tags=tags, members=members)
    return ids


def _tag(s: Session, owner: int, field: str, cache: dict[str, int]) -> int:
    path = normalize_path(field[len(fields.TAG) :])
    key = f"{owner}/tag:{path}"
    if key not in cache:
        cache[key] = ensure_tag(s, owner, path)
    return cache[key]


def _album(s: Session, owner: int, field: str, cache: dict[str, int]) -> int:
    name = field[len(fields.ALBUM) :].strip()
    if not name:
        raise ValueError("an album needs a name")
    key = f"{owner}/album:{name}"
    if key not in cache:
        found = repo.album_id(s, owner, name)
        if found is None:
            found = repo.make_album(s, owner, name, datetime.now()).id
        cache[key] = int(found)
    return cache[key]
