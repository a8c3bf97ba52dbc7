"""Make the catalog rows of assets that exist only on the server, a page at a time (bulk inserts).

A first sync of a big account is mostly this: rows, links, field clocks, tags and albums, with no
per-asset round trips through the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Album, AlbumAsset, Asset, AssetTag
from photodesk.core.catalog.db.sync_log import SyncClock, SyncRemote
from photodesk.core.catalog.db.tags import ensure_tag, normalize_path
from photodesk.core.sync import fields
from photodesk.core.sync.types import AssetState

# left out: the id (made here) and the XMP state (none yet: SQL NULL, not JSON null)
_COLUMNS = [c.key for c in Asset.__table__.columns if c.key not in ("id", "xmp_state")]
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
    conn = s.connection()  # Core executemany: no ORM bookkeeping for a thousand rows a page
    conn.execute(insert(Asset), rows)
    made: dict[str, int] = {}
    for k in range(0, len(states), 900):
        made.update(
            conn.execute(
                select(Asset.checksum, Asset.id).where(
                    Asset.owner_id == owner,
                    Asset.checksum.in_([st.checksum for st in states[k : k + 900]]),
                )
            ).all()
        )
    ids = {st.remote_id: int(made[st.checksum]) for st in states}
    conn.execute(
        insert(SyncRemote),
        [
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
    for table, values in ((SyncClock, clocks), (AssetTag, tags), (AlbumAsset, members)):
        if values:
            conn.execute(insert(table), values)
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
        found = s.scalar(select(Album.id).where(Album.owner_id == owner, Album.name == name))
        if found is None:
            now = datetime.now()
            album = Album(owner_id=owner, name=name, description="", created_at=now, updated_at=now)
            s.add(album)
            s.flush()
            found = album.id
        cache[key] = int(found)
    return cache[key]
