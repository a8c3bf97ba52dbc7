"""Near-duplicates without a model: perceptual hashes at import, groups, keep one and merge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from photodesk.core import Library
from photodesk.core.media.phash import distance, hash_file
from photodesk.core.search.duplicates import close_pairs, group_pairs, near_groups


def scene(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A smooth random picture: different seeds are different photos."""
    rnd = np.random.default_rng(seed)
    small = Image.fromarray(rnd.integers(0, 255, (6, 8, 3), dtype=np.uint8))
    return small.resize(size, Image.Resampling.BICUBIC)


def _library_with_copies(library: Library, tmp_path: Path) -> dict[str, int]:
    src = tmp_path / "src"
    src.mkdir()
    scene(1).save(src / "original.jpg", quality=95)
    scene(1).resize((320, 240)).save(src / "smaller.jpg", quality=90)  # rescaled
    scene(1).save(src / "recompressed.jpg", quality=35)  # recompressed
    scene(2).save(src / "other.jpg", quality=95)
    scene(3).save(src / "third.png")
    library.importer.import_paths([src], workers=1)
    return {Path(a.path).name: int(a.id) for a in library.assets.list()}


def test_rescaled_and_recompressed_copies_group_and_different_photos_do_not(
    library: Library, tmp_path: Path
):
    ids = _library_with_copies(library, tmp_path)
    groups = library.duplicates.groups()
    assert len(groups) == 1
    (group,) = groups
    assert set(group) == {ids["original.jpg"], ids["smaller.jpg"], ids["recompressed.jpg"]}
    assert group[0] == ids["original.jpg"]  # the most pixels (then the most bytes) is kept


def test_keeping_one_trashes_the_others_and_merges_their_metadata(library: Library, tmp_path: Path):
    ids = _library_with_copies(library, tmp_path)
    keeper, small, worse = ids["original.jpg"], ids["smaller.jpg"], ids["recompressed.jpg"]
    library.albums.create("Trip")
    library.albums.add("Trip", [small])
    library.tags.add([worse], "Places/Iceland")
    library.assets.set_rating([small], 4)
    library.assets.set_favorite([worse], True)
    library.edits.set_description([worse], "the waterfall")
    library.edits.set_description([keeper], "first day")

    library.duplicates.keep(keeper, [small, worse])

    kept = library.assets.get(keeper)
    assert kept.albums == ("Trip",) and kept.tags == ("Places/Iceland",)
    assert (kept.rating, kept.favorite) == (4, True)
    assert kept.description == "first day\n\nthe waterfall"
    assert {int(a.id) for a in library.assets.list()} == {
        keeper,
        ids["other.jpg"],
        ids["third.png"],
    }
    assert library.duplicates.groups() == []


def test_hashes_are_computed_at_import_and_backfilled_for_older_assets(
    library: Library, tmp_path: Path
):
    ids = _library_with_copies(library, tmp_path)
    service = library.duplicates
    assert service.backfill() == 0  # every imported photo was hashed from its thumbnail
    from sqlalchemy import update

    from photodesk.core.catalog.db.schema import Asset

    with library.write() as s:
        s.execute(update(Asset).values(phash=None))
    assert service.groups() == []
    assert service.backfill() == len(ids)
    assert len(service.groups()) == 1


def test_multi_index_lookup_finds_exactly_the_pairs_within_the_distance():
    rnd = np.random.default_rng(5)
    hashes = rnd.integers(-(2**63), 2**63 - 1, 600, dtype=np.int64)
    hashes[100:150] = hashes[50:100] ^ rnd.integers(0, 16, 50)  # a few bits apart: near pairs
    hashes[10] = hashes[20] ^ 0b1011  # 3 bits apart
    hashes[30] = hashes[40] ^ (1 << 62) ^ 1  # 2 bits apart, far ends of the word
    ids = np.arange(len(hashes))
    found = close_pairs(ids, hashes, 3)
    brute = {
        (i, j)
        for i in range(len(hashes))
        for j in range(i + 1, len(hashes))
        if distance(int(hashes[i]), int(hashes[j])) <= 3
    }
    assert {(10, 20), (30, 40)} <= found
    assert found == brute
    assert group_pairs(50, [(10, 20), (20, 30), (40, 41)]) == [[10, 20, 30], [40, 41]]


def test_a_hash_survives_rescaling_and_tells_photos_apart(tmp_path: Path):
    scene(7).save(tmp_path / "a.jpg", quality=95)
    scene(7).resize((200, 150)).save(tmp_path / "b.jpg", quality=50)
    scene(8).save(tmp_path / "c.jpg", quality=95)
    a, b, c = (hash_file(tmp_path / n) for n in ("a.jpg", "b.jpg", "c.jpg"))
    assert a is not None and b is not None and c is not None
    assert distance(a, b) <= 4 < distance(a, c)
    assert hash_file(tmp_path / "missing.jpg") is None


def _shot(image: Image.Image, path: Path, when: str) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Sony"
    exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=92, exif=exif)


def test_a_burst_stacks_itself_at_import_with_the_sharpest_frame_on_top(
    library: Library, tmp_path: Path
):
    from PIL import ImageFilter

    from photodesk.core.catalog.db.schema import Stack

    src = tmp_path / "burst"
    grain = np.random.default_rng(9).integers(0, 90, (480, 640, 3), dtype=np.uint8)
    base = Image.blend(scene(4), Image.fromarray(grain), 0.35)  # fine detail that blur removes
    _shot(base.filter(ImageFilter.GaussianBlur(3)), src / "b1.jpg", "2024:05:01 10:00:00")
    _shot(base, src / "b2.jpg", "2024:05:01 10:00:01")  # the sharp one
    _shot(base.filter(ImageFilter.GaussianBlur(5)), src / "b3.jpg", "2024:05:01 10:00:02")
    _shot(base, src / "later.jpg", "2024:05:01 10:05:00")  # same look, minutes later
    _shot(scene(5), src / "other.jpg", "2024:05:01 10:00:01")  # same second, another photo
    library.importer.import_paths([src], workers=1)
    by_name = {Path(a.path).name: a for a in library.assets.list()}
    stacks = {a.stack_id for n, a in by_name.items() if n.startswith("b")}
    assert len(stacks) == 1 and None not in stacks
    assert by_name["later.jpg"].stack_id is None and by_name["other.jpg"].stack_id is None
    with library.read() as s:
        primary = s.get(Stack, stacks.pop()).primary_asset_id
    assert primary == int(by_name["b2.jpg"].id)


def test_a_catalog_from_before_hashing_gets_the_columns_and_its_hashes(tmp_path: Path):
    root = tmp_path / "old"
    (tmp_path / "in").mkdir()
    scene(1).save(tmp_path / "in" / "a.jpg", quality=95)
    scene(1).save(tmp_path / "in" / "b.jpg", quality=40)
    with Library.open(root) as lib:
        lib.importer.import_paths([tmp_path / "in"], workers=1)
        catalog = lib.store.writer_engine.url
    from alembic import command
    from sqlalchemy import create_engine

    from photodesk.core.catalog.db import migrate

    engine = create_engine(catalog)
    with engine.begin() as conn:  # as made by photodesk before 0011: later revisions step back
        cfg = migrate._config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    engine.dispose()
    with Library.open(root) as lib:
        service = lib.duplicates
        assert service.groups() == []  # the columns are back, empty
        assert service.backfill() == 2
        assert [len(g) for g in service.groups()] == [2]


def test_every_distance_finds_exactly_the_brute_force_pairs_and_groups():
    # each distance has its own slicing plan (exact slices up to 4 bits, wider slices with
    # one-bit flips above): all must agree with a brute-force comparison
    rnd = np.random.default_rng(11)
    base = rnd.integers(-(2**63), 2**63 - 1, 300, dtype=np.int64)
    flips = [np.int64(0)]
    for k in range(1, 10):  # near copies 1..9 bits away, bits anywhere in the word
        bits = rnd.choice(64, k, replace=False)
        flips.append(np.bitwise_or.reduce([np.int64(1) << np.int64(b) for b in bits]))
    near = np.array([base[i] ^ flips[i % 10] for i in range(100)], dtype=np.int64)
    hashes = np.concatenate([base, near, base[:5]])  # and five exact copies
    words = hashes.view(np.uint64)
    d = np.bitwise_count(words[:, None] ^ words[None, :])
    for bits in range(9):
        brute = {(int(i), int(j)) for i, j in zip(*np.nonzero(d <= bits), strict=True) if i < j}
        assert close_pairs(np.arange(len(hashes)), hashes, bits) == brute, bits
        groups = near_groups(hashes, bits)
        assert sorted(map(sorted, groups)) == sorted(
            map(sorted, group_pairs(len(hashes), brute))
        ), bits


def test_a_thousand_identical_hashes_are_one_group():
    hashes = np.full(1000, 12345, dtype=np.int64)
    hashes[-1] = 12345 ^ 0b111
    assert [sorted(g) for g in near_groups(hashes, 2)] == [list(range(999))]
    assert [sorted(g) for g in near_groups(hashes, 3)] == [list(range(1000))]


def test_the_hash_is_the_low_corner_of_the_orthonormal_2d_dct() -> None:
    """The hash's matrix DCT (no FFT library loaded at start) is the textbook transform."""
    from scipy.fft import dctn

    from photodesk.core.media.phash import _DCT, LOW

    rng = np.random.default_rng(5)
    for _ in range(20):
        pixels = rng.uniform(0, 255, (32, 32)).astype(np.float32)
        expected = dctn(pixels.astype(np.float64), norm="ortho")[:LOW, :LOW]
        assert np.allclose(_DCT @ pixels @ _DCT.T, expected, rtol=1e-4, atol=1e-2)
