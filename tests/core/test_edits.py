"""Metadata edits (text, capture time, location), face boxes, place search and display decoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from photodesk.core import AssetQuery, Changes, InvalidInput, Library, NotFound
from photodesk.core.catalog.errors import CorruptFile
from photodesk.core.media.render import render_file
from photodesk.core.organize.edits import EditService, FaceBox, parse_coordinates
from tests.conftest import make_jpeg, make_video


@pytest.fixture
def photos(library: Library, tmp_path: Path) -> list[int]:
    make_jpeg(tmp_path / "in" / "a.jpg", seed=1, when="2023:07:04 10:15:00", offset="+02:00")
    make_jpeg(tmp_path / "in" / "b.jpg", seed=2, gps=(48.8584, 2.2945))
    library.importer.import_paths([tmp_path / "in"], workers=1)
    return sorted(int(i) for i in library.assets.ids())


@pytest.fixture
def edits(library: Library) -> EditService:
    return library.edits


def _events(library: Library) -> list[object]:
    seen: list[object] = []
    library.events.subscribe(seen.append)
    return seen


def test_description_and_title_are_set_trimmed_and_cleared(
    library: Library, edits: EditService, photos: list[int]
) -> None:
    seen = _events(library)
    edits.set_description(photos, "  Dinner on the terrace\nwith friends  ")
    edits.set_title([photos[0]], "  Summer \n evening ")
    a, b = library.assets.get(photos[0]), library.assets.get(photos[1])
    assert a.description == b.description == "Dinner on the terrace\nwith friends"
    assert a.title == "Summer evening"
    assert Changes(assets=frozenset(photos)) in seen
    edits.set_description([photos[0]], "   ")
    edits.set_title([photos[0]], None)
    a = library.assets.get(photos[0])
    assert a.description is None
    assert a.title is None


def test_edits_refuse_unknown_assets(edits: EditService, photos: list[int]) -> None:
    with pytest.raises(NotFound):
        edits.set_description([photos[0], 9999], "x")
    with pytest.raises(NotFound):
        edits.faces(9999)


def test_capture_time_correction_keeps_the_zone_and_moves_the_month(
    library: Library, edits: EditService, photos: list[int]
) -> None:
    edits.set_taken_at([photos[0]], datetime(2021, 12, 31, 23, 30, 15, 500), -300)
    rec = library.assets.get(photos[0])
    assert rec.taken_at == datetime(2021, 12, 31, 23, 30, 15)
    assert rec.taken_offset == -300
    assert rec.taken_at_source == "user"
    assert rec.taken_at_iso() == "2021-12-31T23:30:15-05:00"
    december = AssetQuery(taken_from=datetime(2021, 12, 1), taken_to=datetime(2022, 1, 1))
    assert [int(i) for i in library.assets.ids(december)] == [photos[0]]


def test_an_aware_time_brings_its_own_offset(
    library: Library, edits: EditService, photos: list[int]
) -> None:
    tokyo = timezone(timedelta(hours=9))
    edits.set_taken_at([photos[1]], datetime(2019, 4, 1, 8, 0, tzinfo=tokyo))
    rec = library.assets.get(photos[1])
    assert (rec.taken_at, rec.taken_offset) == (datetime(2019, 4, 1, 8, 0), 540)
    edits.set_taken_at([photos[1]], datetime(2019, 4, 1, 8, 0, tzinfo=UTC), None)
    assert library.assets.get(photos[1]).taken_offset == 0
    edits.set_taken_at([photos[1]], datetime(2019, 4, 1, 8, 0), None)
    assert library.assets.get(photos[1]).taken_offset is None


@pytest.mark.parametrize(
    ("when", "offset"),
    [(datetime(2020, 1, 1), 15 * 60), (datetime(2020, 1, 1), -13 * 60), (datetime(1200, 1, 1), 0)],
)
def test_implausible_times_are_refused(
    edits: EditService, photos: list[int], when: datetime, offset: int
) -> None:
    with pytest.raises(InvalidInput):
        edits.set_taken_at(photos, when, offset)


def test_a_location_is_set_with_its_place_name_and_cleared(
    library: Library, edits: EditService, photos: list[int]
) -> None:
    edits.set_location([photos[0]], 43.7696, 11.2558)  # Florence
    rec = library.assets.get(photos[0])
    assert (rec.latitude, rec.longitude) == (43.7696, 11.2558)
    assert rec.country == "IT"
    assert rec.city == "Florence"
    assert [int(i) for i in library.assets.ids(AssetQuery(country="IT"))] == [photos[0]]
    edits.set_location([photos[1]], 43.77, 11.25)  # the same place row is reused
    assert library.assets.stats().with_gps == 2
    edits.set_location([photos[0]], None, None)
    rec = library.assets.get(photos[0])
    assert (rec.latitude, rec.longitude, rec.altitude, rec.city) == (None, None, None, None)


def test_a_point_at_sea_has_coordinates_but_no_place(
    library: Library, edits: EditService, photos: list[int]
) -> None:
    edits.set_location([photos[1]], -30.0, -140.0)  # the South Pacific
    rec = library.assets.get(photos[1])
    assert (rec.latitude, rec.longitude) == (-30.0, -140.0)
    assert rec.city is None
    assert rec.country is None


@pytest.mark.parametrize(
    ("lat", "lon"), [(91, 0), (0, 181), (float("nan"), 0), (0, float("inf")), (10, None)]
)
def test_bad_coordinates_are_refused(
    edits: EditService, photos: list[int], lat: float, lon: float | None
) -> None:
    with pytest.raises(InvalidInput):
        edits.set_location(photos, lat, lon)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48.8584, 2.2945", (48.8584, 2.2945)),
        ("48.8584 2.2945", (48.8584, 2.2945)),
        ("-33.86;151.21", (-33.86, 151.21)),
        ("48.8584 N 2.2945 E", (48.8584, 2.2945)),
        ("33.86 S, 151.21 E", (-33.86, 151.21)),
        ("48°51'30\"N 2°17'40\"E", (48.8583333, 2.2944444)),
        ("N 40 26 46, W 79 58 56", (40.4461111, -79.9822222)),
        ("Paris", None),
        ("Rue 12, 75", None),
        ("12", None),
        ("48 E 2 N", None),
    ],
)
def test_coordinates_are_read_in_the_usual_notations(
    text: str, expected: tuple[float, float] | None
) -> None:
    assert parse_coordinates(text) == expected


def test_out_of_range_coordinates_are_an_error_not_a_place() -> None:
    with pytest.raises(InvalidInput, match="latitude"):
        parse_coordinates("95.1, 3")


def test_places_are_found_by_name_known_ones_first(
    library: Library, edits: EditService, photos: list[int]
) -> None:
    found = edits.find_places("pari", 50)
    assert any(p.city == "Paris" and p.country_code == "FR" for p in found)
    texas = edits.find_places("Paris, texas")
    assert texas
    assert all(p.admin1 == "Texas" for p in texas)
    assert edits.find_places("  ") == []
    # photos[1] was imported at the Eiffel Tower: the catalog's Paris comes before any other.
    assert edits.find_places("paris")[0].country_code == "FR"
    assert edits.find_places("zürich")[0].city == "Zurich"


def test_faces_come_back_as_boxes_with_names(
    library: Library, edits: EditService, photos: list[int]
) -> None:
    from photodesk.core.catalog.db.schema import Face, Person

    with library.write() as s:
        ada = Person(owner_id=library.owner_id, name="Ada", created_at=datetime.now())
        s.add(ada)
        s.flush()
        s.add(Face(asset_id=photos[0], person_id=ada.id, x1=0.6, y1=0.1, x2=0.8, y2=0.4))
        s.add(Face(asset_id=photos[0], person_id=None, x1=0.1, y1=0.2, x2=0.3, y2=1.2))
    boxes = edits.faces(photos[0])
    assert [b.name for b in boxes] == [None, "Ada"]  # left to right
    assert boxes[0] == FaceBox(boxes[0].face_id, 0.1, 0.2, 0.3, 1.0, 0.0, None, None)
    assert edits.faces(photos[1]) == []
    assert library.assets.get(photos[0]).people == ("Ada",)


def test_render_gives_upright_rgb_at_most_the_size_asked(library: Library, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "r" / "side.jpg", size=(300, 200), orientation=6, seed=5)
    library.importer.import_paths([tmp_path / "r"], workers=1)
    (aid,) = library.assets.ids()
    full = library.assets.render(aid)
    assert (full.width, full.height) == (200, 300)  # turned upright
    assert len(full.data) == full.stride * full.height == 200 * 300 * 3
    small = library.assets.render(aid, 120)
    assert (small.width, small.height) == (80, 120)
    with pytest.raises(NotFound):
        library.assets.render(12345)


def test_render_decodes_a_video_frame_and_refuses_a_broken_file(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", size=(160, 120))
    frame = render_file(video, "MP4", "video", None)
    assert (frame.width, frame.height, frame.source) == (160, 120, "video-frame")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    with pytest.raises(CorruptFile):
        render_file(broken, "JPEG", "photo", None)


def test_render_reads_the_corpus_formats(corpus: Path) -> None:
    for name, file_type, kind in [
        ("ianare__gps_DSCN0012.jpg", "JPEG", "photo"),
        ("ianare__heic_IMG_5195.HEIC", "HEIC", "photo"),
        ("photoprism__canon_eos_6d.dng", "DNG", "raw"),
    ]:
        out = render_file(corpus / name, file_type, kind, None, 640)
        assert max(out.width, out.height) == 640, name
        assert len(out.data) == out.width * out.height * 3
