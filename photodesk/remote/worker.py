"""A remote worker: take a server's ``clip`` and ``faces`` jobs over HTTP and run them here.

The worker needs no access to the server's disks. Per job it downloads what the server's own
job would analyse: the asset's preview (for a RAW the server renders it from the RAW, as the
local job does), or, for the ``clip`` job of a video, the original, streamed to a temporary file
and bounded by ``max_original_bytes``, to take the same few frames the local job takes (a video
over the bound, or no PyAV here, falls back to the preview: one frame). It runs the same models
the server would (its own copy, on the best onnxruntime provider it has) and posts the vectors
back. A thread beats for the job while it runs; if the worker dies, the server gives the job to
another worker once the beats stop. ``photodesk worker`` and the desktop app (working for its
paired server) both run this loop.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photodesk.core import REMOTE_QUEUES, Models, video_frames

log = logging.getLogger(__name__)

HEADER = "X-Worker-Token"
BEAT_SECONDS = 15.0
TIMEOUT = 120.0
CHUNK = 1 << 20
MAX_ORIGINAL_BYTES = 2 << 30  # a video's original is fetched up to 2 GiB (else: its preview)


class WorkerError(Exception):
    """The server refused the worker (bad token, unreachable): one line for the user."""


@dataclass
class WorkerStats:
    done: int = 0
    failed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class _Gone(Exception):
    """The server took the job back (409) or the asset went (404): drop it, claim the next."""


class _TooBig(Exception):
    """The original is over the size bound: analyse the preview instead."""


class RemoteWorker:
    def __init__(
        self,
        server: str,
        token: str,
        models: Models,
        queues: list[str] | None = None,
        *,
        max_original_bytes: int = MAX_ORIGINAL_BYTES,
    ) -> None:
        self.server = server.rstrip("/")
        self.token = token.strip()
        self.models = models
        self.queues = self._usable(queues or list(REMOTE_QUEUES))
        self.max_original_bytes = max_original_bytes
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
    def _open(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header(HEADER, self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            return urllib.request.urlopen(req, timeout=TIMEOUT)
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            exc.close()
            if exc.code == 401:
                raise WorkerError("the server refused this worker's token") from None
            if exc.code in (404, 409):
                raise _Gone(payload.decode(errors="replace")) from None
            message = payload.decode(errors="replace")[:300]
            raise WorkerError(f"{method} {path}: HTTP {exc.code}: {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WorkerError(f"cannot reach {self.server}: {reason}") from None

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        with self._open(method, path, body) as resp:
            try:
                return resp.status, resp.read()
            except OSError as exc:
                raise WorkerError(f"{self.server}: the answer was cut ({exc})") from None

    def _download(self, path: str, dest: Path, limit: int | None = None) -> Path:
        """Stream a file of the job into ``dest``; over ``limit`` bytes: ``_TooBig``."""
        with self._open("GET", path) as resp, open(dest, "wb") as fh:
            declared = resp.headers.get("Content-Length")
            if limit is not None and declared and declared.isdigit() and int(declared) > limit:
                raise _TooBig(f"{declared} bytes")
            got = 0
            try:
                while chunk := resp.read(CHUNK):
                    got += len(chunk)
                    if limit is not None and got > limit:
                        raise _TooBig(f"over {limit} bytes")
                    fh.write(chunk)
            except OSError as exc:
                raise WorkerError(f"{self.server}: the download was cut ({exc})") from None
        return dest

    # ----- the loop ---------------------------------------------------------------------------
    def run(
        self,
        *,
        until_idle: bool = False,
        poll: float = 2.0,
        check: Callable[[], object] | None = None,
    ) -> WorkerStats:
        """Work jobs until ``stop`` is set (or, with ``until_idle``, none is waiting);
        ``check`` is called between jobs (a job context's ``check`` raises to stop)."""
        stats = WorkerStats()
        while not self.stop.is_set():
            if check is not None:
                check()
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
                images = self._inputs(job, Path(tmp))
                try:
                    result = self._analyse(kind, images)
                except (OSError, ValueError) as exc:  # the file cannot be decoded: for good
                    self._fail(job_id, kind, f"cannot analyse asset {job['assetId']}: {exc}", True)
                    return False
            self._call("POST", f"/api/workers/jobs/{job_id}/result", result)
            log.info("job %s (%s, asset %s) done", job_id, kind, job["assetId"])
            return True
        except _Gone as exc:
            log.warning("job %s was taken back: %s", job_id, exc)
            return False
        except WorkerError:
            raise
        except Exception as exc:  # anything else: the server retries it (maybe elsewhere)
            log.warning("job %s failed: %s", job_id, exc)
            self._fail(job_id, kind, f"{type(exc).__name__}: {exc}", False)
            return False
        finally:
            beating.set()
            beat.join(5)

    def _fail(self, job_id: int, kind: str, error: str, permanent: bool) -> None:
        body = {"error": error[:2000], "permanent": permanent, "model": self._model_name(kind)}
        try:
            self._call("POST", f"/api/workers/jobs/{job_id}/fail", body)
        except _Gone:
            pass

    def _model_name(self, kind: str) -> str | None:
        model = self.models.image if kind == "clip" else self.models.faces
        return getattr(model, "model_name", None)

    def _inputs(self, job: dict[str, Any], tmp: Path) -> list[str]:
        """The images to analyse: a video's frames (``clip``), else the preview."""
        job_id, aid = int(job["id"]), job["assetId"]
        if job["kind"] == "clip" and job.get("mediaKind") == "video":
            frames = self._video_frames(job, tmp)
            if frames:
                return frames
        path = self._download(f"/api/workers/jobs/{job_id}/preview", tmp / f"{aid}.jpg")
        return [str(path)]

    def _video_frames(self, job: dict[str, Any], tmp: Path) -> list[str]:
        size = job.get("size")
        if isinstance(size, int) and size > self.max_original_bytes:
            log.info("asset %s: a %s-byte video, its preview is analysed", job["assetId"], size)
            return []
        try:
            import av  # noqa: F401
        except ImportError:
            log.info("no PyAV here: a video's preview is analysed, not its frames")
            return []
        original = tmp / f"{job['assetId']}.video"
        try:
            self._download(
                f"/api/workers/jobs/{job['id']}/original", original, self.max_original_bytes
            )
        except _TooBig as exc:
            log.info("asset %s: video too big (%s), its preview is analysed", job["assetId"], exc)
            return []
        frames = video_frames(str(original), tmp, str(job["assetId"]))
        original.unlink(missing_ok=True)
        return [str(f) for f in frames]

    def _beat(self, job_id: int, done: threading.Event) -> None:
        while not done.wait(BEAT_SECONDS):
            try:
                self._call("POST", f"/api/workers/jobs/{job_id}/heartbeat")
            except (_Gone, WorkerError) as exc:
                log.warning("heartbeat of job %s: %s", job_id, exc)

    def _analyse(self, kind: str, images: list[str]) -> dict[str, Any]:
        if kind == "faces":
            analyzer = self.models.faces
            assert analyzer is not None
            found = analyzer.analyze(images[0])
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
            vecs = np.asarray(embedder.embed_images(images), dtype=np.float32)
            vec = vecs.mean(axis=0)  # a video's frames are pooled as the local job pools them
            return {"model": embedder.model_name, "embedding": vec.tolist()}
        raise ValueError(f"cannot run {kind!r} jobs")
