"""Bursts: photos shot within seconds of each other that look alike become one stack."""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile, Stack

BURST_SECONDS = 2.0
BURST_BITS = 10  # frames of a burst move a little: looser than copies (4 bits)

NOT_CAPTURE_TIMES = ("mtime", "filename")

Shot = tuple[int, datetime, int, float | None]  # id, taken at, hash, sharpness


def distance(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


def runs(shots: list[Shot]) -> list[list[Shot]]:
    """Bursts (two or more) in shots ordered by time: each shot joins the open burst whose last
    frame is within the window and looks like it (another camera's shots in between do not
    break a burst)."""
    done: list[list[Shot]] = []
    open_: list[list[Shot]] = []
    for shot in shots:
        still = []
        for run in open_:
            if (shot[1] - run[-1][1]).total_seconds() <= BURST_SECONDS:
                still.append(run)
            elif len(run) > 1:
                done.append(run)
        open_ = still
        for run in open_:
            if distance(shot[2], run[-1][2]) <= BURST_BITS:
                run.append(shot)
                break
        else:
            open_.append([shot])
    done.extend(run for run in open_ if len(run) > 1)
    return sorted(done, key=lambda run: run[0][1])


def stack_bursts(s: Session, owner_id: int, folders: set[str]) -> int:
    """Stack the unstacked bursts among the owner's photos in ``folders``, the sharpest on
    top; returns how many stacks were made."""
    sep = os.sep
    in_folders = or_(
        *(
            and_(AssetFile.path > folder + sep, AssetFile.path < folder + chr(ord(sep) + 1))
            for folder in folders
        )
    )
    rows = s.execute(
        select(Asset.id, Asset.taken_at, Asset.phash, Asset.sharpness)
        .join(AssetFile, (AssetFile.asset_id == Asset.id) & (AssetFile.role == "original"))
        .where(
            Asset.owner_id == owner_id,
            Asset.kind == "photo",
            Asset.stack_id.is_(None),
            Asset.phash.is_not(None),
            Asset.taken_at.is_not(None),
            # A burst is a camera's: a real capture time and a camera make (files that only
            # have their modification time, or no camera, are never stacked as one).
            Asset.taken_at_source.not_in(NOT_CAPTURE_TIMES),
            Asset.make.is_not(None),
            Asset.trashed_at.is_(None),
            in_folders,
        )
        .order_by(Asset.taken_at, Asset.id)
    )
    shots: list[Shot] = [
        (int(r[0]), r[1], int(r[2]), r[3])
        for r in rows
        if r[1] is not None and r[2] is not None  # the query says so; the types do not
    ]
    made = 0
    for burst in runs(shots):
        best = max(burst, key=lambda shot: (shot[3] or 0.0, -shot[0]))
        stack_id = s.execute(
            insert(Stack).returning(Stack.id),
            {"owner_id": owner_id, "primary_asset_id": best[0]},
        ).scalar_one()
        ids = [shot[0] for shot in burst]
        s.execute(update(Asset).where(Asset.id.in_(ids)).values(stack_id=stack_id))
        made += 1
    return made
