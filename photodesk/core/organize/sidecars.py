"""XMP write-back and read-back (``lib.xmp``), and the ``xmp.write`` / ``xmp.read`` job kinds.

Every edit photodesk makes to what a sidecar carries (tags, rating, title, description, date,
location, named faces) calls ``note_edit`` inside its own write transaction: the edit time is
recorded per field and an ``xmp.write`` job is queued in the same commit, so a crash never loses
a pending write-back. The job edits the sidecar in place (``media.metadata.xmp_write``) and
records its size, mtime and SHA-1, so the watcher knows the new file is photodesk's own write.
A sidecar changed by another app is re-read (``xmp.read``) and merged, the newer side winning
per field (``media.metadata.xmp_merge``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import asset_state, settings, tags
from photodesk.core.catalog.db import jobs as jobs_repo
from photodesk.core.catalog.db import xmp as repo
from photodesk.core.catalog.db.places import place_id_for
from photodesk.core.catalog.db.tags import ensure_tag
from photodesk.core.catalog.errors import CorruptFile, InvalidInput, UnsupportedFormat
from photodesk.core.catalog.events import Changes
from photodesk.core.jobs.engine import REGISTRY, JobContext, PermanentJobError
from photodesk.core.jobs.kinds import JobName
from photodesk.core.media.metadata import read_sidecar
from photodesk.core.media.metadata.xmp_merge import merge, sidecar_snapshot
from photodesk.core.media.metadata.xmp_write import render_sidecar, write_atomic
from photodesk.core.organize.regions import add_region_faces
from photodesk.core.organize.sidecar_state import SidecarState, load_state, sidecar_target

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session, Store
    from photodesk.core.jobs.service import JobService
    from photodesk.core.media.thumbnails import ThumbnailStore
    from photodesk.core.organize.assets import AssetService

log = logging.getLogger(__name__)

MODE_KEY = "metadata.write_xmp"
MODES = ("sidecar", "off", "embedded")
DEFAULT_MODE = "sidecar"
WRITE_JOB, READ_JOB = JobName.XMP_WRITE, JobName.XMP_READ
# One sidecar is read-modify-written by one thread at a time (striped by asset id).
_LOCKS = tuple(threading.Lock() for _ in range(64))


def _lock(asset_id: int) -> threading.Lock:
    return _LOCKS[asset_id % len(_LOCKS)]


def mode_of(s: Session) -> str:
    value = settings.get(s, MODE_KEY)
    return value if isinstance(value, str) and value in MODES else DEFAULT_MODE


def note_edit(s: Session, asset_ids: Iterable[int], fields: Iterable[str]) -> None:
    """Inside an edit's transaction: remember what was edited when, and queue the write-back."""
    ids = sorted({int(i) for i in asset_ids})
    if not ids:
        return
    now = datetime.now().isoformat()
    wanted = list(fields)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = repo.states(s, chunk)
        for asset_id, _, state in rows:
            state = dict(state or {})
            state["edited"] = {**(state.get("edited") or {}), **{f: now for f in wanted}}
            repo.set_state(s, asset_id, state)
        if mode_of(s) == "off":
            continue
        queued = repo.queued_targets(s, WRITE_JOB, [str(i) for i in chunk])
        for asset_id, owner_id, _ in rows:
            if str(asset_id) not in queued:
                _enqueue(s, WRITE_JOB, asset_id, owner_id)


def _enqueue(s: Session, kind: str, asset_id: int, owner_id: int) -> None:
    spec = REGISTRY[kind]
    jobs_repo.enqueue(
        s,
        kind=kind,
        queue=spec.queue,
        target=str(asset_id),
        payload=None,
        owner_id=owner_id,
        max_attempts=spec.max_attempts,
        dedupe=False,
    )


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _record_sidecar(
    s: Session, asset_id: int, path: Path, size: int, mtime_ns: int, sha1: str
) -> None:
    """Point the asset's sidecar row at ``path`` with this stat and checksum."""
    repo.record_sidecar(s, asset_id, os.fspath(path), size, mtime_ns, sha1)


# ----- writing -------------------------------------------------------------------------------
def write_asset(
    store: Store, thumbnails: ThumbnailStore, asset_id: int, *, force: bool = False
) -> str:
    """Write the asset's sidecar now; returns what happened (written, unchanged, skipped: why)."""
    with _lock(asset_id):
        with store.read() as s:
            mode = mode_of(s)
            if mode == "off" and not force:
                return "skipped: write-back is off"
            st = load_state(s, asset_id)
            target = sidecar_target(s, st)
        if target is None:  # e.g. a paired server's photo whose original is not fetched
            return "skipped: no original file here"
        if st.offline or (st.original and not os.path.exists(st.original)):
            raise PermanentJobError(f"the file of asset {asset_id} is offline")
        existing = _read_bytes(target)
        if existing is None and not st.says_anything():
            return "skipped: nothing to write"
        try:
            data = render_sidecar(existing, st.values())
        except CorruptFile as exc:
            raise PermanentJobError(f"{target}: {exc} (left as it is)") from exc
        if data != existing:
            stat = write_atomic(target, data)
            outcome = "written"
        else:
            stat = target.stat()
            outcome = "unchanged"
        state = {"synced": st.snapshot(), "edited": st.edited}
        with store.write(Changes(assets=frozenset({asset_id}))) as s:
            _record_sidecar(s, asset_id, target, stat.st_size, stat.st_mtime_ns, _sha1(data))
            repo.set_state(s, asset_id, state, written_at=datetime.now())
        if mode == "embedded" and st.original:
            from photodesk.core.organize.embedded import EmbedError, embed_sidecar

            try:
                outcome += embed_sidecar(store, thumbnails, st, target)
            except (EmbedError, OSError, subprocess.TimeoutExpired) as exc:
                raise PermanentJobError(f"sidecar {outcome}, not embedded: {exc}") from exc
        return outcome


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PermanentJobError(f"cannot read {path}: {exc.strerror or exc}") from exc


# ----- reading and merging -------------------------------------------------------------------
def read_asset(store: Store, asset_id: int) -> dict[str, Any]:
    """Re-read the asset's sidecar and merge it: per field, the newer side wins."""
    with _lock(asset_id):
        with store.read() as s:
            st = load_state(s, asset_id)
            path = sidecar_target(s, st)
        if path is None or not path.is_file():
            return {"asset": asset_id, "read": False}
        try:
            data = path.read_bytes()
            stat = path.stat()
            sc = read_sidecar(path)
        except (CorruptFile, UnsupportedFormat) as exc:
            raise PermanentJobError(f"{path}: {exc}") from exc
        mtime = datetime.fromtimestamp(stat.st_mtime)
        theirs, ours = sidecar_snapshot(sc), st.snapshot()
        take, keep = merge(theirs, ours, st.synced, st.edited, mtime)
        place = _geocode(sc.latitude, sc.longitude) if "location" in take else None
        synced = {f: (theirs[f] if f in take else ours[f]) for f in ours}
        if "faces" in take:
            known = {n.casefold() for n in ours["faces"]}
            added = [n for n in theirs["faces"] if n.casefold() not in known]
            synced["faces"] = ours["faces"] + added
        changes = Changes(
            assets=frozenset({asset_id}), tags="keywords" in take, people="faces" in take
        )
        with store.write(changes) as s:
            _apply(s, st, sc, take, place)
            _record_sidecar(s, asset_id, path, stat.st_size, stat.st_mtime_ns, _sha1(data))
            state = {"synced": synced, "edited": st.edited}
            repo.set_state(s, asset_id, state)
            if keep & st.values().fields and mode_of(s) != "off":
                _enqueue(s, WRITE_JOB, asset_id, st.owner_id)  # the sidecar lags: catch it up
        return {"asset": asset_id, "from_sidecar": sorted(take), "kept": sorted(keep)}


def _geocode(lat: float | None, lon: float | None) -> Any:
    if lat is None or lon is None:
        return None
    from photodesk.core.media.places import reverse_geocode

    try:
        return reverse_geocode([(lat, lon)])[0]
    except Exception:  # a place name is a nicety
        log.exception("reverse geocoding failed")
        return None


def _apply(s: Session, st: SidecarState, sc: Any, take: set[str], place: Any) -> None:
    values: dict[str, object] = {}
    if "rating" in take:
        values["rating"] = max(0, min(5, sc.rating or 0))
    if "title" in take:
        values["title"] = sc.title
    if "description" in take:
        values["description"] = sc.description
    if "date" in take and sc.taken_at is not None:
        t = sc.taken_at
        values.update(
            taken_at=t,
            taken_offset=sc.taken_at_offset,
            taken_at_source="xmp-sidecar",
            taken_month=t.year * 100 + t.month,
        )
    if "location" in take:
        values.update(latitude=sc.latitude, longitude=sc.longitude, altitude=sc.altitude)
        values["place_id"] = place_id_for(s, place) if place is not None else None
    if values:
        values["updated_at"] = datetime.now()
        asset_state.set_many(s, [st.asset_id], values)
    if "keywords" in take:
        wanted = {ensure_tag(s, st.owner_id, k) for k in sc.keywords if k}
        have = tags.tag_ids_of(s, st.asset_id)
        if have - wanted:
            tags.untag(s, sorted(have - wanted), [st.asset_id])
        for tag_id in wanted - have:
            tags.add_tagging(s, tag_id, [st.asset_id])
    if "faces" in take:
        add_region_faces(s, st.owner_id, st.asset_id, sc.faces)


# ----- the service ---------------------------------------------------------------------------
class XmpService:
    """``lib.xmp``: the write-back setting, forced passes, and sidecars changed elsewhere."""

    def __init__(
        self, store: Store, assets: AssetService, jobs: JobService, thumbnails: ThumbnailStore
    ) -> None:
        self._store = store
        self._assets = assets
        self._jobs = jobs
        self._thumbnails = thumbnails

    def mode(self) -> str:
        with self._store.read() as s:
            return mode_of(s)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise InvalidInput(f"metadata.write_xmp is one of {', '.join(MODES)}, not {mode!r}")
        with self._store.write() as s:
            settings.put(s, MODE_KEY, mode)

    def _targets(self, ids: Iterable[int] | None) -> list[int]:
        if ids is None:
            with self._store.read() as s:
                return repo.online_assets(s, self._store.owner_id)
        return self._assets.owned(ids)

    def write(self, ids: Iterable[int] | None = None) -> dict[int, str]:
        """Write the sidecars of ``ids`` (None: every asset) now, whatever the setting."""
        out: dict[int, str] = {}
        for asset_id in self._targets(ids):
            try:
                out[asset_id] = write_asset(self._store, self._thumbnails, asset_id, force=True)
            except PermanentJobError as exc:
                out[asset_id] = f"failed: {exc}"
        return out

    def read(self, ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
        """Re-read and merge the sidecars of ``ids`` (None: every asset) now."""
        out: dict[int, dict[str, Any]] = {}
        for asset_id in self._targets(ids):
            try:
                out[asset_id] = read_asset(self._store, asset_id)
            except PermanentJobError as exc:
                out[asset_id] = {"asset": asset_id, "error": str(exc)}
        return out

    def flush(self) -> int:
        """Run the queued write-backs now, on this thread (the command line after an edit)."""
        with self._store.read() as s:
            ids = repo.queued_jobs(s, (WRITE_JOB, READ_JOB), self._store.owner_id)
        done = 0
        for job_id in ids:
            try:
                self._jobs.run(job_id)
                done += 1
            except InvalidInput:  # a running engine took it first
                continue
        return done

    def sidecars_changed(self, paths: Iterable[str]) -> int:
        """Sidecars the watcher saw change: queue a read of each one another app wrote.

        A file with the size, mtime or SHA-1 photodesk recorded for its own write is not queued
        (no write -> event -> read -> write loop). Returns how many were queued.
        """
        wanted = [os.path.abspath(p) for p in paths]
        queued = 0
        with self._store.read() as s:
            rows = repo.sidecar_files(s, self._store.owner_id, wanted)
        changed: list[tuple[int, int, str, int, int]] = []
        for path, asset_id, size, mtime_ns, checksum, owner in rows:
            try:
                st = os.stat(path)
                if (st.st_size, st.st_mtime_ns) == (size, mtime_ns):
                    continue
                with open(path, "rb") as fh:
                    digest = _sha1(fh.read())
            except OSError:
                continue
            if digest == checksum:  # our own write (or a touch): just note the new stat
                changed.append((asset_id, owner, path, st.st_size, st.st_mtime_ns))
                continue
            changed.append((asset_id, owner, "", 0, 0))
        if not changed:
            return 0
        with self._store.write(Changes(jobs=True)) as s:
            for asset_id, owner, path, size, mtime_ns in changed:
                if path:
                    repo.set_file_stat(s, path, size, mtime_ns)
                else:
                    _enqueue(s, READ_JOB, asset_id, owner)
                    queued += 1
        return queued


def _target(ctx: JobContext) -> int:
    if ctx.target is None or not ctx.target.isdigit():
        raise PermanentJobError(f"bad asset id {ctx.target!r}")
    return int(ctx.target)


def write_xmp(store: Store, thumbnails: ThumbnailStore, ctx: JobContext) -> dict[str, Any]:
    """Write an asset's XMP sidecar after an edit (``metadata.write_xmp``: sidecar, embedded)."""
    asset_id = _target(ctx)
    try:
        return {"asset": asset_id, "outcome": write_asset(store, thumbnails, asset_id)}
    except FileNotFoundError as exc:  # the asset went away meanwhile
        raise PermanentJobError(str(exc)) from exc


def read_xmp(store: Store, ctx: JobContext) -> dict[str, Any]:
    """Merge a sidecar another app changed into the catalog (the newer side wins per field)."""
    return read_asset(store, _target(ctx))
