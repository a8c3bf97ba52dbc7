"""Tag tree rows: find or create a tag path with all its parents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Tag
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
