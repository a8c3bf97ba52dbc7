"""UploadService: staging, space checks, dedup per owner, admission on the request path and the
``upload.analyse`` job that completes it."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from photodesk.core.accounts.service import QuotaExceeded
from photodesk.core.catalog.db.schema import Asset, ImportError_
from photodesk.core.catalog.errors import InsufficientStorage, InvalidInput, UploadTooLarge
from photodesk.core.ingest.uploads import StagedFile, normalize_sha1, safe_filename
from tests.conftest import make_jpeg


def _stage(lib, owner: int, data: bytes) -> tuple[Path, str]:
    with lib.uploads.stage(owner) as staged:
        for i in range(0, len(data), 4096):
            staged.write(data[i : i + 4096])
        path = staged.finish()
    return path, staged.sha1


def _analysed(lib) -> None:
    """Run the queued jobs (the uploads' analysis, then their follow-ups)."""
    assert lib.jobs.run_until_idle(timeout=120)


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _count(lib, model, **where) -> int:
    with lib.read() as s:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(s.scalar(stmt) or 0)


@pytest.fixture
def users(library):
    lib = library
    lib.uploads.analysis_workers = 0  # the process pool is covered by the daemon tests
    alice = lib.accounts.add_user("alice@example.com", None, storage_label="alice")
    bob = lib.accounts.add_user("bob@example.com", None)
    return lib, alice, bob


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\x\\x.jpg", "x.jpg"),
        ("/abs/path/IMG_1.HEIC", "IMG_1.HEIC"),
        ("evil\x00name\x1f.jpg", "evilname.jpg"),
        ("con.jpg", "upload_con.jpg"),
        ("..", "upload"),
        ("", "upload"),
        (".hidden.png", "hidden.png"),
        ("a<b>:c|d?.jpg", "a_b__c_d_.jpg"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_safe_filename_keeps_extension_of_long_names() -> None:
    name = safe_filename("x" * 500 + ".jpeg")
    assert name.endswith(".jpeg") and len(name.encode()) <= 200


def test_normalize_sha1_hex_and_base64() -> None:
    digest = hashlib.sha1(b"abc").digest()
    import base64

    assert normalize_sha1(digest.hex().upper()) == digest.hex()
    assert normalize_sha1(base64.b64encode(digest).decode()) == digest.hex()
    assert normalize_sha1("nope") is None
    assert normalize_sha1("") is None


def test_staged_file_hashes_limits_and_discards(tmp_path: Path) -> None:
    with StagedFile(tmp_path, max_bytes=10) as staged:
        staged.write(b"hello")
        path = staged.finish()
    assert path.read_bytes() == b"hello"
    assert staged.sha1 == hashlib.sha1(b"hello").hexdigest()
    with pytest.raises(UploadTooLarge), StagedFile(tmp_path, max_bytes=10) as big:
        big.write(b"0123456789A")
    assert not big.path.exists()
    dropped = StagedFile(tmp_path)
    dropped.write(b"partial")
    with pytest.raises(ConnectionResetError), dropped:
        raise ConnectionResetError  # the client went away mid-upload
    assert not dropped.path.exists()


def test_ingest_creates_asset_in_user_storage(users, tmp_path: Path) -> None:
    lib, alice, _ = users
    src = make_jpeg(tmp_path / "src.jpg", gps=(48.8566, 2.3522), seed=3)
    temp, sha1 = _stage(lib, alice, src.read_bytes())
    out = lib.uploads.ingest(alice, temp, "../../IMG_0001.jpg", sha1, album="Trip")
    assert out.status == "created" and out.error is None
    # Admitted on the request path: the row exists (in its album) before anything is decoded.
    rec = lib.for_user(alice).assets.get(out.asset_id)
    assert rec.owner_id == alice and rec.checksum == sha1 and rec.albums == ("Trip",)
    assert rec.make is None and not rec.has_thumbnail and not lib.thumbnails.has(sha1)
    assert Path(rec.path).read_bytes() == src.read_bytes()
    _analysed(lib)
    rec = lib.for_user(alice).assets.get(out.asset_id)
    assert rec.path == str(lib.originals_dir / "alice" / "2023" / "07" / "IMG_0001.jpg")
    assert Path(rec.path).read_bytes() == src.read_bytes()
    assert rec.make == "Canon" and rec.has_thumbnail and rec.city  # same pipeline as import
    assert rec.albums == ("Trip",)
    assert lib.thumbnails.has(sha1)
    assert not temp.exists()
    assert _files_under(lib.uploads.staging_dir(alice)) == []
    # Dedup is per owner: the same bytes are a duplicate for alice, a new asset for bob.
    temp2, _ = _stage(lib, alice, src.read_bytes())
    again = lib.uploads.ingest(alice, temp2, "other.jpg", sha1)
    assert (again.status, again.asset_id) == ("duplicate", out.asset_id)
    assert not temp2.exists() and _files_under(lib.uploads.staging_dir(alice)) == []
    assert lib.uploads.has_checksum(alice, sha1) == out.asset_id
    _, bob = users[1], users[2]
    assert lib.uploads.has_checksum(bob, sha1) is None
    temp3, _ = _stage(lib, bob, src.read_bytes())
    theirs = lib.uploads.ingest(bob, temp3, "IMG_0001.jpg", sha1)
    assert theirs.status == "created" and theirs.asset_id != out.asset_id
    _analysed(lib)
    assert (
        lib.for_user(bob)
        .assets.get(theirs.asset_id)
        .path.startswith(str(lib.originals_dir / f"user-{bob}") + os.sep)
    )
    assert lib.uploads.existing(bob, [sha1.upper(), "zz"]) == {sha1: theirs.asset_id}


def test_same_name_twice_never_overwrites(users, tmp_path: Path) -> None:
    lib, alice, _ = users
    paths = []
    for seed in (1, 2):
        data = make_jpeg(tmp_path / f"s{seed}.jpg", seed=seed).read_bytes()
        temp, sha1 = _stage(lib, alice, data)
        out = lib.uploads.ingest(alice, temp, "IMG.jpg", sha1)
        assert out.status == "created"
        _analysed(lib)
        paths.append(lib.for_user(alice).assets.get(out.asset_id).path)
    assert [Path(p).name for p in paths] == ["IMG.jpg", "IMG_1.jpg"]


def test_client_mtime_dates_a_file_without_exif(users, tmp_path: Path) -> None:
    lib, alice, _ = users
    data = make_jpeg(tmp_path / "n.jpg", when=None, make=None, model=None, seed=9).read_bytes()
    temp, sha1 = _stage(lib, alice, data)
    when = datetime(2019, 3, 14, 12, 0, 0)
    out = lib.uploads.ingest(alice, temp, "scan.jpg", sha1, file_modified_at=when)
    rec = lib.for_user(alice).assets.get(out.asset_id)
    assert rec.taken_at == when  # the client's date, until the file is read
    _analysed(lib)
    rec = lib.for_user(alice).assets.get(out.asset_id)
    assert "/2019/03/" in rec.path.replace(os.sep, "/")


def test_broken_uploads_leave_nothing(users, corpus: Path) -> None:
    lib, alice, _ = users
    # Refused on the request path: what the first bytes show (empty, not a photo or video).
    for name, data in (("photoprism__empty.jpg", b""), ("notes.jpg", b"just some text")):
        temp, sha1 = _stage(lib, alice, data or (corpus / name).read_bytes())
        out = lib.uploads.ingest(alice, temp, name, sha1)
        assert out.status == "rejected" and out.asset_id is None
        assert out.error in ("empty file", "not a photo or video (content not recognised)")
    temp, _ = _stage(lib, alice, (corpus / "exiftool__Apple.jpg").read_bytes())
    with pytest.raises(InvalidInput):
        lib.uploads.ingest(alice, temp, "a.jpg", "not a checksum")
    assert not temp.exists()
    assert _count(lib, Asset, owner_id=alice) == 0
    assert _count(lib, ImportError_) == 0
    assert _files_under(lib.originals_dir) == []
    assert _files_under(lib.uploads.root) == []


def test_an_upload_that_cannot_be_decoded_leaves_the_catalog_with_its_reason(
    users, corpus: Path
) -> None:
    lib, alice, _ = users
    name = "pillow__truncated_jpeg.jpg"
    temp, sha1 = _stage(lib, alice, (corpus / name).read_bytes())
    out = lib.uploads.ingest(alice, temp, name, sha1, album="Trip")
    assert out.status == "created"  # a JPEG by its first bytes: admitted, decoded later
    _analysed(lib)
    assert _count(lib, Asset, owner_id=alice) == 0
    assert lib.for_user(alice).albums.assets("Trip") == []
    with lib.read() as s:
        errors = s.execute(select(ImportError_.owner_id, ImportError_.path)).all()
    assert len(errors) == 1 and errors[0][0] == alice and errors[0][1].endswith(name)
    assert not Path(errors[0][1]).exists()  # nothing of it is kept, as before
    failed = lib.jobs.failures()
    assert len(failed) == 1 and name in (failed[0].last_error or "")
    assert _files_under(lib.originals_dir) == []


def test_space_checks_come_before_the_bytes(users) -> None:
    lib, alice, bob = users
    lib.accounts.set_quota(alice, 1000)
    lib.uploads.check_space(alice, 900)
    with pytest.raises(QuotaExceeded):
        lib.uploads.check_space(alice, 1001)
    lib.uploads.check_space(bob, 10**6)
    lib.uploads.free_space_margin = 1 << 62
    with pytest.raises(InsufficientStorage):
        lib.uploads.check_space(bob, 1)


def test_clear_stale_removes_only_stream_leftovers(users) -> None:
    lib, alice, _ = users
    staging = lib.uploads.staging_dir(alice)
    with lib.uploads.stage(alice) as staged:
        staged.write(b"x")
        left = staged.finish()
    other = staging / "tus-upload.bin"  # another staging user's file (resumable uploads)
    other.write_bytes(b"keep")
    os.utime(left, (0, 0))
    os.utime(other, (0, 0))
    assert lib.uploads.clear_stale(older_than=60) == 1
    assert not left.exists() and other.exists()


def test_live_photo_video_joins_its_still(users, tmp_path: Path) -> None:
    from tests.conftest import make_video

    lib, alice, _ = users
    photo = make_jpeg(tmp_path / "IMG_7.jpg", seed=7).read_bytes()
    video = make_video(
        tmp_path / "IMG_7.mov", seconds=1.0, creation_time="2023-07-04T10:15:00.000000Z", fmt="mov"
    ).read_bytes()
    temp, sha_photo = _stage(lib, alice, photo)
    still = lib.uploads.ingest(alice, temp, "IMG_7.jpg", sha_photo)
    temp, sha_video = _stage(lib, alice, video)
    clip = lib.uploads.ingest(alice, temp, "IMG_7.mov", sha_video)
    assert (clip.status, still.status) == ("created", "created")
    _analysed(lib)
    # The video became a file of the still once both were read.
    rec = lib.for_user(alice).assets.get(still.asset_id)
    movs = [f for f in rec.files if f.endswith(".mov")]
    assert len(movs) == 1 and Path(movs[0]).read_bytes() == video
    assert _count(lib, Asset, owner_id=alice) == 1
    # Sending it again is a duplicate, found through the still.
    assert lib.uploads.has_checksum(alice, sha_video) == still.asset_id
    temp, _ = _stage(lib, alice, video)
    again = lib.uploads.ingest(alice, temp, "IMG_7.mov", sha_video)
    assert (again.status, again.asset_id) == ("duplicate", still.asset_id)
