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

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Album, AlbumAsset, AlbumShare, Asset, User
from photodesk.core.catalog.db.sync_log import SyncChange, SyncRemote
from photodesk.core.sync import fields, journal
from photodesk.core.sync.fresh import insert_fresh
from photodesk.core.sync.types import AssetState, Decision, SharedAlbumState, Versioned

ALBUMS_KEY = "sync.shared_albums"  # desktop: {remote album id: local album id}
VERSION_KEY = "sync.shared_version"


# -- server ----------------------------------------------------------------------------------


def _grants(s: Session, user_id: int) -> list[tuple[Album, str, str, str]]:
    return [
        (album, role, email, name or "")
        for album, role, email, name in s.execute(
            select(Album, AlbumShare.role, User.email, User.name)
            .join(AlbumShare, AlbumShare.album_id == Album.id)
            .join(User, User.id == Album.owner_id)
            .where(AlbumShare.user_id == user_id, Album.owner_id != user_id)
            .order_by(Album.id)
        ).all()
    ]


def _members(s: Session, album_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {a: [] for a in album_ids}
    for album_id, asset_id in s.execute(
        select(AlbumAsset.album_id, AlbumAsset.asset_id)
        .join(Asset, Asset.id == AlbumAsset.asset_id)
        .where(AlbumAsset.album_id.in_(list(album_ids)), Asset.trashed_at.is_(None))
        .order_by(AlbumAsset.album_id, AlbumAsset.asset_id)
    ):
        out[album_id].append(asset_id)
    return out


def version(s: Session, user_id: int) -> int:
    """A number that changes when anything the account sees of shared albums changes (0: none)."""
    grants = _grants(s, user_id)
    if not grants:
        return 0
    members = _members(s, [a.id for a, _, _, _ in grants])
    ids = sorted({i for m in members.values() for i in m})
    newest = 0
    for k in range(0, len(ids), 900):
        got = s.scalar(
            select(func.max(SyncChange.seq)).where(SyncChange.asset_id.in_(ids[k : k + 900]))
        )
        newest = max(newest, int(got or 0))
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
    found = s.scalar(select(User.id).where(User.email == email))
    if found is not None:
        return int(found)
    user = User(email=email, name=name, is_admin=False, created_at=datetime.now())
    s.add(user)
    s.flush()
    return user.id


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
        album = s.get(Album, mapping.get(str(shared.remote_id), -1))
        if album is None or album.owner_id != owner:
            album = Album(owner_id=owner, name=shared.name, description=shared.description,
                          created_at=now, updated_at=now)  # fmt: skip
            s.add(album)
            s.flush()
        album.name, album.description = shared.name, shared.description
        new_mapping[str(shared.remote_id)] = album.id
        grant = s.scalar(
            select(AlbumShare).where(AlbumShare.album_id == album.id, AlbumShare.user_id == me)
        )
        if grant is None:
            s.add(AlbumShare(album_id=album.id, user_id=me, role=shared.role, created_at=now))
        else:
            grant.role = shared.role
        ids = _assets(s, owner, shared.assets, cache, touched, decisions, errors)
        have = set(s.scalars(select(AlbumAsset.asset_id).where(AlbumAsset.album_id == album.id)))
        for aid in set(ids) - have:
            s.add(AlbumAsset(album_id=album.id, asset_id=aid, added_at=now))
        if have - set(ids):
            s.execute(
                delete(AlbumAsset).where(
                    AlbumAsset.album_id == album.id, AlbumAsset.asset_id.in_(have - set(ids))
                )
            )
        touched.update(set(ids) ^ have)
    for old in set(mapping.values()) - set(new_mapping.values()):  # no longer shared with us
        row = s.get(Album, old)
        if row is not None and row.owner_id != me:
            s.delete(row)
    s.flush()
    # photos of others that no shared album holds any more leave the mirror
    orphans = list(
        s.scalars(
            select(Asset.id).where(
                Asset.owner_id != me,
                Asset.id.in_(select(SyncRemote.asset_id)),
                ~Asset.id.in_(select(AlbumAsset.asset_id)),
            )
        )
    )
    if orphans:
        s.execute(delete(Asset).where(Asset.id.in_(orphans)))
        touched.update(orphans)
    s.flush()
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
    linked = dict(
        s.execute(
            select(SyncRemote.remote_id, SyncRemote.asset_id).where(
                SyncRemote.remote_id.in_([st.remote_id for st in states])
            )
        ).all()
    )
    out: list[int] = []
    fresh = [st for st in states if st.remote_id not in linked]
    made = insert_fresh(s, owner, fresh, cache, errors)
    out += made.values()
    touched.update(made.values())
    rows = {a.id: a for a in s.scalars(select(Asset).where(Asset.id.in_(list(linked.values()))))}
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
