"""Offline basemap: Natural Earth GeoJSON as Web-Mercator painter paths in world units."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPolygonF

from photodesk.core import project_arrays

BASEMAP_DIR = Path(__file__).resolve().parent.parent / "resources" / "basemap"
FINE_FROM_ZOOM = 3  # 1:110m land up to level 2, 1:50m from level 3
GRID = 16  # features are merged per cell of a GRID x GRID division of the world
_shared: Basemap | None = None
_shared_lock = threading.Lock()


class Layer:
    """One kind of feature as paths in world units (0..1), merged per cell of a grid.

    One path per cell of a 16 x 16 division of the world: painting makes a hundred Qt calls,
    not thousands (each may wait for the GIL while a worker runs Python). The painter scales
    them to the zoom level, so nothing is rebuilt on the GUI thread when the zoom changes.
    Paths are plain values: the worker thread that loads the files builds them.
    """

    def __init__(self, paths: list[QPainterPath]) -> None:
        cells: dict[tuple[int, int], QPainterPath] = {}
        for path in paths:
            centre = path.boundingRect().center()
            key = (int(centre.x() * GRID), int(centre.y() * GRID))
            cells.setdefault(key, QPainterPath()).addPath(path)
        self.features = len(paths)
        self.cells: list[tuple[QRectF, QPainterPath]] = [
            (p.boundingRect(), p) for p in cells.values()
        ]

    def __len__(self) -> int:
        return self.features


class Basemap:
    """Land, lakes and country borders, ready to paint."""

    def __init__(self, land_low: Layer, land_high: Layer, lakes: Layer, borders: Layer) -> None:
        self.land_low = land_low
        self.land_high = land_high
        self.lakes = lakes
        self.borders = borders

    def land(self, zoom: int) -> Layer:
        return self.land_high if zoom >= FINE_FROM_ZOOM else self.land_low

    @classmethod
    def shared(cls) -> Basemap:
        """The packaged basemap, loaded once per process (call it off the GUI thread)."""
        global _shared
        with _shared_lock:
            if _shared is None:
                _shared = cls.load()
            return _shared

    @classmethod
    def load(cls, directory: Path = BASEMAP_DIR) -> Basemap:
        """Read and project the GeoJSON files (slow-ish: call it off the GUI thread)."""
        return cls(
            Layer(_polygons(directory / "ne_110m_land.json")),
            Layer(_polygons(directory / "ne_50m_land.json")),
            Layer(_polygons(directory / "ne_50m_lakes.json")),
            Layer(_borders(directory / "ne_110m_admin_0_countries.json")),
        )


def _read(path: Path) -> list[dict[str, Any]]:
    """The features of a GeoJSON file, parsed one line at a time where the file allows it.

    Natural Earth's files hold one feature per line; parsing them one by one keeps each
    ``json.loads`` short, so this worker never holds the GIL long enough to stall the GUI.
    """
    text = path.read_text(encoding="utf-8")
    features = []
    for line in text.splitlines():
        line = line.strip().rstrip(",")
        if line.startswith("{") and '"Feature"' in line[:40]:
            features.append(json.loads(line))
    return features or json.loads(text)["features"]  # type: ignore[no-any-return]


def _rings(geometry: dict[str, Any]) -> Iterator[list[list[float]]]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    elif geometry["type"] != "MultiPolygon":
        return
    for polygon in polygons:
        yield from polygon


def _polyline(coords: list[list[float]] | list[tuple[float, float]]) -> QPolygonF:
    a = np.asarray(coords, dtype=float)[:, :2]
    x, y = project_arrays(a[:, 1], a[:, 0])
    return QPolygonF([QPointF(u, v) for u, v in zip(x.tolist(), y.tolist(), strict=True)])


def _polygons(path: Path) -> list[QPainterPath]:
    """One path per feature; rings are closed subpaths, so holes come out with odd-even fill."""
    out = []
    for feature in _read(path):
        p = QPainterPath()
        for ring in _rings(feature["geometry"]):
            if len(ring) >= 3:
                p.addPolygon(_polyline(ring))
                p.closeSubpath()
        if not p.isEmpty():
            out.append(p)
    return out


def _borders(path: Path) -> list[QPainterPath]:
    """Land borders: the edges two country polygons share (the coastline is left to the land)."""
    countries = [list(_rings(f["geometry"])) for f in _read(path)]
    seen: Counter[frozenset[tuple[float, float]]] = Counter()
    for rings in countries:
        for ring in rings:
            for a, b in pairwise(ring):
                seen[frozenset(((a[0], a[1]), (b[0], b[1])))] += 1
    taken: set[frozenset[tuple[float, float]]] = set()
    out = []
    for rings in countries:
        p = QPainterPath()
        for ring in rings:
            line: list[tuple[float, float]] = []
            for a, b in pairwise(ring):
                edge = frozenset(((a[0], a[1]), (b[0], b[1])))
                if seen[edge] > 1 and edge not in taken:
                    taken.add(edge)
                    if not line:
                        line.append((a[0], a[1]))
                    line.append((b[0], b[1]))
                    continue
                if len(line) > 1:
                    p.addPolygon(_polyline(line))
                line = []
            if len(line) > 1:
                p.addPolygon(_polyline(line))
        if not p.isEmpty():
            out.append(p)
    return out
