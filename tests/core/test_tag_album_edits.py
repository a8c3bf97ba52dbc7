"""Editing the tag tree (rename, move, merge) and albums (cover, sort, their photos in order)."""

from __future__ import annotations

from pathlib import Path

import pytest

from photodesk.core import Conflict, InvalidInput, Library, NotFound
from photodesk.core.catalog.types import AssetQuery
from tests.conftest import make_jpeg


@pytest.fixture
def ids(library: Library, tmp_path: Path) -> list[int]:
    for i, when in enumerate(["2021:01:01 10:00:00", "2023:01:01 10:00:00", "2022:01:01 10:00:00"]):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i, when=when)
    library.importer.import_paths([tmp_path / "in"], workers=1)
    by_name = {Path(a.path).name: int(a.id) for a in library.assets.list()}
    return [by_name["p0.jpg"], by_name["p1.jpg"], by_name["p2.jpg"]]


def paths(lib: Library) -> list[str]:
    return [t.path for t in lib.tags.tree()]


def tagged(lib: Library, path: str) -> set[int]:
    return set(lib.assets.ids(AssetQuery(tag=path)))


def test_rename_a_tag_and_everything_below_it(library: Library, ids: list[int]):
    library.tags.add([ids[0]], "Pets/Dog/Puppy")
    library.tags.add([ids[1]], "Pets/Cat")
    seen: list[object] = []
    library.events.subscribe(seen.append)
    assert library.tags.rename("Pets", "Animals") == "Animals"
    assert paths(library) == ["Animals", "Animals/Cat", "Animals/Dog", "Animals/Dog/Puppy"]
    assert {t.path: t.name for t in library.tags.tree()}["Animals"] == "Animals"
    assert tagged(library, "Animals/Dog") == {ids[0]}
    assert library.assets.get(ids[0]).tags == ("Animals/Dog/Puppy",)
    assert any(getattr(e, "tags", False) for e in seen)
    assert library.tags.rename("Animals/Dog", "Dogs") == "Animals/Dogs"
    assert library.tags.rename("Animals/Dogs", "dogs") == "Animals/dogs"  # case only
    with pytest.raises(Conflict):
        library.tags.rename("Animals/dogs", "Cat")
    with pytest.raises(InvalidInput):
        library.tags.rename("Animals/Cat", "a/b")
    with pytest.raises(InvalidInput):
        library.tags.rename("Animals/Cat", "  ")
    with pytest.raises(NotFound):
        library.tags.rename("Nope", "Yes")


def test_move_re_parents_a_tag_with_its_children(library: Library, ids: list[int]):
    library.tags.add([ids[0]], "Trips/Paris/Louvre")
    library.tags.add([ids[1]], "Places")
    assert library.tags.move("Trips/Paris", "Places/France") == "Places/France/Paris"
    assert paths(library) == [
        "Places",
        "Places/France",
        "Places/France/Paris",
        "Places/France/Paris/Louvre",
        "Trips",
    ]
    tree = {t.path: t for t in library.tags.tree()}
    assert tree["Places/France/Paris"].parent_id == tree["Places/France"].id
    assert tree["Places/France/Paris/Louvre"].parent_id == tree["Places/France/Paris"].id
    assert tagged(library, "Places") == {ids[0], ids[1]}
    assert tagged(library, "Trips") == set()
    assert library.tags.move("Places/France/Paris", None) == "Paris"
    assert tree_parent(library, "Paris") is None
    with pytest.raises(InvalidInput):
        library.tags.move("Paris", "Paris/Louvre")
    library.tags.add([ids[2]], "Trips/Louvre")
    with pytest.raises(Conflict):
        library.tags.move("Trips/Louvre", "Paris")


def tree_parent(lib: Library, path: str) -> int | None:
    return {t.path: t.parent_id for t in lib.tags.tree()}[path]


def test_merge_moves_photos_and_children_and_merges_twins(library: Library, ids: list[int]):
    library.tags.add([ids[0], ids[1]], "Pets/Dog")
    library.tags.add([ids[1]], "Pets/Dog/Puppy")
    library.tags.add([ids[2]], "Pets/Dog/Walks")
    library.tags.add([ids[1], ids[2]], "Animals/Dog")
    library.tags.add([ids[0]], "Animals/Dog/Puppy")
    library.tags.merge("Pets/Dog", "Animals/Dog")
    assert paths(library) == [
        "Animals",
        "Animals/Dog",
        "Animals/Dog/Puppy",
        "Animals/Dog/Walks",
        "Pets",
    ]
    counts = {t.path: t.asset_count for t in library.tags.tree()}
    assert counts["Animals/Dog"] == 3  # tagged exactly so, each photo once
    assert counts["Animals/Dog/Puppy"] == 2
    assert counts["Animals/Dog/Walks"] == 1
    assert library.assets.get(ids[1]).tags == ("Animals/Dog", "Animals/Dog/Puppy")
    with pytest.raises(InvalidInput):
        library.tags.merge("Animals", "Animals/Dog")
    with pytest.raises(NotFound):
        library.tags.merge("Pets/Dog", "Animals")
    library.tags.merge("Animals/Dog/Walks", "Animals")  # a child into its parent
    assert tagged(library, "Animals") == set(ids)
    assert "Animals/Dog/Walks" not in paths(library)


def test_totals_count_each_photo_once_under_every_ancestor(library: Library, ids: list[int]):
    library.tags.add([ids[0], ids[1]], "Pets")
    library.tags.add([ids[1]], "Pets/Dog")
    library.tags.add([ids[2]], "Pets/Dog/Puppy")
    library.tags.add([ids[2]], "Empty/Soon")
    library.tags.remove([ids[2]], "Empty/Soon")
    library.assets.set_archived([ids[0]])
    assert library.tags.totals() == {
        "Pets": 2,
        "Pets/Dog": 2,
        "Pets/Dog/Puppy": 1,
        "Empty": 0,
        "Empty/Soon": 0,
    }


def test_album_cover_sort_and_assets_in_order(library: Library, ids: list[int]):
    album = library.albums.create("Trip")
    library.albums.add(album, ids)
    # captured 2021, 2023, 2022: ascending by capture time by default
    assert library.albums.sort_order(album) == "asc"
    assert library.albums.assets(album) == [ids[0], ids[2], ids[1]]
    library.albums.set_sort("Trip", "desc")
    assert library.albums.sort_order("Trip") == "desc"
    assert library.albums.assets("Trip") == [ids[1], ids[2], ids[0]]
    with pytest.raises(InvalidInput):
        library.albums.set_sort(album, "sideways")

    assert library.albums.list()[0].cover_asset_id == ids[0]
    library.albums.set_cover(album, ids[2])
    assert library.albums.list()[0].cover_asset_id == ids[2]
    other = library.albums.create("Other")
    library.albums.add(other, [ids[0]])
    with pytest.raises(InvalidInput):
        library.albums.set_cover(other, ids[1])  # not in that album
    with pytest.raises(NotFound):
        library.albums.set_cover("Nope", ids[1])

    # Trashed photos leave the album's photos and its count; archived ones stay.
    library.assets.trash([ids[1]])
    library.assets.set_archived([ids[0]])
    assert library.albums.assets(album) == [ids[2], ids[0]]
    assert {a.name: a.asset_count for a in library.albums.list()}["Trip"] == 2
