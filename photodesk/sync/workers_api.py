"""Routes for remote workers (``photodesk worker``): claim a job, fetch its preview, beat, hand
back the result or the failure. Not for users: each request carries ``X-Worker-Token`` (issued by
``photodesk workers add NAME``) instead of a login, and acts as that worker only.

- ``POST /api/workers/claim`` ``{"queues": ["faces", "clip"]}`` -> 200 ``{"job": {"id", "kind",
  "assetId", "mediaKind", "size"}}``, or 204 when nothing waits.
- ``GET /api/workers/jobs/{id}/preview`` -> the asset's preview JPEG.
- ``GET /api/workers/jobs/{id}/original`` -> the original file (a video's frames for ``clip``).
- ``POST /api/workers/jobs/{id}/heartbeat`` -> 204 (409: the job is no longer this worker's).
- ``POST /api/workers/jobs/{id}/result`` clip: ``{"model", "embedding": [...]}``; faces:
  ``{"model", "faces": [{"box": [x1,y1,x2,y2], "score", "landmarks", "embedding"}]}`` -> 204.
- ``POST /api/workers/jobs/{id}/fail`` ``{"error", "permanent": false, "model"}`` -> 204.

``POST /api/workers/enroll`` is the one route signed in as a user (an administrator: a desktop
paired with its device key): it makes a worker named after the device and returns its token.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from photodesk.core import REMOTE_QUEUES
from photodesk.sync.auth import current_user, public
from photodesk.sync.keys import LIBRARY
from photodesk.sync.views import http_error, json_object, json_response, read_json

HEADER = "X-Worker-Token"
MAX_RESULT_BYTES = 32 * 1024 * 1024  # a photo with hundreds of faces still fits


async def _worker(request: web.Request) -> str:
    token = request.headers.get(HEADER, "").strip()
    name = await asyncio.to_thread(request.app[LIBRARY].workers.resolve, token) if token else None
    if name is None:
        raise http_error(401, f"a valid {HEADER} is required (photodesk workers add NAME)")
    return name


def _job_id(request: web.Request) -> int:
    raw = request.match_info["job_id"]
    if not raw.isdigit():
        raise http_error(404, "no such job")
    return int(raw)


@public
async def claim(request: web.Request) -> web.Response:
    worker = await _worker(request)
    body = json_object(await read_json(request))
    queues = body.get("queues") or list(REMOTE_QUEUES)
    if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
        raise http_error(400, "queues is a list of queue names")
    job = await asyncio.to_thread(request.app[LIBRARY].workers.claim, worker, queues)
    if job is None:
        return web.Response(status=204)
    return json_response(
        {
            "job": {
                "id": job.id,
                "kind": job.kind,
                "assetId": job.asset_id,
                "mediaKind": job.media_kind,
                "size": job.size,
            }
        }
    )


@public
async def preview(request: web.Request) -> web.StreamResponse:
    worker = await _worker(request)
    path = await asyncio.to_thread(request.app[LIBRARY].workers.preview, worker, _job_id(request))
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})


@public
async def original(request: web.Request) -> web.StreamResponse:
    """The original of a held job's asset, streamed (a worker takes a video's frames from it)."""
    worker = await _worker(request)
    path = await asyncio.to_thread(request.app[LIBRARY].workers.original, worker, _job_id(request))
    return web.FileResponse(path, headers={"Content-Type": "application/octet-stream"})


async def enroll(request: web.Request) -> web.Response:
    """An administrator's device becomes a worker (``{"name"}``); the answer holds its token."""
    user = current_user(request)
    if not user.is_admin:
        raise http_error(403, "only an administrator's device can work for this server")
    body = json_object(await read_json(request))
    name = body.get("name")
    if not isinstance(name, str):
        raise http_error(400, "name (the worker's name) is required")
    token = await asyncio.to_thread(request.app[LIBRARY].workers.add, name, replace=True)
    return json_response({"name": name.strip(), "token": token})


@public
async def heartbeat(request: web.Request) -> web.Response:
    worker = await _worker(request)
    await asyncio.to_thread(request.app[LIBRARY].workers.heartbeat, worker, _job_id(request))
    return web.Response(status=204)


@public
async def result(request: web.Request) -> web.Response:
    worker = await _worker(request)
    job_id = _job_id(request)
    body = json_object(await read_json(request, max_bytes=MAX_RESULT_BYTES))
    workers = request.app[LIBRARY].workers
    model = body.get("model")
    if not isinstance(model, str):
        raise http_error(400, "model (the model's name) is required")
    if "faces" in body:
        faces: Any = body["faces"]
        if not isinstance(faces, list) or not all(isinstance(f, dict) for f in faces):
            raise http_error(400, "faces is a list of objects")
        await asyncio.to_thread(workers.complete_faces, worker, job_id, model, faces)
    elif "embedding" in body:
        vector = body["embedding"]
        if not isinstance(vector, list):
            raise http_error(400, "embedding is a list of numbers")
        await asyncio.to_thread(workers.complete_clip, worker, job_id, model, vector)
    else:
        raise http_error(400, "a result has faces or an embedding")
    return web.Response(status=204)


@public
async def fail(request: web.Request) -> web.Response:
    worker = await _worker(request)
    body = json_object(await read_json(request))
    error = str(body.get("error") or "failed")[:2000]
    permanent = bool(body.get("permanent"))
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise http_error(400, "model is the name of the model that failed")
    await asyncio.to_thread(
        request.app[LIBRARY].workers.fail,
        worker,
        _job_id(request),
        error,
        permanent=permanent,
        model=model,
    )
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/workers/claim", claim)
    app.router.add_post("/api/workers/enroll", enroll)
    app.router.add_get("/api/workers/jobs/{job_id}/preview", preview)
    app.router.add_get("/api/workers/jobs/{job_id}/original", original)
    app.router.add_post("/api/workers/jobs/{job_id}/heartbeat", heartbeat)
    app.router.add_post("/api/workers/jobs/{job_id}/result", result)
    app.router.add_post("/api/workers/jobs/{job_id}/fail", fail)
