"""The desktop as a worker of its paired server: the ``assist.server`` job's runner.

When the user allows it (Server dialog, ``photodesk remote worker on``), the desktop's job engine
runs ``assist.server`` jobs (queue ``assist``, on an engine thread, never the GUI's): each works
the server's waiting ``clip`` and ``faces`` jobs with the desktop's own models (loaded by the
composition root on the best onnxruntime provider there is) until none waits, then ends; the
background sync queues the next a minute later. The worker token comes from
``POST /api/workers/enroll`` with the device key (the paired account must be an administrator)
and is kept beside the device key (keyring or a 0600 file), never in the catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from photodesk.core import Library, Models
from photodesk.core.sync import RemoteRefused, RemoteUnavailable
from photodesk.remote import credentials
from photodesk.remote.pairing import WORKER_SLOT, remote_for
from photodesk.remote.worker import RemoteWorker, WorkerError

log = logging.getLogger(__name__)


def _token(lib: Library, *, fresh: bool = False) -> str:
    pairing, remote = remote_for(lib)
    where = str(pairing.extra.get("keys", "file"))
    token = None if fresh else credentials.load(lib.root, pairing.url, where, slot=WORKER_SLOT)
    if token:
        return token
    name = "desktop-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in pairing.device)
    data = remote._json("POST", "/api/workers/enroll", {"name": name[:100]})
    token = str(data["token"])
    credentials.save(lib.root, pairing.url, token, slot=WORKER_SLOT)
    return token


def work(lib: Library, check: Callable[[], object]) -> dict[str, Any]:
    """Work the paired server's waiting ML jobs here until none is left; a report."""
    models = Models(
        image=lib.ml.image() if lib.ml.attached else None,
        faces=lib.ml.faces() if lib.ml.attached else None,
        missing=lib.ml.missing() if lib.ml.attached else ("ML is turned off here",),
    )
    pairing = lib.sync.pairing()
    if pairing is None:
        return {"skipped": "not paired"}
    try:
        token = _token(lib)
        for attempt in (1, 2):
            worker = RemoteWorker(pairing.url, token, models)
            try:
                stats = worker.run(until_idle=True, check=check)
                return {"done": stats.done, "failed": stats.failed, "by_kind": stats.by_kind}
            except WorkerError as exc:
                if "refused this worker's token" not in str(exc) or attempt == 2:
                    raise
                token = _token(lib, fresh=True)  # revoked on the server: enroll again
    except (WorkerError, RemoteRefused, RemoteUnavailable) as exc:
        log.info("working for %s: %s", pairing.url, exc)
        return {"error": str(exc)}
    return {"done": 0}
