"""Folder service: the tree of folders holding the library's files, with photo counts."""

from __future__ import annotations

import os.path
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import folders as repo
from photodesk.core.catalog.types import AssetId, AssetQuery

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.organize.assets import AssetService

FILE_ROLES = ("original", "duplicate")


@dataclass(frozen=True)
class FolderNode:
    """A folder that holds photos, directly or below it."""

    path: str  # absolute, as the platform writes it, with no trailing separator but for a root
    name: str  # the last component; a top folder shows its whole path
    parent: str | None  # the parent node's path; None for a top folder
    count: int  # assets with a file directly in this folder
    total: int  # assets in this folder and every folder below it
    depth: int  # 0 for a top folder


def _parent(folder: str) -> str | None:
    up = os.path.dirname(folder)
    return None if up == folder else up


def build_tree(files: list[tuple[int, str]]) -> list[FolderNode]:
    """Folders of ``(asset id, file path)`` pairs, sorted by path (parents before children).

    The chain of empty folders above the ones that matter (``/``, ``/home``, ``/home/me`` above
    ``/home/me/Pictures``) is left out: each top folder is the deepest folder that still covers
    all the photos of its branch of the file system.
    """
    direct: dict[str, set[int]] = defaultdict(set)
    for aid, path in files:
        direct[os.path.dirname(path) or os.sep].add(aid)
    below: dict[str, set[int]] = defaultdict(set)
    children: dict[str, set[str]] = defaultdict(set)
    for folder, ids in direct.items():  # a few folders for many files: walk up once each
        node: str | None = folder
        while node is not None:
            below[node] |= ids
            up = _parent(node)
            if up is not None:
                children[up].add(node)
            node = up

    def descend(node: str) -> str:
        while not direct.get(node) and len(children[node]) == 1:
            node = next(iter(children[node]))
        return node

    tops: list[str] = []
    for root in (f for f in below if _parent(f) is None):  # "/", or a drive on Windows
        tops.extend([root] if direct.get(root) else (descend(c) for c in children[root]))
    out: list[FolderNode] = []

    def walk(folder: str, parent: str | None, depth: int) -> None:
        name = folder if parent is None else os.path.basename(folder)
        out.append(
            FolderNode(folder, name, parent, len(direct.get(folder, ())), len(below[folder]), depth)
        )
        for child in sorted(children[folder], key=str.casefold):
            walk(child, folder, depth + 1)

    for top in sorted(tops, key=str.casefold):
        walk(top, None, 0)
    return out


class FolderService:
    """The folder tree of the owner's files (trashed and archived photos left out)."""

    def __init__(self, store: Store, assets: AssetService) -> None:
        self._store = store
        self._assets = assets

    def tree(self) -> list[FolderNode]:
        with self._store.read() as s:
            rows = repo.shown_files(s, self._store.owner_id, FILE_ROLES)
        return build_tree(rows)

    @staticmethod
    def query(folder: str, *, newest_first: bool = True) -> AssetQuery:
        """The photos in ``folder`` and the folders below it, as an asset query."""
        prefix = folder if folder.endswith(("/", os.sep)) else folder + os.sep
        return AssetQuery(path_prefix=prefix, newest_first=newest_first)

    def assets(self, folder: str) -> list[AssetId]:
        """The photos in ``folder`` and below it, newest first."""
        return self._assets.ids(self.query(folder))
