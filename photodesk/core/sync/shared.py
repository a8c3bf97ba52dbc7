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

from photodesk.core.catalog.db import shared_albums as repo
from photodesk.core.catalog.db.schema import Album, AlbumAsset, AlbumShare, Asset, User
from photodesk.core.catalog.db.sync_log import SyncChange, SyncRemote
from photodesk.core.sync import fields, journal
from photodesk.core.sync.fresh import insert_fresh
from photodesk.core.sync.types import AssetState, Decision, SharedAlbumState, Versioned

ALBUMS_KEY = "sync.shared_albums"  # desktop: {remote album id: local album id}
VERSION_KEY = "sync.shared_version"
MEMBERS_KEY = "sync.shared_members"  # desktop: {remote album id: [remote asset ids]}, as last said


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


def _view(
    s: Session, user_id: int
) -> tuple[list[tuple[Album, str, str, str, list[int]]], dict[int, tuple[int, str, str]]]:
    """Albums shared with the user (all their members) and the user's own albums that hold
    others' photos (those members only), with the owner of every member."""
    albums = _grants(s, user_id)
    me = s.get(User, user_id)
    if me is not None:
        albums += [(a, "owner", me.email, me.name or "") for a in repo.own_with_others(s, user_id)]
    members = _members(s, [a.id for a, _, _, _ in albums])
    owners = repo.owners_of(s, sorted({i for m in members.values() for i in m}))
    out = []
    for album, role, email, name in albums:
        ids = members[album.id]
        if role == "owner":
            ids = [i for i in ids if owners[i][0] != user_id]
        out.append((album, role, email, name, ids))
    return out, owners


def version(s: Session, user_id: int) -> int:
    """A number that changes when anything the account sees of shared albums changes (0: none)."""
    albums, _ = _view(s, user_id)
    if not albums:
        return 0
    ids = sorted({i for *_, m in albums for i in m})
    newest = 0
    for k in range(0, len(ids), 900):
        got = s.scalar(
            select(func.max(SyncChange.seq)).where(SyncChange.asset_id.in_(ids[k : k + 900]))
        )
        newest = max(newest, int(got or 0))
    text = repr([(a.id, a.name, a.description, role, email, m) for a, role, email, _, m in albums])
    return int(hashlib.sha1(f"{text}/{newest}".encode()).hexdigest()[:12], 16)


def snapshot(s: Session, user_id: int) -> list[SharedAlbumState]:
    """Every album shared with ``user_id``, with its photos and their scalar fields, and the
    user's own albums that hold others' photos, with those."""
    albums, owners = _view(s, user_id)
    found = fields.read(s, sorted({i for *_, m in albums for i in m}))
    out = []
    for album, role, email, name, ids in albums:
        assets = tuple(
            AssetState(
                row.id,
                row.checksum,
                fields.info(row, filename),
                {f: v for f, v in values.items() if f in fields.SCALAR_FIELDS},
            )
            for aid in ids
            if aid in found
            for row, filename, values in (found[aid],)
        )
        others = tuple(
            (aid, owners[aid][1], owners[aid][2])
            for aid in ids
            if aid in found and owners[aid][0] != album.owner_id
        )
        out.append(
            SharedAlbumState(
                album.id, album.name, album.description or "", email, name, role, assets, others
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
    s: Session,
    me: int,
    albums: Sequence[SharedAlbumState],
    mapping: dict[str, int],
    keep: dict[int, set[int]] | None = None,
) -> tuple[dict[str, int], set[int], list[Decision], list[str]]:
    """Make this catalog's mirror of the shared albums say what the server said. ``keep``: per
    local album, own photos added here that wait for their upload (they stay). Returns the new
    album mapping, the assets touched, decisions (a local value the server's replaced), errors."""
    before = journal.mark(s)
    touched: set[int] = set()
    decisions: list[Decision] = []
    errors: list[str] = []
    new_mapping: dict[str, int] = {}
    cache: dict[str, int] = {}
    now = datetime.now()
    user = s.get(User, me)
    my_email = user.email if user is not None else ""
    for shared in albums:
        if shared.role == "owner":  # an own album: its photos of others only
            album = _own_album(s, me, shared, mapping)
            owner = me
        else:
            owner = _sharer(s, shared.owner_email, shared.owner_name)
            found = s.get(Album, mapping.get(str(shared.remote_id), -1))
            if found is not None and found.owner_id == owner:
                album = found
            else:
                album = Album(owner_id=owner, name=shared.name, description=shared.description,
                              created_at=now, updated_at=now)  # fmt: skip
                s.add(album)
                s.flush()
            album.name, album.description = shared.name, shared.description
            grant = s.scalar(
                select(AlbumShare).where(AlbumShare.album_id == album.id, AlbumShare.user_id == me)
            )
            if grant is None:
                s.add(AlbumShare(album_id=album.id, user_id=me, role=shared.role, created_at=now))
            else:
                grant.role = shared.role
        new_mapping[str(shared.remote_id)] = album.id
        owners = {rid: (email, name) for rid, email, name in shared.others}
        ids = _assets(s, me, my_email, owner, shared, owners, cache, touched, decisions, errors)
        have = {
            aid for aid, who, _ in repo.members(s, album.id) if shared.role != "owner" or who != me
        }
        for aid in set(ids) - have:
            s.add(AlbumAsset(album_id=album.id, asset_id=aid, added_at=now))
        gone = have - set(ids) - (keep or {}).get(album.id, set())
        if gone:
            s.execute(
                delete(AlbumAsset).where(
                    AlbumAsset.album_id == album.id, AlbumAsset.asset_id.in_(gone)
                )
            )
        touched.update((set(ids) - have) | gone)
    for old in set(mapping.values()) - set(new_mapping.values()):  # no longer shared with us
        row = s.get(Album, old)
        if row is not None and row.owner_id != me:
            s.delete(row)
        elif row is not None:  # an own album without others' photos now
            others = [aid for aid, who, _ in repo.members(s, row.id) if who != me]
            s.execute(
                delete(AlbumAsset).where(
                    AlbumAsset.album_id == row.id, AlbumAsset.asset_id.in_(others)
                )
            )
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


def _own_album(s: Session, me: int, shared: SharedAlbumState, mapping: dict[str, int]) -> Album:
    """This catalog's album for one of the account's own albums (found by name, as sync names
    albums; else the one it was; else made)."""
    album = repo.own_album(s, me, shared.name)
    if album is None:
        album = s.get(Album, mapping.get(str(shared.remote_id), -1))
        if album is None or album.owner_id != me:
            now = datetime.now()
            album = Album(owner_id=me, name=shared.name, description=shared.description,
                          created_at=now, updated_at=now)  # fmt: skip
            s.add(album)
            s.flush()
    return album


def pending(
    s: Session, me: int, base: dict[str, list[int]], mapping: dict[str, int]
) -> tuple[list[tuple[int, str, list[int], list[int]]], dict[int, set[int]]]:
    """Album edits made here since the server's last word (``base``): (server album id, name,
    server ids added, server ids removed) per album, and per local album the own photos added
    that have no server id yet (not uploaded: they wait). In an own album only others' photos
    count (the account's own go by the feed as ``album:<name>``)."""
    edits: list[tuple[int, str, list[int], list[int]]] = []
    waiting: dict[int, set[int]] = {}
    for remote_album, local_album in mapping.items():
        album = s.get(Album, local_album)
        if album is None or remote_album not in base:
            continue
        rows = repo.members(s, album.id)
        if album.owner_id == me:
            rows = [r for r in rows if r[1] != me]
        here = {rid for _, _, rid in rows if rid is not None}
        waiting[album.id] = {aid for aid, who, rid in rows if rid is None and who == me}
        was = set(base[remote_album])
        if here != was:
            edits.append((int(remote_album), album.name, sorted(here - was), sorted(was - here)))
    return edits, waiting


def members(albums: Sequence[SharedAlbumState]) -> dict[str, list[int]]:
    """What the server said each album holds (server ids): the base local changes are made on."""
    return {str(a.remote_id): sorted(st.remote_id for st in a.assets) for a in albums}


def _assets(
    s: Session,
    me: int,
    my_email: str,
    owner: int,
    shared: SharedAlbumState,
    owners: dict[int, tuple[str, str]],
    cache: dict[str, int],
    touched: set[int],
    decisions: list[Decision],
    errors: list[str],
) -> list[int]:
    states = shared.assets
    linked = repo.linked(s, [st.remote_id for st in states])
    out: list[int] = []
    fresh: dict[int, list[AssetState]] = {}
    for st in states:
        if st.remote_id in linked:
            continue
        email, name = owners.get(st.remote_id, ("", ""))
        if email == my_email:
            continue  # the account's own photo not pulled yet: the next round links it
        who = owner if not email else _sharer(s, email, name)
        fresh.setdefault(who, []).append(st)
    for who, group in fresh.items():
        made = insert_fresh(s, who, group, cache, errors)
        out += made.values()
        touched.update(made.values())
    rows = {
        a.id: a
        for a in s.scalars(
            select(Asset).where(Asset.id.in_(list(linked.values())), Asset.owner_id != me)
        )
    }
    out += [aid for aid in linked.values() if aid not in rows]  # the account's own photos
    current = fields.read(s, list(rows))
    for st in states:
        aid = linked.get(st.remote_id)
        if aid is None or aid not in rows:
            continue  # own photos follow the account's own feed, never this snapshot
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
