"""Albums other accounts shared with the paired account: the server's snapshot of them, and the
desktop's mirror (docs/sync.md, "Shared albums").

The server answers every album shared with the account, whole, with a version (a digest of the
albums, grants, members and their newest journal rows) that rides on every feed page, so a
device asks again only when something changed. The desktop keeps a mirror: the sharer as a user
of its catalog (who cannot sign in), the album with the account's grant (viewer or editor), and
the photos as remote-only assets of the sharer. Only the owner changes them: the desktop's own
services refuse edits to photos the account does not own, and the server refuses pushes to them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import sync_fields, sync_journal, sync_remote
from photodesk.core.catalog.db import sync_shared as repo
from photodesk.core.sync import fields, journal
from photodesk.core.sync.fresh import insert_fresh
from photodesk.core.sync.types import AssetState, Decision, SharedAlbumState, Versioned

if TYPE_CHECKING:
    from photodesk.core.catalog.db.schema import Album
    from photodesk.core.catalog.store import Session

ALBUMS_KEY = "sync.shared_albums"  # desktop: {remote album id: local album id}
VERSION_KEY = "sync.shared_version"


# -- server ----------------------------------------------------------------------------------


def _grants(s: Session, user_id: int) -> list[tuple[Album, str, str, str]]:
    return repo.grants(s, user_id)


def _members(s: Session, album_ids: Sequence[int]) -> dict[int, list[int]]:
    return repo.live_members(s, album_ids)


def version(s: Session, user_id: int) -> int:
    """A number that changes when anything the account sees of shared albums changes (0: none)."""
    grants = _grants(s, user_id)
    if not grants:
        return 0
    members = _members(s, [a.id for a, _, _, _ in grants])
    ids = sorted({i for m in members.values() for i in m})
    newest = sync_journal.newest_of_assets(s, ids)
    text = repr(
        [(a.id, a.name, a.description, role, email, members[a.id]) for a, role, email, _ in grants]
    )
    return int(hashlib.sha1(f"{text}/{newest}".encode()).hexdigest()[:12], 16)


def snapshot(s: Session, user_id: int) -> list[SharedAlbumState]:
    """Every album shared with ``user_id``, with its photos and their scalar fields."""
    grants = _grants(s, user_id)
    members = _members(s, [a.id for a, _, _, _ in grants])
    found = fields.read(s, sorted({i for m in members.values() for i in m}))
    out = []
    for album, role, email, name in grants:
        assets = tuple(
            AssetState(
                row.id,
                row.checksum,
                fields.info(row, filename),
                {f: v for f, v in values.items() if f in fields.SCALAR_FIELDS},
            )
            for aid in members[album.id]
            if aid in found
            for row, filename, values in (found[aid],)
        )
        out.append(
            SharedAlbumState(
                album.id, album.name, album.description or "", email, name, role, assets
            )
        )
    return out


# -- desktop ---------------------------------------------------------------------------------


def _sharer(s: Session, email: str, name: str) -> int:
    """The sharer as a user of this catalog (no password: nobody signs in as them here)."""
    return repo.sharer(s, email, name)


def apply(
    s: Session, me: int, albums: Sequence[SharedAlbumState], mapping: dict[str, int]
) -> tuple[dict[str, int], set[int], list[Decision], list[str]]:
    """Make this catalog's mirror of the shared albums say what the server said. Returns the new
    album mapping, the assets touched, decisions (a local value the server's replaced), errors."""
    before = journal.mark(s)
    touched: set[int] = set()
    decisions: list[Decision] = []
    errors: list[str] = []
    new_mapping: dict[str, int] = {}
    cache: dict[str, int] = {}
    now = datetime.now()
    for shared in albums:
        owner = _sharer(s, shared.owner_email, shared.owner_name)
        album = repo.album(s, mapping.get(str(shared.remote_id), -1))
        if album is None or album.owner_id != owner:
            album = repo.make_album(s, owner, shared.name, shared.description, now)
        album.name, album.description = shared.name, shared.description
        new_mapping[str(shared.remote_id)] = album.id
        repo.grant(s, album.id, me, shared.role, now)
        ids = _assets(s, owner, shared.assets, cache, touched, decisions, errors)
        have = repo.members(s, album.id)
        repo.add_members(s, album.id, set(ids) - have, now)
        if have - set(ids):
            repo.remove_members(s, album.id, have - set(ids))
        touched.update(set(ids) ^ have)
    for old in set(mapping.values()) - set(new_mapping.values()):  # no longer shared with us
        row = repo.album(s, old)
        if row is not None and row.owner_id != me:
            repo.delete_album(s, row)
    repo.flush(s)
    # photos of others that no shared album holds any more leave the mirror
    touched.update(repo.drop_orphans(s, me))
    repo.flush(s)
    journal.forget_since(s, before)  # the owner's values, not edits made here
    return new_mapping, touched, decisions, errors


def _assets(
    s: Session,
    owner: int,
    states: Sequence[AssetState],
    cache: dict[str, int],
    touched: set[int],
    decisions: list[Decision],
    errors: list[str],
) -> list[int]:
    linked = sync_remote.linked(s, [st.remote_id for st in states])
    out: list[int] = []
    fresh = [st for st in states if st.remote_id not in linked]
    made = insert_fresh(s, owner, fresh, cache, errors)
    out += made.values()
    touched.update(made.values())
    rows = sync_fields.by_ids(s, list(linked.values()))
    current = fields.read(s, list(rows))
    for st in states:
        aid = linked.get(st.remote_id)
        if aid is None or aid not in rows:
            continue
        out.append(aid)
        mine = current[aid][2]
        for name, theirs in st.fields.items():
            local: Versioned = mine.get(name, (None, ""))
            if name not in fields.SCALAR_FIELDS or local[0] == theirs[0]:
                continue
            try:
                fields.write(s, rows[aid], name, theirs[0], cache)
            except ValueError as exc:
                errors.append(f"{st.checksum[:12]} {name}: {exc}")
                continue
            if theirs[1]:
                journal.set_clock(s, aid, name, theirs[1])
            touched.add(aid)
            if local[1] and fields.wins(local, theirs):  # an edit made here: only the owner's count
                decisions.append(Decision(st.checksum, name, "server", theirs[0], local[0]))
    return out
