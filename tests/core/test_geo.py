"""The geo service: markers from the catalog, clustering by zoom, and area selection."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from photodesk.core import AssetQuery, Library
from photodesk.core.catalog.types import AssetId
from photodesk.core.organize.geo import (
    GeoBounds,
    GeoPoint,
    GeoService,
    MarkerIndex,
    project,
    unproject,
)
from tests.conftest import make_jpeg


def _points(coords: list[tuple[float, float]], start: int = 1) -> list[GeoPoint]:
    when = datetime(2024, 1, 1)
    return [
        GeoPoint(AssetId(start + i), lat, lon, f"{start + i:040x}", when - timedelta(hours=i))
        for i, (lat, lon) in enumerate(coords)
    ]


def _import(
    library: Library, tmp_path: Path, places: dict[str, tuple[float, float] | None]
) -> None:
    for i, (name, gps) in enumerate(places.items()):
        make_jpeg(
            tmp_path / "in" / f"{name}.jpg", gps=gps, seed=i, when=f"2023:07:{10 + i:02d} 10:00:00"
        )
    report = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert report.imported == len(places), report.failed


def test_projection_round_trips_and_clamps_the_poles():
    for lat, lon in [(0, 0), (48.8566, 2.3522), (-33.87, 151.21), (60, -179.9)]:
        x, y = project(lat, lon)
        assert 0 <= x <= 1 and 0 <= y <= 1
        back = unproject(x, y)
        assert back == pytest.approx((lat, lon), abs=1e-9)
    assert project(0, 0) == pytest.approx((0.5, 0.5))
    assert project(90, 0)[1] == pytest.approx(0.0, abs=1e-6)  # clamped to Mercator's square


def test_markers_lists_geotagged_assets_newest_first(library: Library, tmp_path: Path):
    _import(
        library,
        tmp_path,
        {"paris": (48.8566, 2.3522), "none": None, "sydney": (-33.8688, 151.2093)},
    )
    geo = GeoService(library)
    markers = geo.markers()
    assert [(round(m.lat, 3), round(m.lon, 3)) for m in markers] == [
        (-33.869, 151.209),
        (48.857, 2.352),
    ]
    records = {r.id: r for r in library.assets.list()}
    for m in markers:
        assert m.checksum == records[m.id].checksum
        assert m.taken_at == records[m.id].taken_at
    assert len(geo.index()) == 2
    # filters are the library's AssetQuery, e.g. the archive is left out by default
    library.assets.set_archived([markers[0].id], True)
    assert [m.id for m in geo.markers()] == [markers[1].id]
    assert {m.id for m in geo.markers(AssetQuery(archived=None))} == {m.id for m in markers}


def test_a_stack_shows_as_one_marker(library: Library, tmp_path: Path):
    from photodesk.core.catalog.db.schema import Asset, Stack

    _import(library, tmp_path, {"a": (45.0, 7.0), "b": (45.0, 7.0)})
    ids: list[int] = sorted(library.assets.ids())
    with library.write() as s:
        stack = Stack(owner_id=library.owner_id, primary_asset_id=ids[1])
        s.add(stack)
        s.flush()
        for asset in s.query(Asset).where(Asset.id.in_(ids)):
            asset.stack_id = stack.id
    assert [m.id for m in GeoService(library).markers()] == [ids[1]]


def test_close_points_make_one_cluster_at_low_zoom_and_split_at_high_zoom():
    # 12 photos within ~300 m of each other in Arezzo, and one in Sydney
    rng = random.Random(4)
    close = [
        (43.467 + rng.uniform(-0.002, 0.002), 11.882 + rng.uniform(-0.002, 0.002))
        for _ in range(12)
    ]
    index = MarkerIndex(_points([*close, (-33.8688, 151.2093)]))
    for zoom in range(1, 13):
        clusters = index.clusters(zoom)
        counts = sorted(c.count for c in clusters)
        assert counts == [1, 12], (zoom, counts)
        big = max(clusters, key=lambda c: c.count)
        assert set(big.ids) == set(range(1, 13))
        assert big.lat == pytest.approx(43.467, abs=0.003)
        assert big.bounds.contains(big.lat, big.lon)
    high = index.clusters(18)
    assert len(high) >= 10  # 300 m is ~2,000 px at zoom 18: the photos stand apart
    for zoom in (1, 6, 12, 18):
        clusters = index.clusters(zoom)
        assert sum(c.count for c in clusters) == 13
        assert sorted(i for c in clusters for i in c.ids) == list(range(1, 14))


def test_a_group_on_a_grid_edge_is_still_one_cluster():
    # points a few pixels apart around a cell edge at zoom 3 (cells are 64 px, anchored at 0)
    scale = 256 * 2**3
    x_edge = 64 * 40 / scale  # an exact cell boundary in world units
    coords = [unproject(x_edge + dx / scale, 0.4) for dx in (-6, -3, 2, 5)]
    index = MarkerIndex(_points(coords))
    assert [c.count for c in index.clusters(3)] == [4]


def test_cluster_ids_are_newest_first_with_the_newest_thumbnail():
    points = _points([(10.0, 10.0), (10.0001, 10.0001), (10.0002, 10.0)])
    (cluster,) = GeoService.clusters(points, 4)
    assert cluster.ids == (1, 2, 3)
    assert cluster.checksum == points[0].checksum


def test_clusters_inside_bounds_only_and_across_the_antimeridian():
    index = MarkerIndex(_points([(0, 179.5), (0, -179.5), (0, 0), (50, 179.5)]))
    across = GeoBounds(-10, 170, 10, -170)
    assert sorted(i for c in index.clusters(8, across) for i in c.ids) == [1, 2]
    assert index.ids_in(across) == [1, 2]
    assert index.ids_in(GeoBounds(-5, -5, 5, 5)) == [3]
    # the narrowest box around them crosses the antimeridian
    assert index.bounds() == GeoBounds(0, 0, 50, -179.5)
    assert MarkerIndex(_points([(0, -10), (5, 20)])).bounds() == GeoBounds(0, -10, 5, 20)
    assert MarkerIndex(_points([(1, 2)])).bounds() == GeoBounds(1, 2, 1, 2)
    assert MarkerIndex([]).bounds() is None
    assert MarkerIndex([]).clusters(3) == []


def test_assets_in_a_box_or_a_polygon(library: Library, tmp_path: Path):
    _import(
        library,
        tmp_path,
        {
            "paris": (48.8566, 2.3522),
            "lyon": (45.764, 4.8357),
            "london": (51.5074, -0.1278),
            "fiji": (-17.7, 179.9),
            "samoa": (-13.8, -172.1),
        },
    )
    geo = GeoService(library)
    by_city = {r.path.rsplit("/", 1)[-1][:-4]: r.id for r in library.assets.list()}
    france = GeoBounds(43.0, -1.0, 50.0, 7.0)
    assert set(geo.assets_in(france)) == {by_city["paris"], by_city["lyon"]}
    # a triangle that holds Paris and London but not Lyon
    triangle = [(52.0, -1.0), (52.0, 3.0), (47.0, 3.0)]
    assert set(geo.assets_in(triangle)) == {by_city["paris"], by_city["london"]}
    pacific = GeoBounds(-20.0, 175.0, -10.0, -170.0)
    assert set(geo.assets_in(pacific)) == {by_city["fiji"], by_city["samoa"]}
    assert geo.assets_in(GeoBounds(0, 0, 1, 1)) == []
    index = geo.index()
    assert set(index.ids_in(triangle)) == set(geo.assets_in(triangle))


def test_clustering_100k_points_is_fast():
    rng = random.Random(1)
    rows = [(i, rng.gauss(45, 8), rng.gauss(5, 15), f"{i:040x}", None) for i in range(1, 100_001)]
    start = time.perf_counter()
    index = MarkerIndex.from_rows(rows)
    built = time.perf_counter() - start
    world = index.clusters(4)
    start = time.perf_counter()
    world = index.clusters(5)
    view = index.clusters(14, GeoBounds(44.0, 4.0, 45.0, 6.0))
    took = time.perf_counter() - start
    assert sum(c.count for c in world) == 100_000
    assert 0 < len(view) < 2000
    assert built < 2.0 and took < 2.0, (built, took)
    assert index.get(5) == GeoPoint(AssetId(5), rows[4][1], rows[4][2], rows[4][3], None)
