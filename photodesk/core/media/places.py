"""Offline reverse geocoding: coordinates to the nearest city, region and country."""

from __future__ import annotations

import contextlib
import io
import math
import threading
from functools import cache
from importlib import resources
from typing import Any

from photodesk.core.catalog.types import PlaceName

# Beyond this distance from the nearest known populated place, a point gets no place name
# (open sea, the poles, bogus 0,0 fixes): a wrong city is worse than none.
MAX_DISTANCE_KM = 100.0

_lock = threading.Lock()


@cache
def country_names() -> dict[str, str]:
    text = resources.files("photodesk.core.media.data").joinpath("countries.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {code: name for code, name in rows}


@cache
def _geocoder() -> Any:
    import reverse_geocoder

    # The library prints a banner while it loads its city table; keep stdout clean for --json.
    with contextlib.redirect_stdout(io.StringIO()):
        geo = reverse_geocoder.RGeocoder(mode=1, verbose=False)
    return geo


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def reverse_geocode(points: list[tuple[float, float]]) -> list[PlaceName | None]:
    """Name the nearest populated place of each (lat, lon); ``None`` where nothing is near."""
    if not points:
        return []
    with _lock:
        geo = _geocoder()
        with contextlib.redirect_stdout(io.StringIO()):
            found = geo.query(points)
    names = country_names()
    out: list[PlaceName | None] = []
    for (lat, lon), hit in zip(points, found, strict=True):
        plat, plon = float(hit["lat"]), float(hit["lon"])
        if _km(lat, lon, plat, plon) > MAX_DISTANCE_KM:
            out.append(None)
            continue
        code = hit.get("cc", "")
        out.append(
            PlaceName(
                city=hit.get("name", ""),
                admin1=hit.get("admin1", ""),
                admin2=hit.get("admin2", ""),
                country_code=code,
                country=names.get(code, code),
                latitude=plat,
                longitude=plon,
            )
        )
    return out
