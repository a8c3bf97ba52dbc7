"""Search: free text (names, titles, descriptions, tags, places), filters, sorting, smart search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from photodesk.core import InvalidInput, Library
from photodesk.core.catalog.db.schema import Asset, Face, Person
from photodesk.core.search.query import SearchQuery, SearchService, match_score, tokens
from tests.conftest import make_jpeg

PARIS = (48.8566, 2.3522)
BERLIN = (52.52, 13.405)


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    src = tmp_path / "in"
    make_jpeg(src / "eiffel.jpg", gps=PARIS, seed=1, when="2023:07:04 10:00:00")
    make_jpeg(
        src / "street.jpg",
        gps=BERLIN,
        seed=2,
        make="NIKON CORPORATION",
        model="NIKON D70",
        when="2021:01:01 10:00:00",
    )
    make_jpeg(src / "trip" / "IMG_0001.jpg", seed=3, when="2022:05:05 12:00:00")
    make_jpeg(src / "trip" / "beach.jpg", seed=4, when="2020:08:01 09:00:00")
    library.importer.import_paths([src], workers=1)
    return library


def ids_by_name(lib: Library) -> dict[str, int]:
    return {Path(a.path).name: int(a.id) for a in lib.assets.list()}


def set_fields(lib: Library, asset_id: int, **values: object) -> None:
    with lib.write() as s:
        s.execute(update(Asset).where(Asset.id == asset_id).values(**values))


def test_tokens_and_match_quality():
    assert tokens('Paris  "Eiffel Tower" ') == ["paris", "eiffel tower"]
    assert match_score("paris", "Paris", 1) == 3
    assert match_score("paris", "Places/France/Paris", 1) == 2
    assert match_score("par", "Paris", 1) == 1.5
    assert match_score("ari", "Paris", 1) == 1
    assert match_score("rome", "Paris", 1) == 0


def test_without_anything_it_lists_the_library_newest_first(lib: Library):
    search = SearchService(lib)
    got = search.search(SearchQuery())
    assert got == lib.assets.ids()
    assert search.search(SearchQuery(newest_first=False)) == list(reversed(got))
    assert len(search.search(SearchQuery(limit=2))) == 2


def test_free_text_matches_file_names_titles_descriptions_tags_and_places(lib: Library):
    n = ids_by_name(lib)
    search = SearchService(lib)
    set_fields(lib, n["beach.jpg"], title="Sunset", description="a quiet evening in Brittany")
    lib.tags.add([n["IMG_0001.jpg"]], "Animals/Dog")
    assert search.search(SearchQuery(text="eiffel")) == [n["eiffel.jpg"]]  # file name
    assert search.search(SearchQuery(text="img_0001")) == [n["IMG_0001.jpg"]]
    assert search.search(SearchQuery(text="sunset")) == [n["beach.jpg"]]  # title
    assert search.search(SearchQuery(text="brittany")) == [n["beach.jpg"]]  # description
    assert search.search(SearchQuery(text="dog")) == [n["IMG_0001.jpg"]]  # tag name
    assert search.search(SearchQuery(text="animals")) == [n["IMG_0001.jpg"]]  # tag parent
    assert search.search(SearchQuery(text="Paris")) == [n["eiffel.jpg"]]  # city
    assert search.search(SearchQuery(text="germany")) == [n["street.jpg"]]  # country
    # A country code matches whole (and ranks above the word "de" in Ile-de-France).
    assert search.search(SearchQuery(text="DE", sort="relevance"))[0] == n["street.jpg"]
    # Folder names are not file names.
    assert search.search(SearchQuery(text="trip")) == []
    # Every word must match (in any field).
    assert search.search(SearchQuery(text="sunset brittany")) == [n["beach.jpg"]]
    assert search.search(SearchQuery(text="sunset paris")) == []
    assert search.search(SearchQuery(text='"quiet evening"')) == [n["beach.jpg"]]
    assert search.search(SearchQuery(text="   ")) == search.search(SearchQuery())


def test_relevance_ranks_better_matches_first_and_date_breaks_ties(lib: Library):
    n = ids_by_name(lib)
    search = SearchService(lib)
    set_fields(lib, n["street.jpg"], description="passing through paris on the way")
    set_fields(lib, n["beach.jpg"], title="Paris")
    by_date = search.search(SearchQuery(text="paris"))
    assert by_date == [n["eiffel.jpg"], n["street.jpg"], n["beach.jpg"]]  # 2023, 2021, 2020
    by_relevance = search.search(SearchQuery(text="paris", sort="relevance"))
    # title "Paris" (whole field) > city Paris > a word in the description
    assert by_relevance == [n["beach.jpg"], n["eiffel.jpg"], n["street.jpg"]]


def test_filters(lib: Library):
    n = ids_by_name(lib)
    search = SearchService(lib)
    lib.assets.set_favorite([n["beach.jpg"]])
    lib.assets.set_rating([n["beach.jpg"], n["street.jpg"]], 4)
    lib.assets.set_rating([n["eiffel.jpg"]], 2)
    lib.albums.create("Holidays")
    lib.albums.add("Holidays", [n["eiffel.jpg"], n["beach.jpg"]])
    lib.tags.add([n["beach.jpg"]], "Places/Sea")
    set_fields(lib, n["street.jpg"], lens="AF-S Nikkor 18-55mm")

    def q(**kw: object) -> set[int]:
        return set(search.search(SearchQuery(**kw)))  # type: ignore[arg-type]

    assert q(camera="nikon d70") == {n["street.jpg"]}
    assert q(camera="NIKON CORPORATION") == {n["street.jpg"]}
    assert q(camera="canon") == {n["eiffel.jpg"], n["IMG_0001.jpg"], n["beach.jpg"]}
    assert q(lens="18-55") == {n["street.jpg"]}
    assert q(place="paris") == {n["eiffel.jpg"]}
    assert q(place="Ile-de-France") == {n["eiffel.jpg"]}
    assert q(place="DE") == q(place="Germany") == {n["street.jpg"]}
    assert q(place="Par") == set()  # a place is matched whole
    assert q(taken_from=datetime(2021, 6, 1), taken_to=datetime(2023, 1, 1)) == {n["IMG_0001.jpg"]}
    assert q(kind="photo") == set(n.values())
    assert q(kind="video") == set()
    assert q(album="Holidays") == {n["eiffel.jpg"], n["beach.jpg"]}
    assert q(tag="Places") == {n["beach.jpg"]}  # descendants count
    assert q(favorite=True) == {n["beach.jpg"]}
    assert q(min_rating=3) == {n["beach.jpg"], n["street.jpg"]}
    assert q(album="Holidays", min_rating=3, text="beach") == {n["beach.jpg"]}
    with pytest.raises(InvalidInput):
        search.search(SearchQuery(kind="sculpture"))
    with pytest.raises(InvalidInput):
        search.search(SearchQuery(min_rating=9))


def test_archived_and_trashed_photos_stay_out_unless_asked(lib: Library):
    n = ids_by_name(lib)
    search = SearchService(lib)
    lib.assets.set_archived([n["beach.jpg"]])
    lib.assets.trash([n["street.jpg"]])
    assert set(search.search(SearchQuery())) == {n["eiffel.jpg"], n["IMG_0001.jpg"]}
    assert n["beach.jpg"] in search.search(SearchQuery(archived=None))
    assert search.search(SearchQuery(text="street", archived=None)) == []


def test_person_filter(lib: Library):
    n = ids_by_name(lib)
    with lib.write() as s:
        ada = Person(owner_id=lib.owner_id, name="Ada Lovelace", created_at=datetime.now())
        s.add(ada)
        s.flush()
        s.add(Face(asset_id=n["IMG_0001.jpg"], person_id=ada.id, x1=0, y1=0, x2=1, y2=1))
    search = SearchService(lib)
    assert search.search(SearchQuery(person="ada lovelace")) == [n["IMG_0001.jpg"]]
    assert search.search(SearchQuery(person="Grace")) == []
    assert search.facets().people == ("Ada Lovelace",)


def test_facets_offer_what_the_photos_have(lib: Library):
    n = ids_by_name(lib)
    lib.albums.create("Holidays")
    lib.tags.add([n["beach.jpg"]], "Places/Sea")
    facets = SearchService(lib).facets()
    assert {"Paris", "France", "Germany"} <= set(facets.places)
    assert facets.cameras == ("Canon EOS 6D", "NIKON D70")
    assert facets.albums == ("Holidays",)
    assert facets.tags == ("Places", "Places/Sea")


class FakeClip:
    def __init__(self, hits: list[tuple[int, float]], available: bool = True) -> None:
        self.hits, self._available, self.calls = hits, available, 0

    def available(self) -> bool:
        return self._available

    def rank(self, text: str, *, candidates: Sequence[int]) -> list[tuple[int, float]]:
        self.calls += 1
        allowed = set(candidates)
        return [(aid, sim) for aid, sim in self.hits if aid in allowed]


def test_smart_search_is_a_pluggable_port(lib: Library):
    n = ids_by_name(lib)
    search = SearchService(lib)
    assert search.semantic_available is False
    clip = FakeClip([(n["beach.jpg"], 0.31), (n["street.jpg"], 0.22)])
    search.attach_semantic(clip)
    assert search.semantic_available is True
    # "sand" matches no text at all: the smart-search hits are the results, best first.
    got = search.search(SearchQuery(text="sand", sort="relevance"))
    assert got == [n["beach.jpg"], n["street.jpg"]]
    # Structured filters still apply to smart-search hits.
    assert search.search(SearchQuery(text="sand", camera="nikon")) == [n["street.jpg"]]
    # The caller can turn it off; an unavailable port is never asked.
    assert search.search(SearchQuery(text="sand", semantic=False)) == []
    off = FakeClip([(n["beach.jpg"], 0.3)], available=False)
    search.attach_semantic(off)
    assert search.search(SearchQuery(text="sand")) == []
    assert off.calls == 0
    assert search.semantic_available is False


def test_search_over_the_real_corpus(library: Library, corpus: Path):
    library.importer.import_paths([corpus], workers=2)
    search = SearchService(library)
    everything = search.search(SearchQuery())
    assert len(everything) > 150
    canon = search.search(SearchQuery(camera="canon"))
    assert canon
    assert all("canon" in f"{r.make} {r.model}".lower() for r in _records(library, canon))
    assert set(canon) < set(everything)
    hopper = search.search(SearchQuery(text="hopper"))
    assert len(hopper) >= 3
    assert all("hopper" in Path(r.path).name.lower() for r in _records(library, hopper))
    assert search.search(SearchQuery(kind="raw"))
    places = search.facets().places
    assert places
    assert search.search(SearchQuery(place=places[0]))


def _records(lib: Library, ids: list) -> list:  # type: ignore[type-arg]
    wanted = set(ids)
    return [r for r in lib.assets.list() if r.id in wanted]


def test_the_text_index_follows_edits_moves_and_deletions(lib: Library, tmp_path: Path):
    """Words of three letters and more are answered by the catalog's trigram index: it must see
    every change at once, as the plain scan did (and short words still match)."""
    names = ids_by_name(lib)
    search = SearchService(lib)
    assert search.search(SearchQuery(text="beach")) == [names["beach.jpg"]]
    lib.edits.set_title([names["eiffel.jpg"]], "Sunset over the Seine")
    lib.edits.set_description([names["street.jpg"]], "Grandma's Strudel in Kreuzberg")
    assert search.search(SearchQuery(text="seine")) == [names["eiffel.jpg"]]
    assert search.search(SearchQuery(text="STRUDEL")) == [names["street.jpg"]]
    lib.edits.set_title([names["eiffel.jpg"]], "Tour Eiffel")
    assert search.search(SearchQuery(text="seine")) == []
    # A file renamed on disk and followed by the catalog is found by its new name only.
    beach = next(a for a in lib.assets.list() if Path(a.path).name == "beach.jpg")
    with lib.write() as s:
        from photodesk.core.catalog.db.schema import AssetFile

        s.execute(
            update(AssetFile)
            .where(AssetFile.path == beach.path)
            .values(path=str(Path(beach.path).with_name("lagoon.jpg")))
        )
    assert search.search(SearchQuery(text="beach")) == []
    assert search.search(SearchQuery(text="lagoon")) == [names["beach.jpg"]]
    assert search.search(SearchQuery(text="ag")) == [names["beach.jpg"]]  # short: plain scan
    lib.assets.trash([names["beach.jpg"]])
    lib.assets.purge_trash(older_than_days=0)
    assert search.search(SearchQuery(text="lagoon")) == []


def test_a_catalog_from_before_the_text_index_gets_it_filled(tmp_path: Path):
    from alembic import command
    from sqlalchemy import create_engine

    from photodesk.core.catalog.db import migrate, text_index

    root = tmp_path / "old"
    make_jpeg(tmp_path / "in" / "harbour.jpg", seed=7)
    with Library.open(root) as lib:
        lib.importer.import_paths([tmp_path / "in"], workers=1)
        catalog = lib.store.writer_engine.url
    engine = create_engine(catalog)
    with engine.begin() as conn:  # as a catalog made by photodesk before 0008
        cfg = migrate._config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")  # the later revisions step back by their own downgrades
        text_index.drop(conn)
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0007'")
    engine.dispose()
    with Library.open(root) as lib:
        assert len(SearchService(lib).search(SearchQuery(text="harbour"))) == 1
