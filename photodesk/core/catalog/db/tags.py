"""Tag tree rows: find or create a tag path with all its parents."""

from __future__ import annotations

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import AssetTag, Tag
from photodesk.core.catalog.errors import InvalidInput


def normalize_path(path: str) -> str:
    """``" Places / France|Paris "`` -> ``"Places/France/Paris"`` (pipes: Lightroom)."""
    parts = [p.strip() for p in path.replace("|", "/").split("/")]
    parts = [p for p in parts if p]
    if not parts:
        raise InvalidInput(f"empty tag: {path!r}")
    return "/".join(parts)


def ensure_tag(session: Session, owner_id: int, path: str) -> int:
    """The id of the tag at ``path``, creating it and its missing parents."""
    path = normalize_path(path)
    found = session.scalar(select(Tag.id).where(Tag.owner_id == owner_id, Tag.path == path))
    if found is not None:
        return found
    parent_id: int | None = None
    parts = path.split("/")
    for depth in range(1, len(parts) + 1):
        sub = "/".join(parts[:depth])
        tag_id = session.scalar(select(Tag.id).where(Tag.owner_id == owner_id, Tag.path == sub))
        if tag_id is None:
            tag = Tag(owner_id=owner_id, parent_id=parent_id, name=parts[depth - 1], path=sub)
            session.add(tag)
            session.flush()
            tag_id = tag.id
        parent_id = tag_id
    assert parent_id is not None
    return parent_id


def tag_asset(session: Session, asset_id: int, tag_id: int) -> None:
    """Tag an asset; tagging it again is a no-op (``OR IGNORE`` / ``ON CONFLICT DO NOTHING``)."""
    table: Table = AssetTag.__table__  # type: ignore[assignment]
    row = {"asset_id": asset_id, "tag_id": tag_id}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(table).values(row).on_conflict_do_nothing())
    else:
        session.execute(insert(table).prefix_with("OR IGNORE"), row)
