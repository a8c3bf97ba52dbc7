"""Tag service: the hierarchical tag tree and tagging of assets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import tags as repo
from photodesk.core.catalog.db.tags import ensure_tag, normalize_path
from photodesk.core.catalog.errors import Conflict, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import TagNode
from photodesk.core.organize.sidecars import note_edit

if TYPE_CHECKING:
    from photodesk.core.catalog.db.schema import Tag
    from photodesk.core.catalog.store import Session, Store
    from photodesk.core.organize.assets import AssetService


KEYWORDS = ("keywords",)


class TagService:
    def __init__(self, store: Store, assets: AssetService) -> None:
        self._store = store
        self._assets = assets

    def add(self, asset_ids: Iterable[int], path: str) -> None:
        """Tag assets with ``path`` (``Places/France/Paris``), creating the tag and its parents."""
        owned = self._assets.owned(asset_ids)
        path = normalize_path(path)
        with self._store.write(Changes(assets=frozenset(owned), tags=True)) as s:
            tag_id = ensure_tag(s, self._store.owner_id, path)
            have = set(repo.tagged(s, tag_id))
            repo.add_tagging(s, tag_id, [a for a in owned if a not in have])
            note_edit(s, [a for a in owned if a not in have], KEYWORDS)

    def remove(self, asset_ids: Iterable[int], path: str) -> None:
        owned = self._assets.owned(asset_ids)
        path = normalize_path(path)
        with self._store.write(Changes(assets=frozenset(owned), tags=True)) as s:
            tag_id = repo.id_of(s, self._store.owner_id, path)
            if tag_id is None:
                raise NotFound(f"no tag {path}")
            had = repo.tagged(s, tag_id, owned)
            repo.untag(s, [tag_id], owned)
            note_edit(s, had, KEYWORDS)

    def delete(self, path: str) -> None:
        """Delete a tag and everything below it (the photos stay)."""
        path = normalize_path(path)
        with self._store.write(Changes(tags=True)) as s:
            ids = repo.ids_at_or_below(s, self._store.owner_id, path)
            if not ids:
                raise NotFound(f"no tag {path}")
            note_edit(s, self._tagged_under(s, path), KEYWORDS)
            repo.untag(s, ids)
            repo.delete_tags(s, ids)

    def tree(self) -> list[TagNode]:
        """Every tag, sorted by path, with the number of (non-trashed) assets tagged exactly so."""
        with self._store.read() as s:
            counts = repo.live_counts(s)
            return [
                TagNode(t.id, t.path, t.name, t.parent_id, counts.get(t.id, 0))
                for t in repo.of_owner(s, self._store.owner_id)
            ]

    def totals(self) -> dict[str, int]:
        """Photos under each tag path (the tag or any tag below it), each counted once, as a
        tag's view shows them: trashed and archived photos left out."""
        owner = self._store.owner_id
        below: dict[str, set[int]] = defaultdict(set)
        with self._store.read() as s:
            paths = [t.path for t in repo.of_owner(s, owner)]
            for path, aid in repo.shown_taggings(s, owner):
                parts = path.split("/")
                for depth in range(1, len(parts) + 1):
                    below["/".join(parts[:depth])].add(aid)
        return {p: len(below.get(p, ())) for p in paths}

    # ----- editing the tree ------------------------------------------------------------------
    def _get(self, s: Session, path: str) -> Tag:
        tag = repo.find(s, self._store.owner_id, path)
        if tag is None:
            raise NotFound(f"no tag {path}")
        return tag

    def _exists(self, s: Session, path: str) -> bool:
        return repo.id_of(s, self._store.owner_id, path) is not None

    def _tagged_under(self, s: Session, path: str) -> list[int]:
        """Assets tagged with ``path`` or a tag below it (their sidecars list the paths)."""
        return repo.tagged_under(s, self._store.owner_id, path)

    def _repath(self, s: Session, tag: Tag, new_path: str) -> None:
        """Give ``tag`` the path ``new_path``, and every tag below it the matching path."""
        old = tag.path
        note_edit(s, self._tagged_under(s, old), KEYWORDS)
        below = repo.below(s, self._store.owner_id, old)
        tag.path, tag.name = new_path, new_path.rsplit("/", 1)[-1]
        for child in below:
            child.path = new_path + child.path[len(old) :]
        repo.flush(s)

    def rename(self, path: str, new_name: str) -> str:
        """Rename the tag at ``path`` (its children follow); returns its new path."""
        path = normalize_path(path)
        name = new_name.strip()
        if not name or "/" in name or "|" in name:
            raise InvalidInput(f"a tag name is one word or phrase without / or |: {new_name!r}")
        parent = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        new_path = parent + name
        with self._store.write(Changes(tags=True)) as s:
            tag = self._get(s, path)
            if new_path != path:
                if new_path.casefold() != path.casefold() and self._exists(s, new_path):
                    raise Conflict(f"a tag {new_path} exists already (merge the two instead)")
                self._repath(s, tag, new_path)
        return new_path

    def move(self, path: str, new_parent: str | None) -> str:
        """Move the tag at ``path`` under ``new_parent`` (None: to the top); returns its new path.

        The parent is created when missing; the tag's children move with it.
        """
        path = normalize_path(path)
        parent = normalize_path(new_parent) if new_parent else None
        if parent is not None and (parent == path or parent.startswith(path + "/")):
            raise InvalidInput(f"cannot move {path} into itself")
        name = path.rsplit("/", 1)[-1]
        new_path = f"{parent}/{name}" if parent else name
        with self._store.write(Changes(tags=True)) as s:
            tag = self._get(s, path)
            if new_path == path:
                return path
            if self._exists(s, new_path):
                raise Conflict(f"a tag {new_path} exists already (merge the two instead)")
            tag.parent_id = ensure_tag(s, self._store.owner_id, parent) if parent else None
            self._repath(s, tag, new_path)
        return new_path

    def merge(self, source: str, into: str) -> None:
        """Fold the tag ``source`` into ``into``: its photos and children go there, it goes away.

        Children whose names exist under ``into`` already are merged the same way.
        """
        source, into = normalize_path(source), normalize_path(into)
        if into == source or into.startswith(source + "/"):
            raise InvalidInput(f"cannot merge {source} into itself")
        with self._store.write(Changes(tags=True)) as s:
            note_edit(s, self._tagged_under(s, source), KEYWORDS)
            self._merge(s, self._get(s, source), self._get(s, into))

    def _merge(self, s: Session, src: Tag, dst: Tag) -> None:
        owner = self._store.owner_id
        for child in repo.children(s, owner, src.id):
            twin = repo.find(s, owner, f"{dst.path}/{child.name}")
            if twin is not None:
                self._merge(s, child, twin)
            else:
                child.parent_id = dst.id
                self._repath(s, child, f"{dst.path}/{child.name}")
        have = set(repo.tagged(s, dst.id))
        repo.add_tagging(s, dst.id, [a for a in repo.tagged(s, src.id) if a not in have])
        repo.untag(s, [src.id])
        repo.delete_tag(s, src)
