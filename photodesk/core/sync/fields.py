"""Synced fields of an asset: read them with their clocks, write one, and decide between two.

Scalars (title, rating, trash...) are last-writer-wins by clock; tags and albums are sets kept
element by element (``tag:<path>``, ``album:<name>`` is true or false), so an add on one side and
a remove of another element on the other both survive. Ties (equal clocks, e.g. two values no one
edited) go to a value over none, then to the greater value in canonical JSON, so every side
decides the same way.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.places import place_id_for
from photodesk.core.catalog.db.schema import (
    Album,
    AlbumAsset,
    Asset,
    AssetFile,
    AssetTag,
    Place,
    Tag,
)
from photodesk.core.catalog.db.sync_log import SCALARS, SyncClock
from photodesk.core.catalog.db.tags import ensure_tag, normalize_path
from photodesk.core.media.places import PlaceName
from photodesk.core.sync.types import Versioned

SCALAR_FIELDS = tuple(name for name, _ in SCALARS)
TAG, ALBUM = "tag:", "album:"
INFO = (
    "kind", "file_type", "mime", "size", "width", "height", "orientation", "duration",
    "taken_at_source", "make", "model", "lens", "iso", "f_number", "exposure_time",
    "focal_length", "altitude",
)  # fmt: skip
CHUNK = 900
_PLACE = ("city", "admin1", "admin2", "country_code", "country")


# What an XMP sidecar carries of each synced field (photodesk.core.organize.sidecars.note_edit)
_XMP = {"rating": "rating", "title": "title", "description": "description", "taken": "date",
        "location": "location"}  # fmt: skip


def xmp_name(field: str) -> str | None:
    return "keywords" if field.startswith(TAG) else _XMP.get(field)


def note_sidecars(s: Session, edited: dict[int, set[str]]) -> None:
    """Queue XMP write-backs for synced writes, as the app's own edits do (same transaction)."""
    from photodesk.core.organize.sidecars import note_edit

    if not edited:
        return
    with_files = set(  # an original only on the server has no sidecar here
        s.scalars(select(AssetFile.asset_id).where(AssetFile.asset_id.in_(list(edited))))
    )
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for asset_id, names in edited.items():
        if asset_id not in with_files:
            continue
        wanted = tuple(sorted({n for f in names if (n := xmp_name(f)) is not None}))
        if wanted:
            groups[wanted].append(asset_id)
    for wanted, ids in groups.items():
        note_edit(s, ids, wanted)


def is_synced(field: str) -> bool:
    return field in SCALAR_FIELDS or field.startswith((TAG, ALBUM))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def wins(a: Versioned, b: Versioned) -> bool:
    """Whether ``a`` beats ``b``: the later clock; on a tie a value over none, then the greater."""
    return (a[1], a[0] is not None, _canonical(a[0])) > (b[1], b[0] is not None, _canonical(b[0]))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


_COLUMNS = list(Asset.__table__.c)
_AT = {c.key: i for i, c in enumerate(_COLUMNS)}
_INFO_AT = tuple((k, _AT[k]) for k in INFO)
_ID = _AT["id"]
_PLACE_AT = len(_COLUMNS)  # place_found, then the names in _PLACE
_LOOKUP = select(
    *_COLUMNS,
    Place.id.label("place_found"),
    *(getattr(Place, k).label(f"place_{k}") for k in _PLACE),
).outerjoin(Place, Place.id == Asset.place_id)


def _scalars(r: Any, mine: dict[str, str]) -> dict[str, Versioned]:
    """The scalar fields of an asset row (by position: this runs for every asset of a feed)."""
    at, get = _AT, mine.get
    trashed, taken = r[at["trashed_at"]], r[at["taken_at"]]
    lat, lon = r[at["latitude"]], r[at["longitude"]]
    if lat is None or lon is None:
        location = None
    else:
        p = _PLACE_AT
        place = (
            None if r[p] is None else dict(zip(_PLACE, r[p + 1 : p + 1 + len(_PLACE)], strict=True))
        )
        location = [lat, lon, place]
    return {
        "title": (r[at["title"]], get("title", "")),
        "description": (r[at["description"]], get("description", "")),
        "rating": (r[at["rating"]], get("rating", "")),
        "favorite": (bool(r[at["favorite"]]), get("favorite", "")),
        "archived": (bool(r[at["archived"]]), get("archived", "")),
        "trashed": (_iso(trashed), get("trashed", "")),
        "taken": (
            None
            if taken is None
            else [_iso(taken), r[at["taken_offset"]], r[at["taken_at_source"]]],
            get("taken", ""),
        ),
        "location": (location, get("location", "")),
    }


def refresh_info(asset: Asset, info: dict[str, Any]) -> bool:
    """Bring what a remote-only asset is (dimensions, camera, size) up to the server's word: the
    server reads an upload after the request, so a device can first see the asset before its
    file was read. ``taken_at_source`` travels with ``taken``. True if anything changed."""
    changed = False
    for key in INFO:
        value = info.get(key)
        if key == "taken_at_source" or (value is None and key in _REQUIRED):
            continue
        if getattr(asset, key) != value:
            setattr(asset, key, value)
            changed = True
    return changed


_REQUIRED = frozenset({"kind", "file_type", "mime", "size"})


def info(r: Any, filename: str) -> dict[str, Any]:
    """What an asset is (never edited), from a row as ``read`` returns it (by position)."""
    data = {k: r[i] for k, i in _INFO_AT}
    data["filename"] = filename
    data["created_at"] = _iso(r[_AT["created_at"]])
    return data


def read(s: Session, asset_ids: Sequence[int]) -> dict[int, tuple[Any, str, dict[str, Versioned]]]:
    """For each asset: its row (columns as attributes), its original's file name, and every
    synced field with its clock."""
    out: dict[int, tuple[Any, str, dict[str, Versioned]]] = {}
    conn = s.connection()  # Core statements: no ORM bookkeeping for rows read by the thousand
    for chunk in _chunks(list(asset_ids)):
        clocks: dict[int, dict[str, str]] = defaultdict(dict)
        for aid, field, hlc in conn.execute(
            select(SyncClock.asset_id, SyncClock.field, SyncClock.hlc).where(
                SyncClock.asset_id.in_(chunk)
            )
        ):
            clocks[aid][field] = hlc
        present: dict[int, list[str]] = defaultdict(list)
        for aid, path in conn.execute(
            select(AssetTag.asset_id, Tag.path)
            .join(Tag, Tag.id == AssetTag.tag_id)
            .join(Asset, Asset.id == AssetTag.asset_id)
            .where(AssetTag.asset_id.in_(chunk), Tag.owner_id == Asset.owner_id)
        ):
            present[aid].append(TAG + path)
        for aid, name in conn.execute(
            select(AlbumAsset.asset_id, Album.name)
            .join(Album, Album.id == AlbumAsset.album_id)
            .join(Asset, Asset.id == AlbumAsset.asset_id)
            # the owner's own albums only: one of another account that an editor put the
            # photo in travels with that album (docs/sync.md, "Shared albums")
            .where(AlbumAsset.asset_id.in_(chunk), Album.owner_id == Asset.owner_id)
        ):
            present[aid].append(ALBUM + name)
        names: dict[int, str] = {}
        for aid, path in conn.execute(
            select(AssetFile.asset_id, AssetFile.path)
            .where(AssetFile.asset_id.in_(chunk), AssetFile.role == "original")
            .order_by(AssetFile.id.desc())
        ):
            names[aid] = os.path.basename(path)
        empty: dict[str, str] = {}
        for a in conn.execute(_LOOKUP.where(Asset.id.in_(chunk))):
            aid = a[_ID]
            mine = clocks.get(aid, empty)
            fields = _scalars(a, mine)
            for element in present.get(aid, ()):
                fields[element] = (True, mine.get(element, ""))
            for f, hlc in mine.items():  # clocks of removed elements: false, with the clock
                if f not in fields and f.startswith((TAG, ALBUM)):
                    fields[f] = (False, hlc)
            out[aid] = (a, names.get(aid, ""), fields)
    return out


def _datetime(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"{field} is not an ISO date: {str(value)[:40]!r}") from None


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field} must be a number")
    return float(value)


def _place(s: Session, lat: float, lon: float, where: Any) -> int | None:
    if not isinstance(where, dict):
        return None
    name = PlaceName(
        city=str(where.get("city") or ""),
        admin1=str(where.get("admin1") or ""),
        admin2=str(where.get("admin2") or ""),
        country_code=str(where.get("country_code") or "")[:2],
        country=str(where.get("country") or ""),
        latitude=lat,
        longitude=lon,
    )
    return place_id_for(s, name)


def write(
    s: Session,
    a: Asset,
    field: str,
    value: Any,
    cache: dict[str, int] | None = None,
    *,
    fresh: bool = False,
) -> None:
    """Set one synced field of asset ``a`` (the journal's triggers log the write); ``cache``
    keeps tag and album ids between calls, ``fresh`` says the asset was just made (no tags).

    Raises:
        ValueError: the value does not fit the field (one line, for the sender).
    """
    cache = {} if cache is None else cache
    if field.startswith(TAG):
        _write_tag(s, a, field[len(TAG) :], value, cache, fresh)
    elif field.startswith(ALBUM):
        _write_album(s, a, field[len(ALBUM) :], value, cache, fresh)
    else:
        for column, v in columns(s, field, value, cache).items():
            setattr(a, column, v)
    a.updated_at = datetime.now()


def columns(
    s: Session, field: str, value: Any, cache: dict[str, int] | None = None
) -> dict[str, Any]:
    """The asset columns a scalar field's value sets (checked; a place is found or made).

    Raises:
        ValueError: the value does not fit the field (one line, for the sender).
    """
    if field in ("title", "description"):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{field} must be text or null")
        return {field: value or None}
    if field == "rating":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
            raise ValueError("rating must be 0 to 5")
        return {"rating": value}
    if field in ("favorite", "archived"):
        if not isinstance(value, bool):
            raise ValueError(f"{field} must be true or false")
        return {field: value}
    if field == "trashed":
        return {"trashed_at": _datetime(value, field)}
    if field == "taken":
        return _taken(value)
    if field == "location":
        return _location(s, value, {} if cache is None else cache)
    raise ValueError(f"{field!r} is not a synced field")


def _taken(value: Any) -> dict[str, Any]:
    if value is None:
        return {"taken_at": None, "taken_offset": None, "taken_month": None}
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise ValueError("taken is [ISO local time, UTC offset in minutes or null, source]")
    when = _datetime(value[0], "taken")
    offset = value[1]
    if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int)):
        raise ValueError("taken's offset is minutes east of UTC")
    return {
        "taken_at": when,
        "taken_offset": offset,
        "taken_month": when.year * 100 + when.month if when else None,
        "taken_at_source": _source(value[2] if len(value) == 3 else None),
    }


_SOURCE = re.compile(r"[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)*")


def _source(value: Any) -> str:
    """Where a synced capture time came from (``exif:DateTimeOriginal``, ``mtime``, ``user``):
    it travels with the date so every device can tell a camera's date from a guess. Anything
    that does not look like a source (an old client sends none) counts as the user's word."""
    if isinstance(value, str) and len(value) <= 64 and _SOURCE.fullmatch(value):
        return value
    return "user"


def _location(s: Session, value: Any, cache: dict[str, int]) -> dict[str, Any]:
    if value is None:
        return {"latitude": None, "longitude": None, "altitude": None, "place_id": None}
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise ValueError("location is [latitude, longitude, place or null]")
    lat, lon = _number(value[0], "latitude"), _number(value[1], "longitude")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("location is out of range")
    where = value[2] if len(value) == 3 else None
    key = f"place:{_canonical(where)}"
    if key not in cache:  # a first sync meets the same few places thousands of times
        place = _place(s, lat, lon, where)
        if place is None:
            return {"latitude": lat, "longitude": lon, "place_id": None}
        cache[key] = place
    return {"latitude": lat, "longitude": lon, "place_id": cache[key]}


def _write_tag(
    s: Session, a: Asset, path: str, value: Any, cache: dict[str, int], fresh: bool
) -> None:
    if not isinstance(value, bool):
        raise ValueError("a tag element is true or false")
    path = normalize_path(path)
    if value:
        key = f"{a.owner_id}/tag:{path}"
        if key not in cache:
            cache[key] = ensure_tag(s, a.owner_id, path)
        tag_id = cache[key]
        if fresh or s.get(AssetTag, (a.id, tag_id)) is None:
            s.add(AssetTag(asset_id=a.id, tag_id=tag_id))
        return
    found = s.scalar(select(Tag.id).where(Tag.owner_id == a.owner_id, Tag.path == path))
    if found is not None:
        s.execute(delete(AssetTag).where(AssetTag.asset_id == a.id, AssetTag.tag_id == found))


def _write_album(
    s: Session, a: Asset, name: str, value: Any, cache: dict[str, int], fresh: bool
) -> None:
    if not isinstance(value, bool):
        raise ValueError("an album element is true or false")
    name = name.strip()
    if not name:
        raise ValueError("an album needs a name")
    album = s.scalars(select(Album).where(Album.owner_id == a.owner_id, Album.name == name)).first()
    if not value:
        if album is not None:
            s.execute(
                delete(AlbumAsset).where(
                    AlbumAsset.album_id == album.id, AlbumAsset.asset_id == a.id
                )
            )
        return
    now = datetime.now()
    if album is None:
        album = Album(
            owner_id=a.owner_id, name=name, description="", created_at=now, updated_at=now
        )
        s.add(album)
        s.flush()
    if s.get(AlbumAsset, (album.id, a.id)) is None:
        s.add(AlbumAsset(album_id=album.id, asset_id=a.id, added_at=now))
