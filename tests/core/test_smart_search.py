"""Smart search end to end: clip jobs after import, the vector index, floors, filters, sorting.

Each test that opens a library runs on both catalog dialects: SQLite searches the in-memory
index, PostgreSQL its pgvector HNSW index (migration 0019); the results must be the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photodesk.core import Library
from photodesk.core.catalog.db import vectors
from photodesk.core.inference.models import Models
from photodesk.core.search.query import SearchQuery
from photodesk.core.search.vector_index import VectorIndex
from tests.catalogs import DIALECTS, Catalogs, sql
from tests.conftest import make_video

DIM = 8
COLOURS = {
    "beach": (230, 200, 60),
    "snow": (245, 245, 250),
    "forest": (30, 140, 40),
}


def colour_vector(rgb: tuple[float, float, float]) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[:3] = np.asarray(rgb, dtype=np.float32) / 255.0 - 0.5
    return v / np.linalg.norm(v)


class FakeClip:
    """An image + text embedder whose vectors we control: an image is its mean colour, a word
    is the colour it names; unknown words point where no photo is."""

    model_name = "fake-clip"
    dim = DIM
    relevance_floor = 0.3
    relevance_margin = 1.0  # keep every hit above the floor (tests of the margin set it)

    def __init__(self) -> None:
        self.image_calls: list[int] = []
        self.text_calls = 0

    def embed_images(self, paths: list[str]) -> np.ndarray:
        self.image_calls.append(len(paths))
        rows = []
        for p in paths:
            with Image.open(p) as im:
                rows.append(colour_vector(np.asarray(im.convert("RGB")).reshape(-1, 3).mean(0)))
        return np.stack(rows)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        self.text_calls += 1
        rows = []
        for t in texts:
            rgb = next((c for name, c in COLOURS.items() if name in t), None)
            if rgb is None:
                v = np.zeros(DIM, dtype=np.float32)
                v[5] = 1.0
            else:
                v = colour_vector(rgb)
            rows.append(v)
        return np.stack(rows)


def photo(path: Path, rgb: tuple[int, int, int], when: str, make: str = "Canon") -> Path:
    img = Image.new("RGB", (160, 120), rgb)
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = f"{make} X"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


@pytest.fixture(params=DIALECTS)
def library(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Library]:
    """A fresh library on each catalog dialect (tests/catalogs.py)."""
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    Catalogs(request.param, server).install(monkeypatch)
    lib = Library.open(tmp_path / "lib")
    try:
        yield lib
    finally:
        lib.close()


@pytest.fixture
def clip() -> FakeClip:
    return FakeClip()


@pytest.fixture
def lib(library: Library, clip: FakeClip, tmp_path: Path) -> Library:
    src = tmp_path / "src"
    photo(src / "sand.jpg", COLOURS["beach"], "2021:07:01 10:00:00")
    photo(src / "sand-old.jpg", (205, 160, 100), "2019:07:01 10:00:00", make="NIKON")
    photo(src / "white.jpg", COLOURS["snow"], "2022:01:10 10:00:00")
    photo(src / "trees.jpg", COLOURS["forest"], "2023:05:01 10:00:00")
    library.attach_ml(Models(image=clip, text=clip))
    job = library.jobs.enqueue("import", None, {"paths": [str(src)]})
    library.jobs.run(job)
    assert library.jobs.run_until_idle(timeout=120)
    return library


def by_name(lib: Library) -> dict[str, int]:
    return {Path(lib.assets.get(i).path).name: int(i) for i in lib.assets.ids()}


def test_import_queues_clip_jobs_that_embed_previews_in_batches(lib: Library, clip: FakeClip):
    n = by_name(lib)
    with lib.read() as s:
        assert vectors.embedded(s, "fake-clip", n.values()) == set(n.values())
    # one job embedded the photos of the waiting ones; the others found theirs done
    assert max(clip.image_calls) > 1
    assert sum(clip.image_calls) == len(n)


def test_text_ranks_the_matching_photo_first_and_nonsense_returns_nothing(lib: Library):
    n = by_name(lib)
    assert lib.search.semantic_available
    got = lib.search.search(SearchQuery(text="beach", sort="relevance"))
    assert got[:2] == [n["sand.jpg"], n["sand-old.jpg"]]
    assert n["trees.jpg"] not in got  # under the floor
    assert lib.search.search(SearchQuery(text="qwxz blorp")) == []


def test_relative_margin_drops_the_weak_tail(lib: Library, clip: FakeClip):
    n = by_name(lib)
    clip.relevance_margin = 0.05
    got = lib.search.search(SearchQuery(text="beach", sort="relevance"))
    assert set(got) == {n["sand.jpg"], n["sand-old.jpg"]}  # snow (0.4) is far below


def test_the_floor_is_a_library_setting(lib: Library):
    from photodesk.core.catalog.db.schema import Setting

    n = by_name(lib)
    with lib.write() as s:
        s.merge(Setting(key="search.smart_floor", value=0.99))
    assert lib.search.search(SearchQuery(text="beach")) == [n["sand.jpg"]]


def test_filters_and_date_sort_apply_to_smart_hits(lib: Library):
    n = by_name(lib)
    newest = lib.search.search(SearchQuery(text="beach"))
    assert newest.index(n["sand.jpg"]) < newest.index(n["sand-old.jpg"])
    oldest = lib.search.search(SearchQuery(text="beach", newest_first=False))
    assert oldest[0] == n["sand-old.jpg"]
    assert lib.search.search(SearchQuery(text="beach", camera="nikon")) == [n["sand-old.jpg"]]
    lib.assets.trash([n["sand.jpg"]])
    assert n["sand.jpg"] not in lib.search.search(SearchQuery(text="beach"))


def test_more_like_this_and_near_duplicates(lib: Library, tmp_path: Path):
    n = by_name(lib)
    assert lib.search.similar(n["sand.jpg"], 2)[0] == n["sand-old.jpg"]
    photo(tmp_path / "again" / "sand-copy.jpg", COLOURS["beach"], "2021:07:02 10:00:00")
    lib.jobs.run(lib.jobs.enqueue("import", None, {"paths": [str(tmp_path / "again")]}))
    assert lib.jobs.run_until_idle(timeout=120)
    n = by_name(lib)
    groups = lib.search.near_duplicates(0.01)
    assert groups == [sorted([n["sand.jpg"], n["sand-copy.jpg"]])]


def test_the_index_follows_the_catalog(lib: Library, tmp_path: Path):
    n = by_name(lib)
    assert lib.search.search(SearchQuery(text="forest")) == [n["trees.jpg"]]
    photo(tmp_path / "more" / "trees-2.jpg", (40, 150, 45), "2024:05:01 10:00:00")
    lib.jobs.run(lib.jobs.enqueue("import", None, {"paths": [str(tmp_path / "more")]}))
    assert lib.jobs.run_until_idle(timeout=120)
    n = by_name(lib)
    got = lib.search.search(SearchQuery(text="forest"))
    assert got == [n["trees-2.jpg"], n["trees.jpg"]]


def test_video_is_embedded_from_frames(library: Library, clip: FakeClip, tmp_path: Path):
    make_video(tmp_path / "v" / "clip.mp4", seconds=2.0)
    library.attach_ml(Models(image=clip, text=clip))
    library.jobs.run(library.jobs.enqueue("import", None, {"paths": [str(tmp_path / "v")]}))
    assert library.jobs.run_until_idle(timeout=120)
    (vid,) = library.assets.ids()
    with library.read() as s:
        vec = vectors.vectors_of(s, "fake-clip", [vid])[int(vid)]
    assert clip.image_calls == [3]  # three frames, mean-pooled into one unit vector
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5


def test_without_models_search_works_as_before(library: Library, tmp_path: Path):
    photo(tmp_path / "s" / "beach.jpg", COLOURS["beach"], "2021:07:01 10:00:00")
    library.importer.import_paths([tmp_path / "s"], workers=1)
    assert not library.search.semantic_available
    (aid,) = library.assets.ids()
    assert library.search.search(SearchQuery(text="beach")) == [aid]  # the file name
    assert library.search.search(SearchQuery(text="sand")) == []
    # attached but with no model found: still lexical only, and clip jobs say what is missing
    library.attach_ml(Models(missing=("no CLIP pack",)))
    assert not library.search.semantic_available
    job = library.jobs.enqueue("clip", aid)
    info = library.jobs.run(job)
    assert info.state == "failed" and "models download" in (info.last_error or "")


def test_a_saved_index_is_loaded_and_caught_up(
    lib: Library, clip: FakeClip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    pytest.importorskip("faiss")
    if lib.database is not None:
        pytest.skip("PostgreSQL searches its own HNSW index: there is no index file to save")
    monkeypatch.setattr("photodesk.core.search.vector_index.FAISS_FROM", 2)
    monkeypatch.setattr("photodesk.core.search.smart.SNAPSHOT_AFTER", 1)
    lib.attach_ml(Models(image=clip, text=clip))  # a fresh smart search: loads the catalog
    n = by_name(lib)
    first = lib.search.search(SearchQuery(text="beach", sort="relevance"))
    assert first[0] == n["sand.jpg"]
    assert (lib.root / "cache" / "clip-fake-clip.faiss").is_file()
    photo(tmp_path / "more" / "sand-new.jpg", COLOURS["beach"], "2024:07:01 10:00:00")
    lib.jobs.run(lib.jobs.enqueue("import", None, {"paths": [str(tmp_path / "more")]}))
    assert lib.jobs.run_until_idle(timeout=120)
    lib.attach_ml(Models(image=clip, text=clip))  # next start: the snapshot plus the new row
    assert lib.smart is not None
    index = lib.smart.index()
    assert index is not None and index.backend == "faiss-sq-fp16" and len(index) == 5
    got = lib.search.search(SearchQuery(text="beach"))
    assert got[0] == by_name(lib)["sand-new.jpg"] and set(first) < set(got)


@pytest.mark.parametrize("faiss_from", [10**9, 50])
def test_vector_index_exact_filtered_and_replacing(faiss_from: int):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.arange(1000, 1400)
    index = VectorIndex(32, faiss_from=faiss_from)
    index.add(ids[:100], x[:100])
    index.add(ids[100:], x[100:])
    q = x[7]
    got, sims = index.search(q, 5)
    truth = ids[np.argsort(-(x @ q))[:5]]
    assert got.tolist() == truth.tolist()
    assert np.allclose(sims, np.sort(x @ q)[::-1][:5], atol=1e-2)
    among = ids[200:300]
    got, _ = index.search(q, 3, among=among)
    sub = x[200:300] @ q
    assert got.tolist() == among[np.argsort(-sub)[:3]].tolist()
    index.add([1007], -q[None, :])  # replaced: now the worst match
    got, _ = index.search(q, 400)
    assert got[-1] == 1007 and len(got) == 400 and len(index) == 400
    index.remove([1008])
    assert 1008 not in index.search(q, 400)[0]
    nbrs, _ = index.search_many(x[:2], 1)
    assert nbrs[:, 0].tolist() == [1000, 1001]


def test_postgres_searches_its_own_halfvec_index(lib: Library):
    """On PostgreSQL the clip job's rows carry the halfvec column and search never loads the
    in-memory index; on SQLite the index is loaded."""
    assert lib.smart is not None
    postgres = lib.database is not None
    got = lib.search.search(SearchQuery(text="beach", sort="relevance"))
    assert got[:2] == [by_name(lib)["sand.jpg"], by_name(lib)["sand-old.jpg"]]
    assert lib.smart.in_catalog() is postgres
    assert (lib.smart._loaded == {}) is postgres
    if postgres:
        ((missing,),) = sql(lib, "SELECT count(*) FROM embeddings WHERE embedding IS NULL")
        assert missing == 0
        ((idx,),) = sql(lib, "SELECT count(*) FROM pg_indexes WHERE indexname = ?",
                        "ix_embeddings_hnsw_8")  # fmt: skip
        assert idx == 1


def test_more_like_this_is_exact_and_scoped_to_the_user(library: Library, clip: FakeClip):
    """60 photos of two users with random embeddings: "more like this" gives the exact top 25
    among the user's own photos, in order, with float32 scores (HNSW on PostgreSQL: a set
    smaller than ef_search is searched whole)."""
    from datetime import datetime

    from sqlalchemy import insert

    from photodesk.core.catalog.db.schema import Asset, User

    rng = np.random.default_rng(4)
    vecs = rng.standard_normal((60, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    now = datetime(2024, 1, 1)
    with library.write() as s:
        other = User(email="o@example.org", name="O", is_admin=False, created_at=now)
        s.add(other)
        s.flush()
        owners = [library.owner_id if i % 2 else other.id for i in range(60)]
        rows = [
            {"owner_id": owners[i], "checksum": f"{i:040x}", "kind": "photo",
             "file_type": "jpeg", "mime": "image/jpeg", "size": 1, "taken_at": now,
             "taken_month": 202401, "rating": 0, "favorite": False, "archived": False,
             "offline": False, "has_thumbnail": False, "created_at": now, "updated_at": now}
            for i in range(60)
        ]  # fmt: skip
        ids = list(s.scalars(insert(Asset).returning(Asset.id, sort_by_parameter_order=True),
                             rows))  # fmt: skip
    library.attach_ml(Models(image=clip, text=clip))
    assert library.smart is not None
    library.smart.store("fake-clip", [(ids[i], vecs[i]) for i in range(60)])
    probe = 1  # one of the user's
    mine = [i for i in range(60) if owners[i] == library.owner_id and i != probe]
    sims = vecs[mine] @ vecs[probe]
    truth = [ids[mine[j]] for j in np.argsort(-sims, kind="stable")[:25]]
    assert library.search.similar(ids[probe], 25) == truth
    # unscoped (the port's own call): every user's photos, exact float32 scores
    everyone = np.sort(np.delete(vecs, probe, axis=0) @ vecs[probe])[::-1][:3]
    pairs = library.smart.similar(ids[probe], 3)
    assert [round(v, 5) for _, v in pairs] == [round(float(v), 5) for v in everyone]


def test_text_matches_are_scored_among_the_users_own_photos(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Another user's thousand "beach" files are never read nor scored by this user's search
    (they used to be: the cost of a text search followed every user's matches)."""
    from datetime import datetime

    from sqlalchemy import insert

    from photodesk.core.catalog.db.schema import Asset, AssetFile, User
    from photodesk.core.search import query

    photo(tmp_path / "s" / "beach.jpg", COLOURS["beach"], "2021:07:01 10:00:00")
    library.importer.import_paths([tmp_path / "s"], workers=1)
    (mine,) = library.assets.ids()
    now = datetime(2024, 1, 1)
    with library.write() as s:
        other = User(email="o@example.org", name="O", is_admin=False, created_at=now)
        s.add(other)
        s.flush()
        rows = [
            {"owner_id": other.id, "checksum": f"{i:040x}", "kind": "photo", "file_type": "jpeg",
             "mime": "image/jpeg", "size": 1, "taken_at": now, "taken_month": 202401,
             "rating": 0, "favorite": False, "archived": False, "offline": False,
             "has_thumbnail": False, "created_at": now, "updated_at": now}
            for i in range(1000)
        ]  # fmt: skip
        theirs = list(s.scalars(insert(Asset).returning(Asset.id), rows))
        s.execute(
            insert(AssetFile),
            [{"asset_id": a, "role": "original", "path": f"/o/beach {a}.jpg", "size": 1,
              "mtime_ns": 1, "copied": False, "missing": False} for a in theirs],
        )  # fmt: skip
    scored: list[str] = []
    real = query._file_score
    monkeypatch.setattr(query, "_file_score", lambda w, p: scored.append(p) or real(w, p))
    assert library.search.search(SearchQuery(text="beach")) == [mine]
    assert len(scored) == 1
    assert len(library.for_user(other.id).search.search(SearchQuery(text="beach"))) == 1000
