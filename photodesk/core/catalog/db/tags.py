"""Tag tree rows: find or create a tag path with all its parents, the tree, taggings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Table, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetTag, Tag
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
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # with its engine

        session.execute(pg_insert(table).values(row).on_conflict_do_nothing())
    else:
        session.execute(insert(table).prefix_with("OR IGNORE"), row)


def find(s: Session, owner_id: int, path: str) -> Tag | None:
    """The owner's tag at exactly ``path``."""
    return s.scalars(select(Tag).where(Tag.owner_id == owner_id, Tag.path == path)).first()


def id_of(s: Session, owner_id: int, path: str) -> int | None:
    return s.scalar(select(Tag.id).where(Tag.owner_id == owner_id, Tag.path == path))


def _at_or_below(path: str) -> ColumnElement[bool]:
    return or_(Tag.path == path, Tag.path.startswith(path + "/", autoescape=True))


def ids_at_or_below(s: Session, owner_id: int, path: str) -> list[int]:
    """The owner's tag at ``path`` and every tag below it."""
    return list(s.scalars(select(Tag.id).where(Tag.owner_id == owner_id, _at_or_below(path))))


def below(s: Session, owner_id: int, path: str) -> list[Tag]:
    """The owner's tags strictly below ``path``."""
    return list(
        s.scalars(
            select(Tag).where(
                Tag.owner_id == owner_id, Tag.path.startswith(path + "/", autoescape=True)
            )
        )
    )


def children(s: Session, owner_id: int, tag_id: int) -> list[Tag]:
    return list(s.scalars(select(Tag).where(Tag.owner_id == owner_id, Tag.parent_id == tag_id)))


def tagged_under(s: Session, owner_id: int, path: str) -> list[int]:
    """Assets tagged with ``path`` or a tag below it."""
    return list(
        s.scalars(
            select(AssetTag.asset_id)
            .join(Tag, Tag.id == AssetTag.tag_id)
            .where(Tag.owner_id == owner_id, _at_or_below(path))
            .distinct()
        )
    )


def tagged(s: Session, tag_id: int, among: Sequence[int] | None = None) -> list[int]:
    """Assets tagged ``tag_id`` (of ``among`` if given)."""
    stmt = select(AssetTag.asset_id).where(AssetTag.tag_id == tag_id)
    if among is not None:
        stmt = stmt.where(AssetTag.asset_id.in_(among))
    return list(s.scalars(stmt))


def add_tagging(s: Session, tag_id: int, asset_ids: Iterable[int]) -> None:
    """Tag these assets (none of them tagged so yet)."""
    for aid in asset_ids:
        s.add(AssetTag(asset_id=aid, tag_id=tag_id))


def untag(s: Session, tag_ids: Sequence[int], asset_ids: Sequence[int] | None = None) -> None:
    """Take these tags off ``asset_ids`` (None: off every asset)."""
    stmt = delete(AssetTag).where(AssetTag.tag_id.in_(tag_ids))
    if asset_ids is not None:
        stmt = stmt.where(AssetTag.asset_id.in_(asset_ids))
    s.execute(stmt)


def delete_tags(s: Session, tag_ids: Sequence[int]) -> None:
    s.execute(delete(Tag).where(Tag.id.in_(tag_ids)))


def flush(s: Session) -> None:
    """Write pending changes of tag rows (their new paths) before reading the tree again."""
    s.flush()


def delete_tag(s: Session, tag: Tag) -> None:
    s.flush()
    s.delete(tag)
    s.flush()


def live_counts(s: Session) -> dict[int, int]:
    """Tag id -> assets not in the trash tagged exactly so."""
    return {
        int(t): int(n)
        for t, n in s.execute(
            select(AssetTag.tag_id, func.count())
            .join(Asset, Asset.id == AssetTag.asset_id)
            .where(Asset.trashed_at.is_(None))
            .group_by(AssetTag.tag_id)
        )
    }


def of_owner(s: Session, owner_id: int) -> list[Tag]:
    """The owner's tags by path."""
    return list(s.scalars(select(Tag).where(Tag.owner_id == owner_id).order_by(Tag.path)))


def shown_taggings(s: Session, owner_id: int) -> list[tuple[str, int]]:
    """(tag path, asset id) of the owner's tags on assets neither trashed nor archived."""
    rows = s.execute(
        select(Tag.path, AssetTag.asset_id)
        .join(AssetTag, AssetTag.tag_id == Tag.id)
        .join(Asset, Asset.id == AssetTag.asset_id)
        .where(Tag.owner_id == owner_id, Asset.trashed_at.is_(None), Asset.archived.is_(False))
    )
    return [(p, int(a)) for p, a in rows]


def tag_ids_of(s: Session, asset_id: int) -> set[int]:
    return set(s.scalars(select(AssetTag.tag_id).where(AssetTag.asset_id == asset_id)))


def paths_of(s: Session, asset_id: int) -> tuple[str, ...]:
    """The asset's tag paths, sorted."""
    return tuple(
        s.scalars(
            select(Tag.path)
            .join(AssetTag, AssetTag.tag_id == Tag.id)
            .where(AssetTag.asset_id == asset_id)
            .order_by(Tag.path)
        )
    )
