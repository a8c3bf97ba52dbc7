"""``Library.sync``: pairing state, the server's feed and push, and a desktop's sync round."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import settings as setting_rows
from photodesk.core.catalog.db import sync_journal, sync_people, sync_remote
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.sync import (
    client_people,
    feed,
    journal,
    people_state,
    people_sync,
    retention,
    shared,
    vectors_sync,
)
from photodesk.core.sync.client import CURSOR_KEY, SNAPSHOT_KEY, THUMBS_KEY, Progress, Round
from photodesk.core.sync.offline import SETTINGS_KEY, SyncSettings
from photodesk.core.sync.ports import Remote, RemoteRefused
from photodesk.core.sync.types import (
    Decision,
    FeedPage,
    Mutation,
    Pairing,
    PeopleItem,
    PeoplePage,
    PushResult,
    SharedAlbumState,
    SyncProgress,
    SyncReport,
    SyncState,
    VectorItem,
    VectorPage,
)

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session
    from photodesk.core.library import Library
    from photodesk.core.sync.jobs import BackgroundSync

PAIRING_KEY = "sync.pairing"
WORKER_KEY = "sync.worker"  # True: this desktop works its server's ML jobs in the background
# What works the server's jobs here: called with a ``check`` that raises to stop; returns a report.
WorkerRunner = Callable[[Callable[[], object]], dict[str, Any]]
CONFLICTS_KEY = "sync.conflicts"
MAX_CONFLICTS = 200  # the latest decisions the app lists


class SyncService:
    def __init__(self, library: Library) -> None:
        self._lib = library
        self._remote_factory: Callable[[], Remote] | None = None
        self._worker_runner: WorkerRunner | None = None
        self.background: BackgroundSync | None = None
        self._progress: SyncProgress | None = None
        self._step_started = ("", 0.0)
        self._round_settings: _RoundSettings | None = None  # while a round runs (its thread)

    # -- the transport, plugged in by the composition root -------------------------------------
    def attach_remote(self, factory: Callable[[], Remote]) -> None:
        """How to reach the paired server (``photodesk.bootstrap`` gives the HTTP client)."""
        self._remote_factory = factory

    def attached_remote(self) -> Remote:
        if self._remote_factory is None:
            raise LookupError("no transport to the server is attached")
        return self._remote_factory()

    def attach_worker(self, runner: WorkerRunner) -> None:
        """How this desktop works its server's ML jobs (``photodesk.remote.assist``)."""
        self._worker_runner = runner

    def worker_allowed(self) -> bool:
        """Whether the user lets this desktop work its paired server's ML jobs."""
        return bool(self.setting(WORKER_KEY, False))

    def allow_worker(self, allowed: bool) -> None:
        """Turn working for the paired server on or off (a job is queued at once when on)."""
        if allowed and self.pairing() is None:
            raise NotFound("this library is not paired: `photodesk remote add URL` first")
        with self._lib.write() as s:
            self.put_setting(s, WORKER_KEY, bool(allowed))
        if allowed:
            from photodesk.core.jobs.kinds import JobName

            self._lib.jobs.enqueue(JobName.ASSIST_SERVER)

    def work_for_server(self, check: Callable[[], object]) -> dict[str, Any]:
        """Work the server's waiting ML jobs here until none is left (the ``assist.server``
        job); skipped when not paired, not allowed, or no runner is attached."""
        if self.pairing() is None:
            return {"skipped": "not paired"}
        if not self.worker_allowed():
            return {"skipped": "not allowed"}
        if self._worker_runner is None:
            return {"skipped": "no worker attached"}
        return self._worker_runner(check)

    def run_attached(self, progress: Progress | None = None) -> SyncReport:
        """A round over the attached transport; a refused or missing key is a reported error."""
        try:
            remote = self.attached_remote()
        except RemoteRefused as exc:
            self.record(last_error=f"{exc.reason}: {exc}")
            return SyncReport(errors=(f"{exc.reason}: {exc}",))
        return self.run(remote, progress)

    def start_background(self, *, interval_s: float | None = None) -> BackgroundSync:
        """Queue sync rounds while the library is open (the desktop app); stop with the app."""
        if self.background is None:
            from photodesk.core.sync.jobs import INTERVAL_S, BackgroundSync

            self.background = BackgroundSync(self._lib, interval_s=interval_s or INTERVAL_S)
            self.background.start()
        return self.background

    def stop_background(self) -> None:
        if self.background is not None:
            self.background.stop()
            self.background = None

    def cursor(self) -> int:
        return int(self.setting(CURSOR_KEY, 0) or 0)

    # -- settings ----------------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        cache = self._round_settings
        if cache is not None and cache.thread == threading.get_ident():
            return cache.get(self._lib, key, default)
        with self._lib.read() as s:
            return setting_rows.read(s, [key]).get(key, default)

    def put_setting(self, s: Session, key: str, value: Any) -> None:
        setting_rows.put(s, key, value)
        cache = self._round_settings
        if cache is not None:
            cache.stale.add(key)  # read from the catalog again (once the write is committed)

    # -- server side -------------------------------------------------------------------------
    def changes(
        self,
        user_id: int,
        cursor: int,
        limit: int,
        *,
        after: int | None = None,
        device: str | None = None,
    ) -> FeedPage:
        """A page of the asset feed (or of a snapshot), with the people and embeddings feeds'
        heads (a device asks those only when they moved)."""
        page = feed.changes(self._lib, user_id, cursor, limit, after=after, device=device)
        with self._lib.read() as s:  # one session: a device's idle round asks only this
            heads = {
                "people": people_sync.head(s, user_id),
                "embeddings": vectors_sync.head(s),
                "shared": shared.version(s, user_id),
            }
        return replace(page, heads=heads)

    def trim(self, *, horizon_days: float = retention.RETENTION_DAYS) -> retention.TrimReport:
        """Trim the journal: rows every device has read, rows older than the horizon."""
        return retention.trim(self._lib, horizon_days=horizon_days)

    def shared(self, user_id: int) -> tuple[list[SharedAlbumState], int]:
        """Every album others shared with the account, whole, and its version."""
        with self._lib.read() as s:
            return shared.snapshot(s, user_id), shared.version(s, user_id)

    def head(self, user_id: int) -> int:
        return feed.head(self._lib, user_id)

    def moved(self, user_id: int, cursor: int, known: dict[str, int]) -> bool:
        """Whether a device that has the feed up to ``cursor`` and ``known`` of the other feeds
        (``people``: its people cursor, ``shared``: the shared albums' version) lacks something:
        what wakes a long poll (docs/sync.md, "In the background")."""
        if feed.head(self._lib, user_id) > cursor:
            return True
        with self._lib.read() as s:
            if "people" in known and people_sync.head(s, user_id) > known["people"]:
                return True
            return "shared" in known and shared.version(s, user_id) != known["shared"]

    def apply(self, user_id: int, mutations: Sequence[Mutation]) -> PushResult:
        return feed.apply(self._lib, user_id, mutations)

    # -- server side: people and embeddings (docs/sync.md, "People") -----------------------
    def people_head(self, user_id: int) -> int:
        with self._lib.read() as s:
            return people_sync.head(s, user_id)

    def people_changes(self, user_id: int, cursor: int, limit: int) -> PeoplePage:
        """The account's people and faces written after ``cursor``, each whole."""
        with self._lib.read() as s:
            pending = sync_people.any_unstamped(s)
        if pending:
            with self._lib.write() as s:
                people_state.stamp(s)
        with self._lib.read() as s:
            return people_sync.feed(s, user_id, cursor, limit)

    def people_apply(self, user_id: int, items: Sequence[PeopleItem]) -> PushResult:
        """A device's people and faces: each field kept where it beats the server's."""
        if len(items) > people_sync.MAX_PAGE:
            raise ValueError(f"at most {people_sync.MAX_PAGE} people and faces per push")
        with self._lib.write(Changes(people=True)) as s:
            done = people_sync.apply(s, user_id, items, sender="device", log=True)
        if done.assets:
            self._lib.events.publish(Changes(people=True, assets=frozenset(done.assets)))
        return PushResult(done.applied, done.skipped, tuple(done.decisions), tuple(done.errors))

    def embeddings_head(self) -> int:
        with self._lib.read() as s:
            return vectors_sync.head(s)

    def embeddings(self, user_id: int, after: int, limit: int) -> VectorPage:
        with self._lib.read() as s:
            return vectors_sync.page(s, user_id, after, limit)

    def store_embeddings(self, user_id: int, items: Sequence[VectorItem]) -> PushResult:
        """A device's CLIP embeddings of the account's assets that the server lacks."""
        if len(items) > vectors_sync.MAX_PAGE:
            raise ValueError(f"at most {vectors_sync.MAX_PAGE} embeddings per push")
        with self._lib.write() as s:
            stored, skipped, errors = vectors_sync.store(s, user_id, items)
        return PushResult(stored, skipped, (), tuple(errors))

    def thumbnail_sources(
        self, user_id: int, ids: Sequence[int]
    ) -> list[tuple[int, str, str, str, str, int | None]]:
        """(id, checksum, original path, file type, kind, orientation) of the user's own assets
        and those of albums shared with them."""
        with self._lib.read() as s:
            return sync_remote.thumbnail_sources(s, user_id, ids)

    # -- desktop side ------------------------------------------------------------------------
    def pairing(self) -> Pairing | None:
        cache = self._round_settings
        if cache is not None and cache.thread == threading.get_ident():
            data, cursor = cache.get(self._lib, PAIRING_KEY), cache.get(self._lib, CURSOR_KEY)
        else:
            with self._lib.read() as s:  # one statement
                found = setting_rows.read(s, [PAIRING_KEY, CURSOR_KEY])
            data, cursor = found.get(PAIRING_KEY), found.get(CURSOR_KEY)
        if not isinstance(data, dict):
            return None
        return Pairing(**{**data, "cursor": int(cursor or 0)})

    def pair(
        self, url: str, user_id: int, email: str, name: str, device: str, **extra: Any
    ) -> Pairing:
        """Pair this library with a server account: its owner becomes that account."""
        if self.pairing() is not None:
            raise Conflict("this library is paired already: `photodesk remote remove` first")
        with self._lib.write() as s:
            owner = self._lib.owner_id
            if not sync_remote.take_account(s, owner, email, name):
                raise Conflict(f"{email} is another user of this library already")
            pairing = Pairing(
                url=url, user_id=user_id, email=email, name=name, device=device,
                device_id=journal.node(s), paired_at=datetime.now().isoformat(timespec="seconds"),
                extra=dict(extra),
            )  # fmt: skip
            self._save(s, pairing)
            self.put_setting(s, CURSOR_KEY, 0)
            self.put_setting(s, SNAPSHOT_KEY, None)
            journal.stamp(s)  # edits made before pairing keep the time they were made
            # every photo here is new to the server until a round finds or uploads it
            sync_journal.log_every_asset(s, owner)
            people_state.log_all(s, owner)  # and every person and face
        return pairing

    def _save(self, s: Session, pairing: Pairing) -> None:
        data = asdict(pairing)
        data.pop("cursor")
        self.put_setting(s, PAIRING_KEY, data)

    def unpair(self) -> None:
        """Forget the server: links and cursor go; photos, edits and the journal stay."""
        with self._lib.write() as s:
            keys = (PAIRING_KEY, CURSOR_KEY, SNAPSHOT_KEY, WORKER_KEY, *client_people.CURSORS)
            setting_rows.remove(s, keys)
            sync_remote.unlink_all(s)

    def record(self, *, last_sync: str | None = None, last_error: str | None = None) -> None:
        current = self.pairing()
        if current is None:
            return
        updated = replace(current, last_error=last_error)
        if last_sync is not None:
            updated = replace(updated, last_sync=last_sync)
        with self._lib.write() as s:
            self._save(s, updated)

    def pending(self) -> int:
        """Local writes waiting to go to the server (people and faces too), and originals not
        uploaded yet."""
        owner = self._lib.owner_id
        with self._lib.read() as s:
            return sync_journal.pending_writes(s, owner) + sync_people.pending(s, owner)

    def remote_id(self, asset_id: int) -> int | None:
        with self._lib.read() as s:
            link = sync_remote.link(s, asset_id)
            return None if link is None else link[0]

    def original_name(self, asset_id: int) -> str | None:
        with self._lib.read() as s:
            link = sync_remote.link(s, asset_id)
            return Path(link[1]).name if link is not None and link[1] else None

    def attach_original(self, asset_id: int, path: Path) -> None:
        """A downloaded original becomes the asset's file (it is no longer remote-only)."""
        stat = path.stat()
        with self._lib.write(Changes(assets=frozenset({asset_id}))) as s:
            if not sync_remote.attach_original(
                s, asset_id, str(path), stat.st_size, stat.st_mtime_ns
            ):
                raise NotFound(f"no asset with id {asset_id}")

    # -- what of remote-only assets comes here (photodesk.core.sync.offline) ------------------
    def settings(self) -> SyncSettings:
        return SyncSettings.from_json(self.setting(SETTINGS_KEY))

    def set_settings(
        self, *, previews: str | None = None, originals: str | None = None,
        offline_albums: Sequence[str] | None = None,
    ) -> SyncSettings:  # fmt: skip
        """Change some of the settings (None: keep); answers all of them."""
        now = self.settings()
        new = SyncSettings(
            previews if previews is not None else now.previews,
            originals if originals is not None else now.originals,
            tuple(offline_albums) if offline_albums is not None else now.offline_albums,
        ).checked()
        with self._lib.write() as s:
            self.put_setting(s, SETTINGS_KEY, new.as_json())
        return new

    def fetch_original(self, asset_id: int) -> Path:
        """Download a remote-only original over the attached transport (never on a GUI thread)."""
        from photodesk.core.sync import offline

        return offline.fetch_original(self._lib, self.attached_remote(), asset_id)

    def fetch_preview(self, asset_id: int) -> Path | None:
        """The server's preview of a remote-only asset, cached (previews on demand)."""
        from photodesk.core.sync import offline

        return offline.fetch_preview(self._lib, self.attached_remote(), asset_id)

    def is_remote_only(self, asset_id: int) -> bool:
        with self._lib.read() as s:
            return (
                not sync_remote.has_file(s, asset_id) and sync_remote.link(s, asset_id) is not None
            )

    # -- progress and decisions, for the app -----------------------------------------------
    def progress(self) -> SyncProgress | None:
        """Where the running round is (None: no round running in this process)."""
        return self._progress

    def _track(self, progress: Progress | None) -> Progress:
        import time

        def track(step: str, done: int, total: int) -> None:
            now = time.monotonic()
            if step != self._step_started[0]:
                self._step_started = (step, now)
            elapsed = now - self._step_started[1]
            rate = done / elapsed if elapsed > 0.2 else 0.0
            eta = (total - done) / rate if rate > 0 and total > done else None
            self._progress = SyncProgress(step, done, total, rate, eta)
            if progress is not None:
                progress(step, done, total)

        return track

    def conflicts(self) -> list[Decision]:
        """The latest decisions of rounds (newest first), as ``sync --json`` reported them."""
        rows = self.setting(CONFLICTS_KEY) or []
        return [Decision(**row) for row in rows if isinstance(row, dict)]

    def state(self) -> SyncState | None:
        """The pairing's state for a status bar (None: not paired)."""
        pairing = self.pairing()
        if pairing is None:
            return None
        running = self._progress is not None or any(
            q.name == "sync" and q.running for q in self._lib.jobs.status()
        )
        pending = self.pending()
        error = pairing.last_error
        if running:
            state = "syncing"
        elif error and error.startswith("offline"):
            state = "offline"
        elif error:
            state = "error"
        else:
            state = "pending" if pending else "synced"
        progress = self._progress if running else None
        return SyncState(
            state, pairing.url, pairing.email, pairing.last_sync, pending, error, progress
        )

    def run(self, remote: Remote, progress: Progress | None = None) -> SyncReport:
        """One full round with the paired server (see photodesk.core.sync.client)."""
        self._round_settings = _RoundSettings(self._lib)
        try:
            return self._run(remote, progress)
        finally:
            self._round_settings = None

    def _run(self, remote: Remote, progress: Progress | None) -> SyncReport:
        if self.pairing() is None:
            raise InvalidInput("this library is not paired: `photodesk remote add URL` first")
        from photodesk.core.sync import offline as extras

        track = self._track(progress)
        self._progress, self._step_started = None, ("", 0.0)
        try:
            report = Round(self._lib, remote, track).run()
            if not report.errors:
                originals, previews, errors = extras.after_round(self._lib, remote, track)
                report = replace(
                    report, originals=originals, previews=previews, errors=tuple(errors)
                )
        finally:
            self._progress = None
        if report.conflicts:  # one decision may be reported by the pull and by the push
            # (the pull says "local", the server's answer "device": the same side)
            kept = list({
                json.dumps([c.checksum, c.field, c.kept, c.dropped], default=str): c.as_json()
                for c in reversed(report.conflicts)
            }.values())  # fmt: skip
            with self._lib.write() as s:
                old = self.setting(CONFLICTS_KEY) or []
                self.put_setting(s, CONFLICTS_KEY, (kept + list(old))[:MAX_CONFLICTS])
        now = datetime.now().isoformat(timespec="seconds")
        error = report.errors[0] if report.errors else None
        offline = error is not None and error.startswith("offline")
        self.record(last_sync=None if offline else now, last_error=error)
        return report


# The settings a round reads, read in one statement when it starts (an idle round asks for a
# dozen of them); the rest are read when first asked for.
ROUND_KEYS = (
    PAIRING_KEY, CURSOR_KEY, SNAPSHOT_KEY, THUMBS_KEY, SETTINGS_KEY, client_people.PEOPLE_CURSOR,
    client_people.VECTORS_CURSOR, client_people.VECTORS_PUSHED, client_people.VECTORS_WAITING,
    shared.VERSION_KEY, shared.ALBUMS_KEY, shared.MEMBERS_KEY,
)  # fmt: skip


class _RoundSettings:
    """The settings of one round, read once, for the thread that runs it. A key written during
    the round (``put_setting``) is stale: it is read from the catalog from then on, as before,
    so a round sees its own committed writes and nothing uncommitted."""

    def __init__(self, lib: Library) -> None:
        self.thread = threading.get_ident()
        self.stale: set[str] = set()
        with lib.read() as s:
            self.values: dict[str, Any] = setting_rows.read(s, ROUND_KEYS)
        self.known = set(ROUND_KEYS)  # keys whose absence from ``values`` means "not stored"

    def get(self, lib: Library, key: str, default: Any = None) -> Any:
        if key in self.stale or key not in self.known:
            with lib.read() as s:
                found = setting_rows.read(s, [key])
            if key not in self.stale:
                self.values.update(found)
                self.known.add(key)
            return found.get(key, default)
        return self.values.get(key, default)
