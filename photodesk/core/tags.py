"""Tag service: the hierarchical tag tree and tagging of assets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select

from photodesk.core.db.schema import Asset, AssetTag, Tag
from photodesk.core.db.tags import ensure_tag, normalize_path
from photodesk.core.errors import NotFound
from photodesk.core.events import Changes
from photodesk.core.types import TagNode

if TYPE_CHECKING:
    from photodesk.core.library import Library


class TagService:
    def __init__(self, library: Library) -> None:
        self._lib = library

    def add(self, asset_ids: Iterable[int], path: str) -> None:
        """Tag assets with ``path`` (``Places/France/Paris``), creating the tag and its parents."""
        owned = self._lib.assets._owned(asset_ids)
        path = normalize_path(path)
        with self._lib.write(Changes(assets=frozenset(owned), tags=True)) as s:
            tag_id = ensure_tag(s, self._lib.owner_id, path)
            have = set(s.scalars(select(AssetTag.asset_id).where(AssetTag.tag_id == tag_id)))
            for aid in owned:
                if aid not in have:
                    s.add(AssetTag(asset_id=aid, tag_id=tag_id))

    def remove(self, asset_ids: Iterable[int], path: str) -> None:
        owned = self._lib.assets._owned(asset_ids)
        path = normalize_path(path)
        with self._lib.write(Changes(assets=frozenset(owned), tags=True)) as s:
            tag_id = s.scalar(
                select(Tag.id).where(Tag.owner_id == self._lib.owner_id, Tag.path == path)
            )
            if tag_id is None:
                raise NotFound(f"no tag {path}")
            s.execute(
                delete(AssetTag).where(AssetTag.tag_id == tag_id, AssetTag.asset_id.in_(owned))
            )

    def delete(self, path: str) -> None:
        """Delete a tag and everything below it (the photos stay)."""
        path = normalize_path(path)
        with self._lib.write(Changes(tags=True)) as s:
            ids = list(
                s.scalars(
                    select(Tag.id).where(
                        Tag.owner_id == self._lib.owner_id,
                        or_(Tag.path == path, Tag.path.startswith(path + "/", autoescape=True)),
                    )
                )
            )
            if not ids:
                raise NotFound(f"no tag {path}")
            s.execute(delete(AssetTag).where(AssetTag.tag_id.in_(ids)))
            s.execute(delete(Tag).where(Tag.id.in_(ids)))

    def tree(self) -> list[TagNode]:
        """Every tag, sorted by path, with the number of (non-trashed) assets tagged exactly so."""
        with self._lib.read() as s:
            counts: dict[int, int] = dict(
                s.execute(
                    select(AssetTag.tag_id, func.count())
                    .join(Asset, Asset.id == AssetTag.asset_id)
                    .where(Asset.trashed_at.is_(None))
                    .group_by(AssetTag.tag_id)
                ).all()
            )
            return [
                TagNode(t.id, t.path, t.name, t.parent_id, counts.get(t.id, 0))
                for t in s.scalars(
                    select(Tag).where(Tag.owner_id == self._lib.owner_id).order_by(Tag.path)
                )
            ]
