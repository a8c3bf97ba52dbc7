"""Desktop side of people and embeddings sync: the steps a round runs after assets are in step.

People: stamp local edits, push the outbox (people and faces written here), then pull the
account's people feed from the saved cursor. Embeddings: pull the server's CLIP embeddings this
library lacks, push those computed here. Each page is applied with its cursor in one
transaction, so a killed round resumes where it stopped (docs/sync.md, "People").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from photodesk.core.catalog.db import sync_journal, sync_remote, vectors
from photodesk.core.catalog.db import sync_people as people_log
from photodesk.core.catalog.events import Changes
from photodesk.core.sync import clock, journal, people_state, people_sync, shared, vectors_sync
from photodesk.core.sync.people_links import SAME_PERSON
from photodesk.core.sync.ports import RemoteRefused
from photodesk.core.sync.types import PeopleItem, VectorItem

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session
    from photodesk.core.sync.client import Round

PEOPLE_CURSOR = "sync.people_cursor"
VECTORS_CURSOR = "sync.embeddings_cursor"  # the server's row this library has read up to
VECTORS_PUSHED = "sync.embeddings_pushed"  # this library's row it has sent up to
VECTORS_WAITING = "sync.embeddings_waiting"  # [asset id, model] of photos not uploaded yet
CURSORS = (
    PEOPLE_CURSOR, VECTORS_CURSOR, VECTORS_PUSHED, VECTORS_WAITING,
    shared.ALBUMS_KEY, shared.VERSION_KEY, shared.MEMBERS_KEY,
)  # fmt: skip
PAGE = 500
THUMBS_KEY = "sync.thumbnails_missing"  # (client.THUMBS_KEY) a pull made assets: look again
VECTOR_PAGE = 250


def _cursor(rnd: Round, key: str) -> int:
    return int(rnd.lib.sync.setting(key, 0) or 0)


def sync_people(rnd: Round) -> None:
    pushed = push_people(rnd)
    cursor = _cursor(rnd, PEOPLE_CURSOR)
    if not pushed and rnd.heads.get("people", cursor + 1) <= cursor:
        return  # the server has nothing new: no request
    while True:
        page = rnd.remote.people(_cursor(rnd, PEOPLE_CURSOR), PAGE)
        apply_people(rnd, page.items, page.cursor)
        if not page.more:
            return


def apply_people(rnd: Round, items: tuple[PeopleItem, ...], cursor: int) -> None:
    lib = rnd.lib
    with lib.write(Changes(people=True)) as s:
        people_state.stamp(s)  # edits made here first sort first
        done = people_sync.apply(s, lib.owner_id, items, sender="remote", log=False)
        hlc = str(journal.last(s) or "")
        people_log.add_rows(  # ours won: it goes up next round
            s,
            (
                (lib.owner_id, kind, 0, clock.now_ms(), hlc or "-", uid)
                for kind, uid in sorted(set(done.repush))
            ),
        )
        lib.sync.put_setting(s, PEOPLE_CURSOR, cursor)
    rnd.people += done.applied
    # a link kept apart is seen by the server (our push) and here (its feed): report it once
    rnd.decisions.extend(
        d for d in done.decisions if d.field != SAME_PERSON or d not in rnd.decisions
    )
    rnd.errors.extend(done.errors)
    if done.applied:
        lib.events.publish(Changes(people=True, assets=frozenset(done.assets)))


def push_people(rnd: Round) -> bool:
    """Send the people and faces written here; rows leave the outbox once the server answered."""
    lib = rnd.lib
    with lib.read() as s:
        if not people_log.any_row(s):
            return False
    with lib.write() as s:
        people_state.stamp(s)
    with lib.read() as s:
        top = people_log.newest(s)
        keys: list[tuple[str, str]] = [
            (kind, people_state.main_uid(s, kind, uid) or uid)
            for kind, uid in people_log.outbox(s, top)
        ]
    keys = list(dict.fromkeys(keys))
    keys.sort(key=lambda k: k[0] != people_state.PERSON)  # people before the faces naming them
    sent = False
    for start in range(0, len(keys), PAGE):
        batch = keys[start : start + PAGE]
        with lib.read() as s:
            items = people_state.items(s, batch)
        if items:
            result = rnd.remote.push_people(items)
            rnd.people += result.applied
            rnd.decisions.extend(result.conflicts)
            rnd.errors.extend(result.errors)
            sent = True
        with lib.write() as s:
            people_log.drop_sent(s, batch, top)
    with lib.write() as s:  # rows of things made and deleted before anyone saw them
        people_log.drop_unnamed(s, top)
    return sent


def sync_embeddings(rnd: Round) -> None:
    lib = rnd.lib
    seen = _cursor(rnd, VECTORS_CURSOR)
    if rnd.heads.get("embeddings", seen + 1) > seen:
        while True:
            page = rnd.remote.embeddings(_cursor(rnd, VECTORS_CURSOR), VECTOR_PAGE)
            with lib.write() as s:
                mine_sent = _cursor(rnd, VECTORS_PUSHED)
                had = vectors.head(s)
                stored, _, errors = vectors_sync.store(s, lib.owner_id, page.items)
                if mine_sent >= had:  # nothing of ours waiting: what came down need not go up
                    lib.sync.put_setting(s, VECTORS_PUSHED, vectors.head(s))
                lib.sync.put_setting(s, VECTORS_CURSOR, page.cursor)
            rnd.embeddings += stored
            rnd.errors.extend(errors)
            if not page.more:
                break
    push_embeddings(rnd)


def push_embeddings(rnd: Round) -> None:
    """Send embeddings computed here; one of a photo not uploaded yet waits for its upload."""
    lib = rnd.lib
    while True:
        with lib.read() as s:
            after = _cursor(rnd, VECTORS_PUSHED)
            rows = vectors.of_owner_after(s, lib.owner_id, after, VECTOR_PAGE)
            waiting = {(int(a), str(m)) for a, m in lib.sync.setting(VECTORS_WAITING, []) or []}
            before = set(waiting)
            linked = sync_remote.linked_assets(s, {r[1] for r in rows} | {a for a, _ in waiting})
            ready = [(a, m) for a, m in waiting if a in linked]
            send = [(c, m, v) for _, a, c, m, v in rows if a in linked]
            send += [(c, m, v) for _, c, m, v in vectors.of_assets(s, ready)]
            waiting = (waiting - set(ready)) | {(a, m) for _, a, _, m, _ in rows if a not in linked}
        if send:
            result = rnd.remote.push_embeddings([VectorItem(c, m, v) for c, m, v in send])
            rnd.embeddings += result.applied
            rnd.errors.extend(result.errors)
        if rows or send or waiting != before:  # else: nothing moved, nothing to write
            with lib.write() as s:
                lib.sync.put_setting(s, VECTORS_PUSHED, rows[-1][0] if rows else after)
                lib.sync.put_setting(s, VECTORS_WAITING, sorted([a, m] for a, m in waiting))
        if len(rows) < VECTOR_PAGE:
            return


def sync_shared(rnd: Round, *, force: bool = False) -> None:
    """Send album edits made here to shared albums (and to others' photos in own albums), then
    mirror the albums others shared with the account (when the server's version moved)."""
    lib = rnd.lib
    pushed, waiting = push_shared_edits(rnd)
    rnd.shared_waiting = any(waiting.values())
    seen = lib.sync.setting(shared.VERSION_KEY)
    wanted = rnd.heads.get("shared", 0)
    if (
        not (force or pushed)
        and seen == wanted
        and (wanted or not lib.sync.setting(shared.ALBUMS_KEY))
    ):
        return
    albums, at = rnd.remote.shared()
    with lib.write(Changes(albums=True, assets_added=True, assets_removed=True)) as s:
        mapping = dict(lib.sync.setting(shared.ALBUMS_KEY, {}) or {})
        new, touched, decisions, errors = shared.apply(s, lib.owner_id, albums, mapping, waiting)
        lib.sync.put_setting(s, shared.ALBUMS_KEY, new)
        lib.sync.put_setting(s, shared.MEMBERS_KEY, shared.members(albums))
        lib.sync.put_setting(s, shared.VERSION_KEY, at)
        lib.sync.put_setting(s, THUMBS_KEY, True)
    rnd.pulled += len(touched)
    rnd.decisions.extend(decisions)
    rnd.errors.extend(errors)
    if touched:
        lib.events.publish(Changes(assets=frozenset(touched), albums=True))


def push_shared_edits(rnd: Round) -> tuple[bool, dict[int, set[int]]]:
    """Photos added to or removed from a mirrored album here since the server last said what it
    holds go to the server's album routes (its rules decide: an editor adds own photos and
    removes any, a viewer nothing). A refusal is one error line; the next snapshot puts the
    server's album back here. Returns whether anything was sent, and per local album the own
    photos added here that wait for their upload."""
    lib = rnd.lib
    base = lib.sync.setting(shared.MEMBERS_KEY)
    if not base:
        return False, {}
    mapping = dict(lib.sync.setting(shared.ALBUMS_KEY, {}) or {})
    with lib.read() as s:
        edits, waiting = shared.pending(s, lib.owner_id, base, mapping)
    sent = False
    for remote_album, name, add, remove in edits:
        try:
            rnd.remote.edit_shared(remote_album, add, remove)
            rnd.pushed += len(add) + len(remove)
        except RemoteRefused as exc:
            if exc.reason in ("auth", "quota"):
                raise
            rnd.errors.append(
                f'shared album "{name}": the server refused the change made here ({exc}); '
                "the server's album is kept here"
            )
        sent = True
    return sent, waiting


def refuse_shared_edits(rnd: Round, s: Session) -> bool:
    """Outbox rows of photos the account does not own (a shared album's): the server would
    refuse them, so they are reported, dropped, and the owner's values come back."""
    rows = sync_journal.of_others(s, rnd.lib.owner_id)
    # album membership of a mirrored album goes by push_shared_edits, not this outbox
    sync_journal.drop_fields(s, {r[0] for r in rows}, prefix="album:")
    rows = [r for r in rows if not r[1].startswith("album:")]
    for _asset_id, field, checksum in rows:
        rnd.errors.append(
            f"conflict: {checksum[:12]} {field}: the photo is in an album shared with this "
            "account; only its owner can change it (the owner's value is kept)"
        )
    if rows:
        sync_journal.drop_assets(s, {r[0] for r in rows})
    return bool(rows)
