"""ML analysis marks: which photos a task (``clip``, ``faces``) could not analyse with a model.

A photo a task cannot analyse (a RAW without a preview, a damaged file) gets an ``AssetAnalysis``
row with ``found = UNANALYSABLE``: the catch-up does not queue it again until its content changes
or the user asks (``photodesk index --retry-failed``); the reason is its failed job's error.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetAnalysis

UNANALYSABLE = -1  # AssetAnalysis.found of a photo the task could not analyse


def mark_unanalysable(s: Session, asset_id: int, task: str, model: str) -> None:
    """Record that ``task`` could not analyse the asset with ``model`` (if it still exists)."""
    if s.get(Asset, asset_id) is not None:
        s.merge(
            AssetAnalysis(
                asset_id=asset_id,
                task=task,
                model=model,
                found=UNANALYSABLE,
                done_at=datetime.now(),
            )
        )


def given_up(s: Session, task: str, model: str | None) -> set[int]:
    """Assets the task could not analyse with this model (None: any) and that have not
    changed since."""
    query = (
        select(AssetAnalysis.asset_id)
        .join(Asset, Asset.id == AssetAnalysis.asset_id)
        .where(
            AssetAnalysis.task == task,
            AssetAnalysis.found == UNANALYSABLE,
            Asset.updated_at <= AssetAnalysis.done_at,
        )
    )
    if model is not None:
        query = query.where(AssetAnalysis.model == model)
    return set(s.scalars(query))


def result(s: Session, asset_id: int, task: str) -> tuple[str, int] | None:
    """(model, faces or vectors found) of the task's last run on the asset, if any."""
    row = s.get(AssetAnalysis, (asset_id, task))
    return None if row is None else (row.model, row.found)


def analysed(s: Session, task: str, model: str | None) -> set[int]:
    """Assets the task has analysed with this model (None: any model); those it could not are
    left out."""
    query = select(AssetAnalysis.asset_id).where(
        AssetAnalysis.task == task, AssetAnalysis.found != UNANALYSABLE
    )
    if model is not None:
        query = query.where(AssetAnalysis.model == model)
    return set(s.scalars(query))
