"""The signed-in web page ``/memories``: the caller's "on this day" and "this week N years ago".

The same memories as the desktop's Memories view and ``photodesk memories``, for the signed-in
user only (their own photos). ``?date=YYYY-MM-DD`` picks another day; a photo opens in the same
lightbox as an album's.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from aiohttp import web

from photodesk.sync.auth import public
from photodesk.sync.keys import LIBRARY
from photodesk.sync.web_albums import ASSET, SIGN_OUT, html_page, signed_in

PAGE = "/memories"


def _memories(lib: Any, user_id: int, day: date) -> list[dict[str, Any]]:
    """Each memory with its tiles, in the order ``memories`` gives (newest year first)."""
    view = lib.for_user(user_id)
    out = []
    for memory in view.memories.memories(day):
        tiles = view.timeline.items(list(memory.asset_ids))
        if tiles:
            label = f"{memory.day.day} {memory.day:%B %Y}"
            out.append({"memory": memory, "items": tiles, "label": label})
    return out


def _day(request: web.Request) -> date | None:
    text = request.query.get("date", "").strip()
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@public  # answers signed-out browsers itself: a redirect to /login, not a JSON 401
async def memories_page(request: web.Request) -> web.Response:
    user = signed_in(request)
    day = _day(request)
    if day is None:
        error = "A date is YYYY-MM-DD, for example 2024-07-04."
        return html_page(
            "memories.html", status=400, user=user, sign_out=SIGN_OUT, error=error, memories=[]
        )
    memories = await asyncio.to_thread(_memories, request.app[LIBRARY], user.id, day)
    items: list[
        dict[str, Any]
    ] = []  # the lightbox steps through every memory's photos in page order
    for m in memories:
        m["start"] = len(items)
        items += [
            {"id": t.id, "kind": t.kind, "w": t.width, "h": t.height, "name": f"photo-{t.id}"}
            for t in m["items"]
        ]
    data = {
        "urls": {
            "preview": ASSET + "/thumbnail?size=preview",
            "video": ASSET + "/original",
            "original": ASSET + "/original",
            "meta": ASSET,
        },
        "items": items,
        "download": True,
        "metadata": True,
    }
    return html_page(
        "memories.html",
        user=user,
        day=day,
        day_label=f"{day:%A} {day.day} {day:%B %Y}",
        memories=memories,
        thumb=ASSET + "/thumbnail",
        preview=ASSET + "/thumbnail?size=preview",
        data=data,
        sign_out=SIGN_OUT,
        error=None,
    )


def setup(app: web.Application) -> None:
    app.router.add_get(PAGE, memories_page)
