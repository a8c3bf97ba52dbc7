"""Synced fields of an asset: read them with their clocks, write one, and decide between two.

Scalars (title, rating, trash...) are last-writer-wins by clock; tags and albums are sets kept
element by element (``tag:<path>``, ``album:<name>`` is true or false), so an add on one side and
a remove of another element on the other both survive. Ties (equal clocks, e.g. two values no one
edited) go to a value over none, then to a date read from the file over an upload's guess, then
to the greater value in canonical JSON, so every side decides the same way.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import sync_fields as repo
from photodesk.core.catalog.db.places import place_id_for
from photodesk.core.catalog.db.sync_log import SCALARS
from photodesk.core.catalog.db.tags import ensure_tag, normalize_path
from photodesk.core.ingest.admission import PROVISIONAL_DATE
from photodesk.core.media.places import PlaceName
from photodesk.core.sync.types import Versioned

if TYPE_CHECKING:
    from photodesk.core.catalog.db.schema import Asset
    from photodesk.core.catalog.store import Session

SCALAR_FIELDS = tuple(name for name, _ in SCALARS)
TAG, ALBUM = "tag:", "album:"
INFO = (
    "kind", "file_type", "mime", "size", "width", "height", "orientation", "duration",
    "taken_at_source", "make", "model", "lens", "iso", "f_number", "exposure_time",
    "focal_length", "altitude",
)  # fmt: skip
_PLACE = repo.PLACE_NAMES


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
    with_files = repo.with_files(s, list(edited))  # an original only on the server: no sidecar
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


def _read(value: Any) -> bool:
    """False for an upload's guessed date (``taken`` from the client's file time, source
    ``upload``, until the server reads the file); True for every other value."""
    return not (type(value) is list and len(value) == 3 and value[2] == PROVISIONAL_DATE)


def wins(a: Versioned, b: Versioned) -> bool:
    """Whether ``a`` beats ``b``: the later clock; on a tie a value over none, then a date read
    from the file over an upload's guess, then the greater."""
    return (a[1], a[0] is not None, _read(a[0]), _canonical(a[0])) > (
        b[1], b[0] is not None, _read(b[0]), _canonical(b[0])
    )  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


_AT = repo.AT
_INFO_AT = tuple((k, _AT[k]) for k in INFO)
_ID = _AT["id"]
_PLACE_AT = repo.PLACE_AT  # place_found, then the names in _PLACE


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
    for chunk in repo.read(s, asset_ids):
        clocks, tags, albums, names = chunk.clocks, chunk.tags, chunk.albums, chunk.names
        empty: dict[str, str] = {}
        nothing: list[str] = []
        for a in chunk.rows:
            aid = a[_ID]
            mine = clocks.get(aid, empty)
            fields = _scalars(a, mine)
            for path in tags.get(aid, nothing):
                element = TAG + path
                fields[element] = (True, mine.get(element, ""))
            for name in albums.get(aid, nothing):
                element = ALBUM + name
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
        repo.tag(s, a.id, cache[key], fresh=fresh)
        return
    repo.untag(s, a.owner_id, a.id, path)


def _write_album(
    s: Session, a: Asset, name: str, value: Any, cache: dict[str, int], fresh: bool
) -> None:
    if not isinstance(value, bool):
        raise ValueError("an album element is true or false")
    name = name.strip()
    if not name:
        raise ValueError("an album needs a name")
    album = repo.album(s, a.owner_id, name)
    if not value:
        if album is not None:
            repo.remove_member(s, album.id, a.id)
        return
    now = datetime.now()
    if album is None:
        album = repo.make_album(s, a.owner_id, name, now)
    repo.add_member(s, album.id, a.id, now)
