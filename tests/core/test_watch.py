"""The folder watcher: settle, stacks, moves, case-only renames, deletions, restarts, fallbacks."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from photodesk.cli import watch_cmd
from photodesk.core import AssetQuery, AssetRecord, Library
from photodesk.core.ingest import watch as watch_mod
from photodesk.core.ingest.files import FileService
from photodesk.core.ingest.results import sha1_file as content_sha1
from photodesk.core.ingest.watch import FolderWatcher
from photodesk.core.ingest.watch import observers as observers_mod
from photodesk.core.ingest.watch.fs import is_network_fs, mount_type, parse_bsd_mount, parse_mounts
from tests.conftest import make_jpeg

SETTLE = 0.25
POLL = 0.25
XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="{rating}"/>
</rdf:RDF></x:xmpmeta>"""
T = TypeVar("T")


def wait_for(check: Callable[[], T | bool | int | None], what: str, timeout: float = 15.0) -> T:
    """Poll ``check`` until it returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (LookupError, ValueError, AssertionError):
            value = None
        if value:
            return cast(T, value)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def assets(lib: Library) -> dict[str, AssetRecord]:
    """File name of the primary file -> asset."""
    return {Path(a.path).name: a for a in lib.assets.list(AssetQuery(archived=None))}


def by_id(lib: Library) -> dict[int, AssetRecord]:
    return {int(a.id): a for a in lib.assets.list(AssetQuery(archived=None))}


@pytest.fixture(params=["native", "polling"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def inbox(library: Library, tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    FileService(library).add_watched(folder)
    return folder


@pytest.fixture
def start(library: Library, mode: str) -> Iterator[Callable[..., FolderWatcher]]:
    made: list[FolderWatcher] = []

    def make(**kw: Any) -> FolderWatcher:
        w = FolderWatcher(
            library.store,
            library.importer,
            settle_s=SETTLE,
            poll_interval_s=POLL,
            polling=mode == "polling",
            workers=1,
            **kw,
        )
        made.append(w)
        w.start()
        assert w.wait_idle(15), "the first rescan did not finish"
        return w

    yield make
    for w in made:
        w.stop()


def test_files_are_imported_once_complete(
    library: Library, inbox: Path, tmp_path: Path, start: Callable[..., FolderWatcher]
) -> None:
    start()
    full = make_jpeg(tmp_path / "staging" / "slow.jpg", size=(400, 300), seed=1).read_bytes()
    with open(inbox / "slow.jpg", "wb") as fh:  # a slow copy: grows for longer than settle
        for i in range(6):
            fh.write(full[i * len(full) // 6 : (i + 1) * len(full) // 6])
            fh.flush()
            time.sleep(SETTLE / 3)
    part = make_jpeg(inbox / "download.jpg.part", seed=2)  # a browser download, then renamed
    os.rename(part, inbox / "download.jpg")
    found = wait_for(lambda: len(assets(library)) == 2 and assets(library), "both files")
    assert found["slow.jpg"].checksum == content_sha1(str(inbox / "slow.jpg"))
    assert library.assets.import_errors() == []


def test_raw_jpeg_and_xmp_dropped_together_become_one_stack(
    library: Library, inbox: Path, corpus: Path, start: Callable[..., FolderWatcher]
) -> None:
    start()
    make_jpeg(inbox / "IMG_4242.JPG", seed=1)
    shutil.copy(corpus / "photoprism__canon_eos_6d.dng", inbox / "IMG_4242.DNG")
    (inbox / "IMG_4242.xmp").write_text(XMP.format(rating=5), encoding="utf-8")

    def stacked() -> dict[str, AssetRecord] | None:
        found = assets(library)
        if len(found) != 2 or found["IMG_4242.JPG"].stack_id is None:
            return None
        return found if any(f.endswith(".xmp") for a in found.values() for f in a.files) else None

    found = wait_for(stacked, "a RAW + JPEG stack with its sidecar")
    jpeg, raw = found["IMG_4242.JPG"], found["IMG_4242.DNG"]
    assert jpeg.stack_id == raw.stack_id and (jpeg.kind, raw.kind) == ("photo", "raw")
    with_xmp = [a for a in found.values() if str(inbox / "IMG_4242.xmp") in a.files]
    assert len(with_xmp) == 1 and with_xmp[0].rating == 5


def test_a_raw_arriving_after_its_jpeg_joins_its_stack(
    library: Library, inbox: Path, corpus: Path, start: Callable[..., FolderWatcher]
) -> None:
    start()
    make_jpeg(inbox / "IMG_0007.JPG", seed=1)
    wait_for(lambda: "IMG_0007.JPG" in assets(library), "the JPEG")
    shutil.copy(corpus / "photoprism__canon_eos_6d.dng", inbox / "IMG_0007.DNG")

    def stacked() -> dict[str, AssetRecord] | None:
        found = assets(library)
        raw = found.get("IMG_0007.DNG")
        return found if raw is not None and raw.stack_id is not None else None

    found = wait_for(stacked, "the RAW in the JPEG's stack")
    assert found["IMG_0007.JPG"].stack_id == found["IMG_0007.DNG"].stack_id
    side = inbox / "IMG_0007.JPG.xmp"  # a sidecar written later (by darktable, say)
    side.write_text(XMP.format(rating=2), encoding="utf-8")
    wait_for(lambda: str(side) in assets(library)["IMG_0007.JPG"].files, "the late sidecar")


def test_moves_renames_and_case_changes_keep_the_asset(
    library: Library, inbox: Path, start: Callable[..., FolderWatcher]
) -> None:
    start()
    make_jpeg(inbox / "a.jpg", seed=1)
    (inbox / "a.jpg.xmp").write_text(XMP.format(rating=3), encoding="utf-8")
    make_jpeg(inbox / "b.jpg", seed=2)
    found = wait_for(lambda: len(assets(library)) == 2 and assets(library), "two assets")
    aid, other = int(found["a.jpg"].id), int(found["b.jpg"].id)
    library.albums.add(library.albums.create("Holidays"), [aid])
    library.tags.add([aid], "Places/Beach")
    library.assets.set_rating([aid], 5)

    def is_at(path: Path) -> Callable[[], bool]:
        def check() -> bool:
            a = library.assets.get(aid)
            return a.path == str(path) and a.files == (str(path), str(path) + ".xmp")

        return check

    steps = [
        ("a.jpg", "beach.jpg"),  # rename, with the sidecar
        ("beach.jpg", "sub/beach.jpg"),  # move into a new folder
        ("sub", "Trip"),  # rename the folder
        ("Trip/beach.jpg", "Trip/BEACH.jpg"),  # case-only rename of the file
        ("Trip", "TRIP"),  # and of the folder
    ]
    for old, new in steps:
        (inbox / new).parent.mkdir(exist_ok=True)
        os.rename(inbox / old, inbox / new)
        if not (inbox / new).is_dir():
            os.rename(inbox / (old + ".xmp"), inbox / (new + ".xmp"))
        target = inbox / (new if not (inbox / new).is_dir() else f"{new}/beach.jpg")
        if new == "TRIP":
            target = inbox / "TRIP" / "BEACH.jpg"
        wait_for(is_at(target), f"{old} -> {new}")
    now = by_id(library)
    assert sorted(now) == sorted([aid, other])  # nothing re-imported, nothing duplicated
    a = now[aid]
    assert (a.albums, a.tags, a.rating, a.offline) == (("Holidays",), ("Places/Beach",), 5, False)
    assert library.assets.import_errors() == []


def test_deleted_files_go_offline_and_come_back(
    library: Library, inbox: Path, tmp_path: Path, start: Callable[..., FolderWatcher]
) -> None:
    start()
    src = make_jpeg(inbox / "x.jpg", seed=1)
    found = wait_for(lambda: assets(library).get("x.jpg"), "x.jpg")
    aid = int(found.id)
    library.albums.add(library.albums.create("Kept"), [aid])
    parked = tmp_path / "parked.jpg"

    def offline(flag: bool) -> Callable[[], bool]:
        return lambda: library.assets.get(aid).offline is flag

    os.rename(src, parked)  # moved out of the watched folder
    wait_for(offline(True), "offline after the file left")
    assert library.assets.get(aid).albums == ("Kept",)
    os.rename(parked, src)  # back at the same path
    wait_for(offline(False), "online again at the same path")
    content = src.read_bytes()
    src.unlink()
    wait_for(offline(True), "offline after deletion")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "y.jpg").write_bytes(content)  # back elsewhere, with a new mtime
    wait_for(
        lambda: (
            not library.assets.get(aid).offline
            and library.assets.get(aid).path == str(inbox / "sub" / "y.jpg")
        ),
        "relinked elsewhere",
    )
    assert list(by_id(library)) == [aid] and library.assets.get(aid).albums == ("Kept",)


def test_clutter_and_the_library_itself_are_ignored(
    library: Library, tmp_path: Path, mode: str, start: Callable[..., FolderWatcher]
) -> None:
    FileService(library).add_watched(tmp_path)  # the library (tmp_path/lib) lies inside it
    watcher = start()
    make_jpeg(tmp_path / "@eaDir" / "a.jpg" / "SYNOPHOTO_THUMB_XL.jpg", seed=1)
    make_jpeg(tmp_path / "#recycle" / "old.jpg", seed=2)
    make_jpeg(tmp_path / ".hidden.jpg", seed=3)
    make_jpeg(tmp_path / ".cache" / "c.jpg", seed=4)
    for i, name in enumerate(("d.jpg.part", "e.jpg.crdownload", "f.jpg.tmp")):
        make_jpeg(tmp_path / name, seed=5 + i)
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    make_jpeg(tmp_path / "real.jpg", seed=9)
    wait_for(lambda: "real.jpg" in assets(library), "real.jpg")
    time.sleep(SETTLE + POLL)  # let the thumbnails the import wrote be seen (and ignored)
    assert watcher.wait_idle(10)
    assert list(assets(library)) == ["real.jpg"]
    assert library.assets.import_errors() == []


def test_a_restart_catches_up_with_what_happened_meanwhile(
    library: Library, inbox: Path, start: Callable[..., FolderWatcher]
) -> None:
    watcher = start()
    for i, name in enumerate(("keep.jpg", "gone.jpg", "change.jpg", "move.jpg")):
        make_jpeg(inbox / name, seed=i)
    before = wait_for(lambda: len(assets(library)) == 4 and assets(library), "four assets")
    ids = {name: int(a.id) for name, a in before.items()}
    library.albums.add(library.albums.create("Kept"), [ids["move.jpg"], ids["change.jpg"]])
    watcher.stop()

    (inbox / "gone.jpg").unlink()
    make_jpeg(inbox / "change.jpg", seed=42, size=(200, 100))  # new content, same name
    (inbox / "moved").mkdir()
    os.rename(inbox / "move.jpg", inbox / "moved" / "renamed.jpg")
    os.rename(inbox / "keep.jpg", inbox / "KEEP.jpg")
    make_jpeg(inbox / "new.jpg", seed=7)

    start()

    def caught_up() -> bool:
        now = by_id(library)
        return (
            len(now) == 5
            and now[ids["gone.jpg"]].offline
            and now[ids["change.jpg"]].width == 200  # re-read in place, same asset
            and now[ids["move.jpg"]].path == str(inbox / "moved" / "renamed.jpg")
            and now[ids["keep.jpg"]].path == str(inbox / "KEEP.jpg")
            and "new.jpg" in assets(library)
        )

    wait_for(caught_up, "the catalog to catch up")
    changed = str(inbox / "change.jpg")
    assert FileService(library).lookup([changed])[changed].checksum == content_sha1(changed)
    now = by_id(library)
    assert now[ids["move.jpg"]].albums == ("Kept",) and now[ids["change.jpg"]].albums == ("Kept",)
    assert not any(a.offline for i, a in now.items() if i != ids["gone.jpg"])


def test_a_share_that_goes_away_and_comes_back(
    library: Library, inbox: Path, tmp_path: Path, start: Callable[..., FolderWatcher]
) -> None:
    watcher = start()
    make_jpeg(inbox / "sub" / "n.jpg", seed=1)
    aid = int(wait_for(lambda: assets(library).get("n.jpg"), "n.jpg").id)
    os.rename(inbox, tmp_path / "unmounted")  # like a NAS share going away
    wait_for(lambda: library.assets.get(aid).offline, "offline while the share is away")
    assert [s.mode for s in watcher.status()] == ["unavailable"]
    os.rename(tmp_path / "unmounted", inbox)
    wait_for(lambda: not library.assets.get(aid).offline, "online when the share is back")
    assert watcher.wait_idle(10) and [s.mode for s in watcher.status()] != ["unavailable"]
    assert list(by_id(library)) == [aid]


@pytest.mark.parametrize("failure", ["schedule fails", "sub-folders left unwatched"])
def test_a_full_inotify_falls_back_to_polling(
    library: Library, inbox: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    native = observers_mod.Observer
    if failure == "schedule fails":

        class Full(native):  # type: ignore[misc, valid-type]
            def schedule(self, *args: Any, **kwargs: Any) -> Any:
                raise OSError(errno.ENOSPC, "inotify watch limit reached")

        monkeypatch.setattr(observers_mod, "Observer", Full)
    else:
        monkeypatch.setattr(observers_mod, "unwatched_dirs", lambda *_: 3)
        monkeypatch.setattr(observers_mod.sys, "platform", "linux")
    with FolderWatcher(
        library.store, library.importer, settle_s=SETTLE, poll_interval_s=POLL, workers=1
    ) as w:
        assert w.wait_idle(15)
        (status,) = w.status()
        assert status.mode == "polling" and "polling" in (status.error or "")
        make_jpeg(inbox / "p.jpg", seed=1)
        wait_for(lambda: "p.jpg" in assets(library), "p.jpg through polling")


def test_network_shares_are_polled(
    library: Library, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch_mod, "network_fs_type", lambda _: "nfs4")
    with FolderWatcher(
        library.store, library.importer, settle_s=SETTLE, poll_interval_s=POLL, workers=1
    ) as w:
        assert w.wait_idle(15)
        (status,) = w.status()
        assert (status.mode, status.network, status.path) == ("polling", "nfs4", str(inbox))
        assert status.last_scan_at is not None


def test_mount_tables_tell_network_shares_from_local_disks() -> None:
    mounts = parse_mounts(
        "/dev/sda1 / ext4 rw 0 0\n"
        "nas:/volume1/photo /mnt/nas nfs4 rw 0 0\n"
        "//nas/photo /mnt/My\\040Photos cifs rw 0 0\n"
        "user@host:/x /home/me/remote fuse.sshfs rw 0 0\n"
        "/dev/sdb1 /media/usb fuseblk rw 0 0\n"
    )
    assert ("/mnt/My Photos", "cifs") in mounts
    assert mount_type("/mnt/nas/2023/a.jpg", mounts) == "nfs4"
    assert mount_type("/mnt/My Photos/x", mounts) == "cifs"
    assert mount_type("/mnt/nasty", mounts) == "ext4"  # a prefix is not a parent
    assert [is_network_fs(t) for t in ("nfs4", "cifs", "fuse.sshfs", "fuseblk", "ext4")] == [
        True,
        True,
        True,
        False,
        False,
    ]
    mac = parse_bsd_mount(
        "/dev/disk3s1 on / (apfs, local, journaled)\n"
        "//me@nas._smb._tcp.local/photo on /Volumes/photo (smbfs, nodev, nosuid)\n"
    )
    assert mount_type("/Volumes/photo/a.jpg", mac) == "smbfs"


def test_copy_mode_and_folders_added_while_running(library: Library, tmp_path: Path) -> None:
    (tmp_path / "first").mkdir()
    with FolderWatcher(
        library.store, library.importer, settle_s=SETTLE, poll_interval_s=POLL, workers=1
    ) as w:
        t0 = time.monotonic()
        w.reload()  # nothing watched yet: nothing happens, and nothing blocks
        assert time.monotonic() - t0 < 0.5
        (tmp_path / "cam").mkdir()
        FileService(library).add_watched(tmp_path / "cam", copy=True)
        w.reload()
        wait_for(lambda: [s.mode for s in w.status()] == ["native"], "the new folder watched")
        src = make_jpeg(tmp_path / "cam" / "c.jpg", seed=1)
        found = wait_for(lambda: assets(library).get("c.jpg"), "c.jpg copied in")
        assert found.path.startswith(str(library.originals_dir))
        src.unlink()  # the copy in the library is the original: the asset stays online
        assert w.wait_idle(10)
        time.sleep(SETTLE)
        assert w.wait_idle(10)
        assert not library.assets.get(found.id).offline


def test_watch_run_imports_until_sigterm(
    library: Library, inbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    watch_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["watch", "run", "--settle", str(SETTLE), "--workers", "1"])
    original = signal.getsignal(signal.SIGTERM)

    def drop_then_stop() -> None:
        wait_for(lambda: signal.getsignal(signal.SIGTERM) is not original, "the handler")
        make_jpeg(inbox / "cli.jpg", seed=1)
        try:
            wait_for(lambda: "cli.jpg" in assets(library), "cli.jpg")
        finally:
            if signal.getsignal(signal.SIGTERM) is not original:
                os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=drop_then_stop)
    helper.start()
    assert watch_cmd.run(library, args) == 0
    helper.join()
    assert "cli.jpg" in assets(library)
    assert signal.getsignal(signal.SIGTERM) is original
