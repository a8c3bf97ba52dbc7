"""Server side of sync: the account's change feed, and applying the mutations a device pushes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import sync_fields, sync_journal
from photodesk.core.catalog.events import Changes
from photodesk.core.ingest.admission import PROVISIONAL_DATE
from photodesk.core.sync import clock, fields, journal, retention
from photodesk.core.sync.types import AssetState, Decision, FeedPage, Mutation, PushResult

if TYPE_CHECKING:
    from photodesk.core.library import Library

MAX_PAGE = 2000
MAX_PUSH = 1000


def _stamp_if_needed(lib: Library) -> None:
    with lib.read() as s:
        pending = sync_journal.any_unstamped(s)
    if pending:
        with lib.write() as s:
            journal.stamp(s)


def _head(s: Any, user_id: int) -> int:
    return max(sync_journal.newest(s, user_id), retention.floor(s, user_id))


def head(lib: Library, user_id: int) -> int:
    with lib.read() as s:
        return _head(s, user_id)


def _states(s: Any, user_id: int, ids: list[int]) -> tuple[AssetState, ...]:
    found = fields.read(s, ids)
    return tuple(
        AssetState(a.id, a.checksum, fields.info(a, name), values)
        for aid in ids
        if aid in found
        for a, name, values in (found[aid],)
        if a.owner_id == user_id
    )


def changes(
    lib: Library,
    user_id: int,
    cursor: int,
    limit: int,
    *,
    after: int | None = None,
    device: str | None = None,
) -> FeedPage:
    """The assets of ``user_id`` written after ``cursor``, each whole, with its field clocks.

    A device with no cursor (0), or one older than the trimmed journal, gets a *snapshot*:
    every asset of the account by id (``after`` pages it), then the journal from the head the
    snapshot started at. ``device`` (its node id) records how far it has read, for trimming.
    """
    limit = max(1, min(limit, MAX_PAGE))
    _stamp_if_needed(lib)
    resync, continuing = False, after is not None
    with lib.read() as s:
        top = _head(s, user_id)
        if after is None and (cursor <= 0 or cursor < retention.floor(s, user_id)):
            resync = cursor > 0  # the journal after this device's cursor was trimmed
            cursor, after = top, 0
        if after is not None:
            ids = sync_fields.ids_after(s, user_id, after, limit)
            total = sync_fields.count(s, user_id)
            done = sync_fields.count(s, user_id, upto=after)
            page = FeedPage(
                _states(s, user_id, ids),
                cursor,
                max(top, cursor),
                len(ids) == limit or top > cursor,
                after=ids[-1] if len(ids) == limit else None,
                resync=resync,
                snapshot=(done + len(ids), total),
            )
        else:
            rows = sync_journal.after(s, user_id, cursor, limit)
            ids = list(dict.fromkeys(r.asset_id for r in rows))
            page = FeedPage(
                _states(s, user_id, ids),
                rows[-1].seq if rows else max(cursor, 0),
                top,
                len(rows) == limit,
            )
        acked = retention.acknowledged(s, user_id, device) if device else None
    if device and not continuing and acked != cursor:
        # a device reading the journal from `cursor` has everything before it; one starting a
        # snapshot holds the journal back from the snapshot's start on
        retention.acknowledge(lib, user_id, device, cursor)
    return page


def _default(field: str) -> fields.Versioned:
    return (False, "") if field.startswith((fields.TAG, fields.ALBUM)) else (None, "")


def apply(lib: Library, user_id: int, mutations: Sequence[Mutation]) -> PushResult:
    """Apply pushed writes to the account's own assets, each only if it beats what is here."""
    if len(mutations) > MAX_PUSH:
        raise ValueError(f"at most {MAX_PUSH} mutations per push")
    applied = skipped = 0
    decisions: list[Decision] = []
    errors: list[str] = []
    touched: set[int] = set()
    cache: dict[str, int] = {}
    edited: dict[int, set[str]] = {}
    with lib.write(Changes(tags=True, albums=True)) as s:
        journal.stamp(s)  # this server's own edits come before anything received now
        for m in mutations:
            if (m.hlc and not clock.valid(m.hlc)) or not fields.is_synced(m.field):
                errors.append(f"{m.id}: bad clock or field {m.field[:60]!r}")
                continue
            if sync_journal.applied(s, m.id):
                skipped += 1
                continue
            asset = sync_fields.by_checksum(s, user_id, m.checksum)
            if asset is None:  # not this account's: a shared album's viewer cannot write here
                errors.append(f"{m.id}: no asset {m.checksum[:40]} in this account")
                continue
            current = fields.read(s, [asset.id])[asset.id][2].get(m.field, _default(m.field))
            # the date an upload only guessed (before its analysis): any pushed one replaces it
            guessed = m.field == "taken" and asset.taken_at_source == PROVISIONAL_DATE
            incoming = (m.value, m.hlc)
            if guessed or fields.wins(incoming, current):
                try:
                    with s.begin_nested():
                        before = journal.mark(s)
                        fields.write(s, asset, m.field, m.value, cache)
                        journal.set_clock(s, asset.id, m.field, m.hlc)
                        s.flush()
                        if journal.head(s) == before:  # same value, newer clock: still news
                            sync_journal.add(s, user_id, asset.id, m.field, clock.now_ms(), m.hlc)
                        journal.label_since(s, before, m.hlc)
                except ValueError as exc:
                    errors.append(f"{m.id}: {exc}")
                    continue
                applied += 1
                touched.add(asset.id)
                edited.setdefault(asset.id, set()).add(m.field)
                if current[1] and current[0] != m.value:
                    decisions.append(Decision(m.checksum, m.field, "device", m.value, current[0]))
            else:
                skipped += 1
                if m.hlc and current[0] != m.value:
                    decisions.append(Decision(m.checksum, m.field, "server", current[0], m.value))
            sync_journal.note_applied(s, m.id, user_id)
        journal.observe(s, [m.hlc for m in mutations])
        fields.note_sidecars(s, edited)
    if touched:
        lib.events.publish(Changes(assets=frozenset(touched)))
    return PushResult(applied, skipped, tuple(decisions), tuple(errors))


def mutation_id(node: str, asset_id: int, field: str, hlc: str) -> str:
    """The same write pushed twice has the same id (so a replay after a crash is recognised)."""
    digest = hashlib.sha1(f"{asset_id}\0{field}\0{hlc}".encode()).hexdigest()[:24]
    return f"{node}-{digest}"
