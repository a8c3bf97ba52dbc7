"""``photodesk worker``: take a server's ``clip`` and ``faces`` jobs over HTTP and run them here.

The worker needs no access to the server's disks: per job it downloads the asset's preview,
runs the same models the server would (its own copy, on the best onnxruntime provider it
has), and posts the vectors back. A thread beats for the job while it runs; if the worker
dies, the server gives the job to another worker once the beats stop.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photodesk.core import REMOTE_QUEUES, Models

log = logging.getLogger(__name__)

HEADER = "X-Worker-Token"
BEAT_SECONDS = 15.0
TIMEOUT = 120.0


class WorkerError(Exception):
    """The server refused the worker (bad token, unreachable): one line for the user."""


@dataclass
class WorkerStats:
    done: int = 0
    failed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class _Gone(Exception):
    """The server took the job back (409): drop it and claim the next."""


class RemoteWorker:
    def __init__(
        self, server: str, token: str, models: Models, queues: list[str] | None = None
    ) -> None:
        self.server = server.rstrip("/")
        self.token = token.strip()
        self.models = models
        self.queues = self._usable(queues or list(REMOTE_QUEUES))
        self.stop = threading.Event()

    def _usable(self, queues: list[str]) -> list[str]:
        unknown = [q for q in queues if q not in REMOTE_QUEUES]
        if unknown:
            served = ", ".join(REMOTE_QUEUES)
            raise WorkerError(f"unknown queue {unknown[0]!r} (workers serve {served})")
        have = {"clip": self.models.image, "faces": self.models.faces}
        usable = [q for q in queues if have[q] is not None]
        if not usable:
            notes = "; ".join(self.models.missing) or "no models"
            raise WorkerError(f"no model here for {', '.join(queues)}: {notes}")
        for q in queues:
            if q not in usable:
                log.warning("not serving %s: no model here", q)
        return usable

    # ----- HTTP -------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header(HEADER, self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            if exc.code == 401:
                raise WorkerError("the server refused this worker's token") from exc
            if exc.code in (404, 409):
                raise _Gone(payload.decode(errors="replace")) from exc
            message = payload.decode(errors="replace")[:300]
            raise WorkerError(f"{method} {path}: HTTP {exc.code}: {message}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WorkerError(f"cannot reach {self.server}: {reason}") from exc

    # ----- the loop ---------------------------------------------------------------------------
    def run(self, *, until_idle: bool = False, poll: float = 2.0) -> WorkerStats:
        """Work jobs until ``stop`` is set (or, with ``until_idle``, none is waiting)."""
        stats = WorkerStats()
        while not self.stop.is_set():
            status, raw = self._call("POST", "/api/workers/claim", {"queues": self.queues})
            if status == 204 or not raw:
                if until_idle:
                    return stats
                self.stop.wait(poll)
                continue
            job = json.loads(raw)["job"]
            ok = self._work(job)
            stats.done += ok
            stats.failed += not ok
            stats.by_kind[job["kind"]] = stats.by_kind.get(job["kind"], 0) + int(ok)
        return stats

    def _work(self, job: dict[str, Any]) -> bool:
        job_id, kind = int(job["id"]), str(job["kind"])
        beating = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job_id, beating), daemon=True)
        beat.start()
        try:
            with tempfile.TemporaryDirectory(prefix="photodesk-worker-") as tmp:
                _, image = self._call("GET", f"/api/workers/jobs/{job_id}/preview")
                path = Path(tmp) / f"{job['assetId']}.jpg"
                path.write_bytes(image)
                result = self._analyse(kind, str(path))
            self._call("POST", f"/api/workers/jobs/{job_id}/result", result)
            log.info("job %s (%s, asset %s) done", job_id, kind, job["assetId"])
            return True
        except _Gone as exc:
            log.warning("job %s was taken back: %s", job_id, exc)
            return False
        except WorkerError:
            raise
        except Exception as exc:  # the analysis failed: the server retries it (maybe elsewhere)
            log.warning("job %s failed: %s", job_id, exc)
            try:
                self._call("POST", f"/api/workers/jobs/{job_id}/fail", {"error": str(exc)[:2000]})
            except _Gone:
                pass
            return False
        finally:
            beating.set()
            beat.join(5)

    def _beat(self, job_id: int, done: threading.Event) -> None:
        while not done.wait(BEAT_SECONDS):
            try:
                self._call("POST", f"/api/workers/jobs/{job_id}/heartbeat")
            except (_Gone, WorkerError) as exc:
                log.warning("heartbeat of job %s: %s", job_id, exc)

    def _analyse(self, kind: str, path: str) -> dict[str, Any]:
        if kind == "faces":
            analyzer = self.models.faces
            assert analyzer is not None
            found = analyzer.analyze(path)
            return {
                "model": analyzer.model_name,
                "faces": [
                    {
                        "box": [float(v) for v in f.box],
                        "score": float(f.score),
                        "landmarks": [float(v) for v in f.landmarks],
                        "embedding": np.asarray(f.embedding, dtype=np.float32).tolist(),
                    }
                    for f in found
                ],
            }
        if kind == "clip":
            embedder = self.models.image
            assert embedder is not None
            vec = np.asarray(embedder.embed_images([path]), dtype=np.float32)[0]
            return {"model": embedder.model_name, "embedding": vec.tolist()}
        raise ValueError(f"cannot run {kind!r} jobs")
