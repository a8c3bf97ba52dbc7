"""The WebDAV space in the core: paths, names over assets, copies and moves, locks."""

from __future__ import annotations

import pytest

from photodesk.core.catalog.errors import Forbidden, InvalidInput, NotFound
from photodesk.core.dav.locks import INFINITY, Locked, LockManager
from photodesk.core.dav.space import Exists, MissingParent, PreconditionFailed, norm_path


def test_paths_are_normalised_and_never_climb_out() -> None:
    assert norm_path("/DCIM//Camera/./IMG_1.jpg") == "DCIM/Camera/IMG_1.jpg"
    assert norm_path("/") == ""
    for bad in ("a/../b", "a/\x01b", "a\\b", "x" * 300):
        with pytest.raises(InvalidInput):
            norm_path(bad)


def _plain(lib, owner: int, path: str, data: bytes) -> None:
    with lib.uploads.stage(owner) as staged:
        staged.write(data)
        staged.finish()
    lib.dav.receive(owner, path, staged)


def test_folders_copies_and_moves_keep_names_and_props(library) -> None:
    lib = library
    owner = lib.accounts.add_user("ann@example.org", None)
    space = lib.dav
    space.mkcol(owner, "A")
    with pytest.raises(Exists):
        space.mkcol(owner, "A")
    with pytest.raises(MissingParent):
        space.mkcol(owner, "B/C")
    space.mkcol(owner, "A/sub")
    _plain(lib, owner, "A/sub/note.txt", b"hello")
    space.set_props(owner, "A/sub/note.txt", [("{urn:x}p", '<ns0:p xmlns:ns0="urn:x">v</ns0:p>')])
    assert space.transfer(owner, "A", "B", move=False, deep=True, overwrite=False)
    copied = space.stat(owner, "B/sub/note.txt")
    assert copied is not None and copied.size == 5 and "{urn:x}p" in copied.props
    assert space.file_path(owner, copied).read_bytes() == b"hello"
    with pytest.raises(PreconditionFailed):
        space.transfer(owner, "A", "B", move=True, deep=True, overwrite=False)
    with pytest.raises(Forbidden):
        space.transfer(owner, "A", "A/sub/x", move=True, deep=True, overwrite=True)
    assert not space.transfer(owner, "A", "B", move=True, deep=True, overwrite=True)
    assert space.stat(owner, "A") is None and space.stat(owner, "A/sub/note.txt") is None
    assert [c.name for c in space.children(owner, "B/sub")] == ["note.txt"]
    assert space.transfer(owner, "B", "Shallow", move=False, deep=False, overwrite=True)
    assert space.children(owner, "Shallow") == []
    # another account sees none of it
    other = lib.accounts.add_user("bob@example.org", None)
    assert space.children(other, "") == [] and space.stat(other, "B") is None
    space.delete(owner, "B")
    assert space.stat(owner, "B/sub/note.txt") is None
    assert list(space.plain_dir(owner).iterdir()) == []  # the plain files went with their names
    with pytest.raises(NotFound):
        space.delete(owner, "B")


def test_locks_shared_exclusive_deep_and_timeouts() -> None:
    locks = LockManager()
    deep = locks.lock(1, "A", depth=INFINITY, exclusive=False)
    locks.lock(1, "A", depth=0, exclusive=False)  # shared locks stack
    with pytest.raises(Locked):
        locks.lock(1, "A/b", depth=0, exclusive=True)  # the deep shared lock covers A/b
    with pytest.raises(Locked):
        locks.check(1, "A/b", [])
    locks.check(1, "A/b", [deep.token])
    locks.check(2, "A/b", [])  # another account's space
    with pytest.raises(Locked):
        locks.check(1, "", [], deep=True)  # deleting the root would take A with it
    short = locks.refresh(1, "A/b/c", deep.token, 1)
    assert short.timeout_s == 1
    locks.forget(1, "A")
    assert locks.affecting(1, "A") == []
    assert locks.lock(1, "X", depth=0, exclusive=True, timeout_s=0).timeout_s == 3600
