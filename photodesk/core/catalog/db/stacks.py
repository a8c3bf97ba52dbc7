"""Grouping by name in a folder: RAW + JPEG stacks and Live Photo videos attached to their photo."""

from __future__ import annotations

import os
import re
from collections import defaultdict

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile, Stack

LIVE_VIDEO_MAX_SECONDS = 6.0
_RAW_SUFFIX = re.compile(r"[._-]raw-\d+(\.[a-z]+)*$")

Member = tuple[int, str, str, float | None, int | None]  # id, kind, file type, duration, stack


def stack_key(path: str) -> tuple[str, str]:
    """(folder, base name) shared by a RAW and its JPEG, also for PXL_..RAW-01.COVER.jpg."""
    folder, name = os.path.split(path)
    stem = os.path.splitext(name.lower())[0]
    return folder, _RAW_SUFFIX.sub("", stem)


def group_folders(s: Session, owner_id: int, folders: set[str]) -> list[int]:
    """Stack and pair the owner's assets in ``folders``; returns the video assets absorbed."""
    # Each folder's files as an index range on the path (no LIKE, nothing to escape).
    sep = os.sep
    in_folders = or_(
        *(
            and_(AssetFile.path > folder + sep, AssetFile.path < folder + chr(ord(sep) + 1))
            for folder in folders
        )
    )
    rows = s.execute(
        select(
            Asset.id, Asset.kind, Asset.file_type, Asset.duration, Asset.stack_id, AssetFile.path
        )
        .join(AssetFile, AssetFile.asset_id == Asset.id)
        .where(Asset.owner_id == owner_id, AssetFile.role == "original", in_folders)
    ).all()
    groups: dict[tuple[str, str], list[Member]] = defaultdict(list)
    for aid, kind, ftype, duration, stack_id, path in rows:
        key = stack_key(path)
        if key[0] in folders:
            groups[key].append((aid, kind, ftype, duration, stack_id))
    absorbed: list[int] = []
    for members in groups.values():
        if len(members) > 1:
            absorbed.extend(_group(s, owner_id, members))
    return absorbed


def _group(s: Session, owner_id: int, members: list[Member]) -> list[int]:
    photos = [m for m in members if m[1] == "photo"]
    raws = [m for m in members if m[1] == "raw"]
    videos = [m for m in members if m[1] == "video"]
    absorbed: list[int] = []
    if photos and videos:
        still = photos[0][0]
        for vid, _, _, duration, _ in videos:
            if duration is not None and duration > LIVE_VIDEO_MAX_SECONDS:
                continue
            s.execute(
                update(AssetFile)
                .where(AssetFile.asset_id == vid, AssetFile.role == "original")
                .values(asset_id=still, role="live_video")
            )
            s.execute(update(AssetFile).where(AssetFile.asset_id == vid).values(asset_id=still))
            s.execute(delete(Asset).where(Asset.id == vid))
            absorbed.append(vid)
    if photos and raws:
        stacked = [m for m in photos + raws if m[4] is not None]
        if stacked:
            stack_id = stacked[0][4]
        else:
            stack_id = s.execute(
                insert(Stack)
                .values(owner_id=owner_id, primary_asset_id=photos[0][0])
                .returning(Stack.id)
            ).scalar_one()
        ids = [m[0] for m in photos + raws]
        s.execute(update(Asset).where(Asset.id.in_(ids)).values(stack_id=stack_id))
    return absorbed
