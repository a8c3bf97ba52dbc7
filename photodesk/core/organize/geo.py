"""Geo service: photo locations for the map, Web-Mercator clustering by zoom, area selection."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from photodesk.core.catalog.db import geo as repo
from photodesk.core.catalog.types import AssetId, AssetQuery

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

__all__ = [
    "MAX_LAT",
    "TILE_SIZE",
    "Area",
    "Cluster",
    "GeoBounds",
    "GeoPoint",
    "GeoService",
    "MarkerIndex",
    "project",
    "unproject",
]

TILE_SIZE = 256  # the world is TILE_SIZE * 2**zoom pixels wide at a zoom level
MAX_LAT = 85.05112878  # Web Mercator's square world
Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class GeoPoint:
    """One geotagged asset, as the map needs it (newest first in lists)."""

    id: AssetId
    lat: float
    lon: float
    checksum: str
    taken_at: datetime | None


@dataclass(frozen=True)
class GeoBounds:
    """A latitude/longitude box; ``west > east`` means it crosses the antimeridian."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return bool(_in_bounds(self, np.array([lat]), np.array([lon]))[0])


# A selection area: a box, or a polygon as (lat, lon) vertices.
Area = GeoBounds | Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Cluster:
    """Markers drawn as one at a zoom level: ``count`` assets around (lat, lon), newest first."""

    lat: float
    lon: float
    count: int
    ids: tuple[AssetId, ...]
    checksum: str  # of the newest asset: the thumbnail shown for it
    bounds: GeoBounds


def project(lat: float, lon: float) -> tuple[float, float]:
    """Web Mercator: (lat, lon) to world coordinates in [0, 1] (x east, y south)."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    s = math.sin(math.radians(lat))
    y = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    return (lon + 180.0) / 360.0, y


def unproject(x: float, y: float) -> tuple[float, float]:
    """World coordinates back to (lat, lon); x wraps around the world."""
    lon = (x % 1.0) * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))
    return lat, lon


def project_arrays(lat: Array, lon: Array) -> tuple[Array, Array]:
    """Vectorised ``project``."""
    s = np.sin(np.radians(np.clip(lat, -MAX_LAT, MAX_LAT)))
    return (lon + 180.0) / 360.0, 0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)


def _in_bounds(b: GeoBounds, lat: Array, lon: Array) -> Array:
    ok = (lat >= b.south) & (lat <= b.north)
    if b.west <= b.east:
        return ok & (lon >= b.west) & (lon <= b.east)  # type: ignore[no-any-return]
    return ok & ((lon >= b.west) | (lon <= b.east))  # type: ignore[no-any-return]


def _in_polygon(poly: Sequence[tuple[float, float]], lat: Array, lon: Array) -> Array:
    """Even-odd ray casting in plain lat/lon (fine for regions drawn on a map)."""
    inside = np.zeros(lat.shape, dtype=bool)
    n = len(poly)
    for i in range(n):
        (ay, ax), (by, bx) = poly[i], poly[(i + 1) % n]
        if ay == by:
            continue
        crosses = (ay > lat) != (by > lat)
        x_at = ax + (lat - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (lon < x_at)
    return inside


def _mask(area: Area, lat: Array, lon: Array) -> Array:
    if isinstance(area, GeoBounds):
        return _in_bounds(area, lat, lon)
    return _in_polygon(area, lat, lon)


def _bbox(area: Area) -> GeoBounds:
    if isinstance(area, GeoBounds):
        return area
    lats = [p[0] for p in area]
    lons = [p[1] for p in area]
    return GeoBounds(min(lats), min(lons), max(lats), max(lons))


class MarkerIndex:
    """Geotagged points in numpy arrays: cluster them for a zoom, or pick those in an area.

    Immutable once built, so any thread may read it (clusters are computed off the GUI thread).
    """

    def __init__(self, points: Sequence[GeoPoint]) -> None:
        self._init([(p.id, p.lat, p.lon, p.checksum, p.taken_at) for p in points])

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> MarkerIndex:
        """Build from (id, lat, lon, checksum, taken_at) rows without making a GeoPoint each."""
        index = cls.__new__(cls)
        index._init(rows)
        return index

    def _init(self, rows: Sequence[Sequence[Any]]) -> None:
        n = len(rows)
        self._rows = rows
        self._points: list[GeoPoint] | None = None
        self.ids: Array = np.fromiter((r[0] for r in rows), np.int64, n)
        self.lat: Array = np.fromiter((r[1] for r in rows), float, n)
        self.lon: Array = np.fromiter((r[2] for r in rows), float, n)
        self.checksums: list[str] = [r[3] for r in rows]
        self.x, self.y = project_arrays(self.lat, self.lon)
        self._row_of = {int(i): k for k, i in enumerate(self.ids.tolist())}
        self._bounds = self._box()  # here, on the thread that builds the index

    def __len__(self) -> int:
        return len(self._rows)

    def _point(self, k: int) -> GeoPoint:
        i, lat, lon, checksum, taken_at = self._rows[k]
        return GeoPoint(AssetId(i), lat, lon, checksum, taken_at)

    @property
    def points(self) -> list[GeoPoint]:
        """Every point, newest first."""
        if self._points is None:
            self._points = [self._point(k) for k in range(len(self._rows))]
        return self._points

    def get(self, asset_id: int) -> GeoPoint | None:
        k = self._row_of.get(int(asset_id))
        return None if k is None else self._point(k)

    def bounds(self) -> GeoBounds | None:
        """The smallest box around every point (None when there are none).

        It crosses the antimeridian (``west > east``) when that is narrower: photos from Fiji
        and Samoa give a box over the Pacific, not one around the world.
        """
        return self._bounds

    def _box(self) -> GeoBounds | None:
        if not len(self):
            return None
        lons = np.sort(self.lon)
        gaps = np.diff(np.append(lons, lons[0] + 360.0))
        widest = int(np.argmax(gaps))
        west, east = float(lons[0]), float(lons[-1])
        if widest < lons.size - 1 and gaps[widest] > gaps[-1]:
            west, east = float(lons[widest + 1]), float(lons[widest])
        return GeoBounds(float(self.lat.min()), west, float(self.lat.max()), east)

    def ids_in(self, area: Area) -> list[AssetId]:
        """Ids of the points inside a box or polygon, newest first."""
        return [AssetId(i) for i in self.ids[_mask(area, self.lat, self.lon)].tolist()]

    def clusters(
        self, zoom: int, bounds: GeoBounds | None = None, radius_px: float = 40.0
    ) -> list[Cluster]:
        """Group the points (inside ``bounds``) that lie within ``radius_px`` of each other.

        Grid clustering in Web-Mercator pixels at ``zoom``: points fall into square cells of
        ``1.6 * radius_px`` anchored on the world (so panning never reshuffles them), then
        neighbouring cells whose centroids are closer than ``radius_px`` are merged, so that a
        tight group on a cell edge still shows as one marker.
        """
        sel = (
            np.arange(len(self.points))
            if bounds is None
            else np.flatnonzero(_in_bounds(bounds, self.lat, self.lon))
        )
        if sel.size == 0:
            return []
        scale = float(TILE_SIZE * 2**zoom)
        px, py = self.x[sel] * scale, self.y[sel] * scale
        cell = 1.6 * radius_px
        cx = np.floor(px / cell).astype(np.int64)
        cy = np.floor(py / cell).astype(np.int64)
        keys, inv = np.unique((cx << 32) | cy, return_inverse=True)
        inv = inv.reshape(-1)
        counts = np.bincount(inv).astype(float)
        mx = np.bincount(inv, px) / counts
        my = np.bincount(inv, py) / counts
        labels = _merge_cells(keys, mx, my, radius_px)[inv]
        return self._build(sel, labels, px, py, scale)

    def _build(
        self, sel: Array, labels: Array, px: Array, py: Array, scale: float
    ) -> list[Cluster]:
        order = np.argsort(labels, kind="stable")  # members stay newest first
        starts = np.concatenate(([0], np.flatnonzero(np.diff(labels[order])) + 1))
        ends = np.append(starts[1:], order.size)
        counts = ends - starts
        cx = np.add.reduceat(px[order], starts) / counts / scale
        cy = np.add.reduceat(py[order], starts) / counts / scale
        clat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * cy))))
        clon = (cx % 1.0) * 360.0 - 180.0
        lat, lon = self.lat[sel][order], self.lon[sel][order]
        boxes = zip(
            np.minimum.reduceat(lat, starts).tolist(),
            np.minimum.reduceat(lon, starts).tolist(),
            np.maximum.reduceat(lat, starts).tolist(),
            np.maximum.reduceat(lon, starts).tolist(),
            strict=True,
        )
        first = sel[order][starts].tolist()
        ids = self.ids[sel][order].tolist()
        return [
            Cluster(a, o, e - b, tuple(ids[b:e]), self.checksums[f], GeoBounds(*box))
            for a, o, b, e, f, box in zip(
                clat.tolist(),
                clon.tolist(),
                starts.tolist(),
                ends.tolist(),
                first,
                boxes,
                strict=True,
            )
        ]


def _merge_cells(keys: Array, mx: Array, my: Array, radius: float) -> Array:
    """Connected components of cells whose centroids are within ``radius`` of a neighbour's."""
    n = keys.size
    rows: list[Array] = []
    cols: list[Array] = []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        want = keys + (dx << 32) + dy
        j = np.clip(np.searchsorted(keys, want), 0, n - 1)
        hit = (keys[j] == want) & (np.hypot(mx[j] - mx, my[j] - my) < radius)
        rows.append(np.flatnonzero(hit))
        cols.append(j[hit])
    a, b = np.concatenate(rows), np.concatenate(cols)
    if a.size == 0:
        return np.arange(n)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels  # type: ignore[no-any-return]


class GeoService:
    """Where the owner's photos were taken: markers, clusters and area queries for the map."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _rows(self, query: AssetQuery | None) -> Sequence[Any]:
        with self._store.read() as s:
            return repo.points(s, self._store.owner_id, query or AssetQuery())

    def markers(self, query: AssetQuery | None = None) -> list[GeoPoint]:
        """Every geotagged asset matching ``query`` (default: the timeline's), newest first."""
        return [GeoPoint(AssetId(i), lat, lon, c, t) for i, lat, lon, c, t in self._rows(query)]

    def index(self, query: AssetQuery | None = None) -> MarkerIndex:
        """``markers(query)`` ready for clustering and area selection (fast for 100k assets)."""
        return MarkerIndex.from_rows(self._rows(query))

    @staticmethod
    def clusters(
        points: Sequence[GeoPoint] | MarkerIndex,
        zoom: int,
        bounds: GeoBounds | None = None,
        radius_px: float = 40.0,
    ) -> list[Cluster]:
        """Markers as drawn at ``zoom`` (see ``MarkerIndex.clusters``)."""
        index = points if isinstance(points, MarkerIndex) else MarkerIndex(points)
        return index.clusters(zoom, bounds, radius_px)

    def assets_in(self, area: Area, query: AssetQuery | None = None) -> list[AssetId]:
        """Ids of the geotagged assets inside a box or a (lat, lon) polygon, newest first."""
        box = _bbox(area)
        q = query or AssetQuery()
        with self._store.read() as s:
            rows = repo.in_box(s, self._store.owner_id, q, box.south, box.west, box.north, box.east)
        if not rows or isinstance(area, GeoBounds):
            return [AssetId(r[0]) for r in rows]
        lat = np.array([r[1] for r in rows], dtype=float)
        lon = np.array([r[2] for r in rows], dtype=float)
        inside = _in_polygon(area, lat, lon)
        return [AssetId(r[0]) for r, ok in zip(rows, inside.tolist(), strict=True) if ok]
