"""Desktop side of sync: one round = stamp, pull pages, fetch thumbnails, upload, push, pull.

Every step is idempotent and saved as it goes: the feed cursor moves in the same transaction as
the page it covers, journal rows leave the outbox only once the server has them, uploads are
found again by checksum. A round killed at any point and run again converges (docs/sync.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from photodesk.core.catalog.db import asset_files, sync_fields, sync_journal, sync_remote
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.store import OperationalError
from photodesk.core.sync import client_people, clock, fields, journal
from photodesk.core.sync.feed import mutation_id
from photodesk.core.sync.fresh import insert_fresh
from photodesk.core.sync.ports import Remote, RemoteRefused, RemoteUnavailable
from photodesk.core.sync.types import AssetState, Decision, FeedPage, Mutation, SyncReport

if TYPE_CHECKING:
    from photodesk.core.catalog.db.schema import Asset
    from photodesk.core.library import Library

log = logging.getLogger(__name__)
PAGE = 1000
PUSH_BATCH = 500
THUMB_BATCH = 250
AHEAD = 2  # thumbnail batches fetched ahead of the one being recorded
MARK_BATCH = 1000  # thumbnails recorded per write transaction
CURSOR_KEY = "sync.cursor"
THUMBS_KEY = "sync.thumbnails_missing"
SNAPSHOT_KEY = "sync.snapshot_after"  # in a snapshot: the last asset id of it applied
Progress = Callable[[str, int, int], None]  # (step, done, total)


class Round:
    """One sync round of a paired library with its server."""

    def __init__(self, lib: Library, remote: Remote, progress: Progress | None = None) -> None:
        self.lib = lib
        self.remote = remote
        self.progress = progress or (lambda step, done, total: None)
        self.pulled = self.pushed = self.uploaded = self.thumbs = 0
        self.people = self.embeddings = 0
        self.heads: dict[str, int] = {}  # the other feeds' newest changes, from the last page
        self.refused_shared = False
        self.shared_waiting = False  # own photos added to a shared album wait for their upload
        self.decisions: list[Decision] = []
        self.errors: list[str] = []

    # -- the round -------------------------------------------------------------------------
    def run(self) -> SyncReport:
        with self.lib.write() as s:
            journal.stamp(s)
        try:
            self.pull()
            client_people.sync_shared(self)  # albums others shared with the account
            self.fetch_thumbnails()
            if self.upload() + self.push():
                self.pull()  # our own writes come back as no-ops; others' may have arrived
            if self.refused_shared or self.shared_waiting:  # the owner's values come back;
                # photos uploaded just now go to the shared albums they were added to
                client_people.sync_shared(self, force=True)
            # people and embeddings name assets by checksum: both sides have them all by now
            client_people.sync_people(self)
            client_people.sync_embeddings(self)
        except RemoteUnavailable as exc:
            self.errors.append(f"offline: {exc}")
        except RemoteRefused as exc:
            self.errors.append(f"{exc.reason}: {exc}")
        except (OSError, OperationalError) as exc:  # a full disk here: what is saved stays saved
            reason = getattr(exc, "strerror", None) or getattr(exc, "orig", None) or exc
            self.errors.append(f"local: this library could not be written ({reason})")
        return SyncReport(
            self.pulled, self.pushed, self.uploaded, self.thumbs,
            tuple(self.decisions), tuple(self.errors),
            people=self.people, embeddings=self.embeddings,
        )  # fmt: skip

    # -- pull ------------------------------------------------------------------------------
    def pull(self) -> None:
        """Pull every page from the saved cursor (or the saved place in a snapshot). The next
        page is fetched on a second thread while this one is applied (server and client work
        at once); what is saved is always a page applied whole."""
        start = int(self.lib.sync.setting(CURSOR_KEY, 0) or 0)
        after = self.lib.sync.setting(SNAPSHOT_KEY)
        pairing = self.lib.sync.pairing()
        device = pairing.device_id if pairing is not None else None

        def fetch(cursor: int, after: int | None) -> FeedPage:
            return self.remote.changes(cursor, PAGE, after=after, device=device)

        saved = (start, None if after is None else int(after))
        with (
            ThreadPoolExecutor(1, thread_name_prefix="sync-pull") as pool,
            _ThumbPipe(self) as thumbs,
        ):
            ahead = pool.submit(fetch, *saved)
            while True:
                page = ahead.result()
                if page.more:
                    ahead = pool.submit(fetch, page.cursor, page.after)
                if page.resync:
                    log.info("the server trimmed its journal past this library's cursor: resync")
                if page.items or (page.cursor, page.after) != saved:  # else: nothing to write
                    thumbs.submit(self.apply_page(page))
                    saved = (page.cursor, page.after)
                thumbs.harvest()
                self.heads = dict(page.heads)
                if page.snapshot is not None:  # assets of the snapshot so far, of all of them
                    self.progress("pull", *page.snapshot)
                else:  # changes read so far, of those there were when the page was read
                    self.progress("pull", page.cursor - start, max(page.head - start, 0))
                if not page.more:
                    return

    def apply_page(self, page: FeedPage) -> list[_Fresh]:
        """Apply one page in one transaction; the assets it made (their thumbnails are due)."""
        owner = self.lib.owner_id
        touched: set[int] = set()
        cache: dict[str, int] = {}
        with self.lib.write(Changes(tags=True, albums=True, assets_added=True)) as s:
            journal.stamp(s)
            before = journal.mark(s)
            local, fresh_states = self._locals(s, owner, page.items)
            fresh_ids = insert_fresh(s, owner, fresh_states, cache, self.errors)
            if fresh_ids:
                self.lib.sync.put_setting(s, THUMBS_KEY, True)
            for st in fresh_states:
                self.pulled += sum(1 for v, c in st.fields.values() if c or v not in (None, False))
            touched.update(fresh_ids.values())
            known = fields.read(s, [a.id for a in local.values()])
            here = asset_files.with_originals(s, [a.id for a in local.values()])
            repush: list[tuple[int, str]] = []
            edited: dict[int, set[str]] = {}
            for state in page.items:
                if state.remote_id not in local:
                    continue
                asset = local[state.remote_id]
                if asset.id not in here and fields.refresh_info(asset, state.info):
                    touched.add(asset.id)  # read by the server since this library saw it
                mine_all = known[asset.id][2]
                for field, theirs in state.fields.items():
                    if not fields.is_synced(field):
                        continue
                    mine = mine_all.get(field, (False, "") if ":" in field else (None, ""))
                    if theirs[0] == mine[0] and theirs[1] == mine[1]:
                        continue
                    if fields.wins(theirs, mine):
                        try:
                            fields.write(s, asset, field, theirs[0], cache)
                        except ValueError as exc:
                            self.errors.append(f"{state.checksum[:12]} {field}: {exc}")
                            continue
                        if theirs[1]:
                            journal.set_clock(s, asset.id, field, theirs[1])
                        self.pulled += 1
                        touched.add(asset.id)
                        edited.setdefault(asset.id, set()).add(field)
                        if mine[1] and mine[0] != theirs[0]:
                            self.decisions.append(
                                Decision(state.checksum, field, "remote", theirs[0], mine[0])
                            )
                    else:  # ours is newer (or wins the tie): make sure it goes up
                        repush.append((asset.id, field))
                        if theirs[1] and mine[0] != theirs[0]:
                            self.decisions.append(
                                Decision(state.checksum, field, "local", mine[0], theirs[0])
                            )
            journal.observe(s, [c for st in page.items for _, c in st.fields.values()])
            fields.note_sidecars(s, edited)  # the XMP sidecars of local originals follow
            s.flush()
            journal.forget_since(s, before)  # what the server sent is not a local edit
            for asset_id, field in repush:
                sync_journal.add(s, owner, asset_id, field, clock.now_ms(), "-")
            self.lib.sync.put_setting(s, CURSOR_KEY, page.cursor)
            self.lib.sync.put_setting(s, SNAPSHOT_KEY, page.after)  # None: not in a snapshot
        if touched:
            self.lib.events.publish(Changes(assets=frozenset(touched)))
        return [_Fresh(fresh_ids[st.remote_id], st.checksum, st.remote_id) for st in fresh_states]

    def _locals(
        self, s: Any, owner: int, items: tuple[AssetState, ...]
    ) -> tuple[dict[int, Asset], list[AssetState]]:
        """This library's asset for each server asset (linked, or found by checksum and linked
        now), and the server assets this library has not got at all."""
        out: dict[int, Asset] = {}
        if not items:
            return out, []
        remote_ids = [st.remote_id for st in items]
        linked = sync_remote.linked(s, remote_ids)
        by_sum = {
            a.checksum: a for a in sync_fields.by_checksums(s, owner, [st.checksum for st in items])
        }
        rows = sync_fields.by_ids(s, list(linked.values()))
        fresh: list[AssetState] = []
        relink: list[tuple[AssetState, Asset]] = []
        for st in items:
            asset = rows.get(linked.get(st.remote_id, -1)) or by_sum.get(st.checksum)
            if asset is None:
                fresh.append(st)
                continue
            if st.remote_id not in linked:
                relink.append((st, asset))
            out[st.remote_id] = asset
        sync_remote.relink(
            s, [(a.id, st.remote_id, str(st.info.get("filename") or "")) for st, a in relink]
        )
        return out, fresh

    # -- thumbnails ------------------------------------------------------------------------
    def fetch_thumbnails(self) -> None:
        """Fetch the thumbnails of remote-only assets in batches: a second thread fetches and
        writes the next batches while this one records the last (the round's thread waits
        meanwhile: writing on it while the other reads costs more CPU than it saves time)."""
        if not self.lib.sync.setting(THUMBS_KEY, True):
            return  # none missing since the last look (a pull that makes assets sets it)
        with self.lib.read() as s:
            rows = sync_remote.without_thumbnail(s)
        missing = 0
        batches = [rows[k : k + THUMB_BATCH] for k in range(0, len(rows), THUMB_BATCH)]
        writer = _ThumbWriter(self.lib.thumbnails.thumb_file)
        marks: list[int] = []  # written, not recorded yet: recorded MARK_BATCH at a time
        with ThreadPoolExecutor(1, thread_name_prefix="sync-thumbs") as pool:
            ahead = deque(pool.submit(self._fetch_batch, writer, b) for b in batches[:AHEAD])
            for k, batch in enumerate(batches):
                done = ahead.popleft().result()
                if k + AHEAD < len(batches):
                    ahead.append(pool.submit(self._fetch_batch, writer, batches[k + AHEAD]))
                marks += done
                if len(marks) >= MARK_BATCH or k == len(batches) - 1:
                    self._mark_thumbs(marks)
                    marks = []
                self.thumbs += len(done)
                missing += len(batch) - len(done)
                self.progress("thumbnails", k * THUMB_BATCH + len(batch), len(rows))
        with self.lib.write() as s:
            self.lib.sync.put_setting(s, THUMBS_KEY, missing > 0)

    def _fetch_batch(self, writer: _ThumbWriter, batch: Sequence[Any]) -> list[int]:
        """Fetch and write one batch (on the second thread); the asset ids that have one now."""
        wanted = {r.remote_id: r for r in batch if not writer.exists(r.checksum)}
        got = self.remote.thumbnails(sorted(wanted)) if wanted else {}
        done = [r.id for r in batch if r.remote_id not in wanted]
        for remote_id, data in got.items():
            row = wanted.get(remote_id)
            if row is not None:
                writer.write(row.checksum, data)
                done.append(row.id)
        return done

    def _mark_thumbs(self, ids: list[int]) -> None:
        if ids:
            with self.lib.write(Changes(assets=frozenset(ids))) as s:
                sync_remote.mark_thumbnails(s, ids)

    # -- push ------------------------------------------------------------------------------
    def upload(self) -> int:
        """Upload the originals of assets the server does not have yet."""
        with self.lib.read() as s:
            rows = sync_journal.to_upload(s, self.lib.owner_id)
        for i, (asset_id, checksum, path) in enumerate(rows, 1):
            try:
                remote_id = self.remote.upload(Path(path), checksum)
            except RemoteRefused as exc:
                if exc.reason in ("auth", "quota"):
                    raise
                self.errors.append(f"upload of {Path(path).name}: {exc}")
                continue
            except OSError as exc:
                self.errors.append(f"upload of {Path(path).name}: {exc.strerror or exc}")
                continue
            with self.lib.write() as s:
                sync_remote.link_upload(s, asset_id, remote_id, Path(path).name)
                # everything about a new asset goes up, edited or not
                owner = self.lib.owner_id
                for field in fields.SCALAR_FIELDS:
                    sync_journal.add(s, owner, asset_id, field, clock.now_ms(), "-")
                for field in fields.read(s, [asset_id])[asset_id][2]:
                    if ":" in field:
                        sync_journal.add(s, owner, asset_id, field, clock.now_ms(), "-")
            self.uploaded += 1
            self.progress("upload", i, len(rows))
        return len(rows)

    def push(self) -> int:
        """Push the outbox: the current value and clock of every field written here."""
        owner = self.lib.owner_id
        with self.lib.read() as s:
            if not sync_journal.any_row(s):
                return 0  # an empty outbox: no request, no write
        with self.lib.write() as s:
            self.refused_shared = client_people.refuse_shared_edits(self, s)
        with self.lib.write() as s:
            journal.stamp(s)
            node = journal.node(s)
        with self.lib.read() as s:
            top = journal.head(s)
            pending = sync_journal.outbox(s, owner, top)
        pending = [p for p in pending if fields.is_synced(p.field)]
        sent = 0
        for start in range(0, len(pending), PUSH_BATCH):
            batch = pending[start : start + PUSH_BATCH]
            with self.lib.read() as s:
                states = fields.read(s, sorted({p.asset_id for p in batch}))
            mutations = []
            for p in batch:
                value, hlc = states[p.asset_id][2].get(p.field, (False, ""))
                mutations.append(
                    Mutation(mutation_id(node, p.asset_id, p.field, hlc), p.checksum, p.field,
                             value, hlc)
                )  # fmt: skip
            result = self.remote.push(mutations)
            self.decisions.extend(result.conflicts)
            self.errors.extend(result.errors)
            sent += len(mutations)
            self.pushed += result.applied
            with self.lib.write() as s:
                sync_journal.drop_sent(s, [(p.asset_id, p.field) for p in batch], top)
            self.progress("push", start + len(batch), len(pending))
        with self.lib.write() as s:  # upload markers of linked assets, rows of deleted ones
            sync_journal.drop_settled(s, top)
        return sent


class _Fresh(NamedTuple):
    """An asset a pull made here, as ``sync_remote.without_thumbnail`` lists one."""

    id: int
    checksum: str
    remote_id: int


class _ThumbPipe:
    """The thumbnails of the assets a pull makes, fetched and written on a second thread while
    the next pages are applied (a first sync: the server reads thumbnail files and this side
    writes them while the catalog takes the pages). Recorded by the round's thread between
    pages; a batch that fails stops the pipe, and ``fetch_thumbnails`` after the pull fetches
    what is still missing (and reports why)."""

    def __init__(self, round_: Round) -> None:
        self.round = round_
        self.writer = _ThumbWriter(round_.lib.thumbnails.thumb_file)
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="sync-thumbs")
        self.pending: deque[Future[list[int]]] = deque()
        self.stopped = False

    def __enter__(self) -> _ThumbPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:  # the pull failed: stop, keep what is written
            self._stop()
        with contextlib.suppress(Exception):  # the pull's own error is the one to report
            self.harvest(wait=True)
        self.pool.shutdown(wait=True)

    def submit(self, rows: list[_Fresh]) -> None:
        if self.stopped:
            return
        for k in range(0, len(rows), THUMB_BATCH):
            batch = rows[k : k + THUMB_BATCH]
            self.pending.append(self.pool.submit(self.round._fetch_batch, self.writer, batch))

    def harvest(self, *, wait: bool = False) -> None:
        """Record the thumbnails of the finished batches (``wait``: of every batch)."""
        done: list[int] = []
        while self.pending and (wait or self.pending[0].done()):
            future = self.pending.popleft()
            try:
                done += future.result()
            except Exception as exc:  # offline, refused, a full disk: fetch_thumbnails retries
                if not self.stopped:
                    log.info("thumbnails during the pull stopped: %s", exc)
                self._stop()
        if done:
            self.round._mark_thumbs(done)
            self.round.thumbs += len(done)

    def _stop(self) -> None:
        self.stopped = True
        for future in self.pending:
            future.cancel()


class _ThumbWriter:
    """Thumbnails written whole or not at all: a temporary file renamed into place (a cache: no
    fsync, a file lost to a crash is fetched again). A folder this writer made holds only what
    it wrote, so nothing is looked up in it: a first sync stats no file, and each folder once."""

    _FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)

    def __init__(self, path_of: Callable[[str], str]) -> None:
        self.path_of = path_of
        self.made: set[str] = set()  # folders this writer made
        self.found: set[str] = set()  # folders that were there before
        self.written: set[str] = set()  # checksums written into folders it made
        self.pid = os.getpid()

    def _made_here(self, folder: str) -> bool:
        """Make sure ``folder`` exists; True when this writer made it (it holds only what this
        writer wrote)."""
        if folder in self.made:
            return True
        if folder in self.found:
            return False
        try:
            os.mkdir(folder)
        except FileExistsError:
            self.found.add(folder)
            return False
        except FileNotFoundError:  # its parent is new too
            os.makedirs(folder, exist_ok=True)
        self.made.add(folder)
        return True

    def exists(self, checksum: str) -> bool:
        path = self.path_of(checksum)
        if self._made_here(os.path.dirname(path)):
            return checksum in self.written
        return os.path.isfile(path)

    def write(self, checksum: str, data: bytes) -> None:
        path = self.path_of(checksum)
        folder, name = os.path.split(path)
        self._made_here(folder)
        # named as the renderer names its temporary files: `photodesk check` and the crash
        # clean-up find what a killed sync left (".<stem>.<pid>.<tag>.tmp")
        tmp = os.path.join(folder, f".{name[:-4]}.{self.pid}.sync.tmp")
        fd = os.open(tmp, self._FLAGS, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # no half-written file stays behind, under any name
            raise
        os.close(fd)
        os.replace(tmp, path)
        self.written.add(checksum)
