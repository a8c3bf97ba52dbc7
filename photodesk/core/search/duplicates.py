"""Near-duplicates without a model: perceptual hashes within a few bits of each other.

Lookup is multi-index hashing: with a distance of at most ``d`` bits, two 64-bit hashes agree
exactly on at least one of ``d + 1`` slices (pigeonhole), so candidate pairs come from equal
slices (sorted, compared with numpy) and are then checked bit by bit. ``keep()`` resolves a
group: the others go to the trash and their albums, tags, rating, favourite, title and
description move onto the one kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from photodesk.core.catalog.db import duplicates as repo
from photodesk.core.catalog.errors import InvalidInput
from photodesk.core.catalog.types import AssetId
from photodesk.core.media.phash import hash_file

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.media.thumbnails import ThumbnailStore
    from photodesk.core.organize.albums import AlbumService
    from photodesk.core.organize.assets import AssetService
    from photodesk.core.organize.edits import EditService
    from photodesk.core.organize.tags import TagService

DEFAULT_BITS = 4
MAX_BITS = 8
CHUNK = 900


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)  # type: ignore[no-any-return]
    as_bytes = x.view(np.uint8).reshape(-1, 8)
    return np.unpackbits(as_bytes, axis=1).sum(axis=1)  # type: ignore[no-any-return]


def close_pairs(ids: np.ndarray, hashes: np.ndarray, bits: int) -> set[tuple[int, int]]:
    """Index pairs (i < j) whose hashes differ in at most ``bits`` bits."""
    n = len(hashes)
    if n < 2:
        return set()
    values = hashes.astype(np.int64).view(np.uint64)
    slices = bits + 1
    edges = np.linspace(0, 64, slices + 1).astype(int)
    found: set[tuple[int, int]] = set()
    for lo, hi in itertools.pairwise(edges.tolist()):
        mask = np.uint64((1 << int(hi - lo)) - 1)
        key = (values >> np.uint64(lo)) & mask
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        k = 1
        while k < n:
            same = sorted_key[:-k] == sorted_key[k:]
            if not same.any():
                break
            a, b = order[:-k][same], order[k:][same]
            near = _popcount(values[a] ^ values[b]) <= bits
            for i, j in zip(a[near].tolist(), b[near].tolist(), strict=True):
                found.add((i, j) if i < j else (j, i))
            k += 1
    return found


def group_pairs(count: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected groups (of two or more) of the indices joined by ``pairs``."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


class DuplicateService:
    """``groups(bits)``: near-duplicate groups, the one to keep first; ``keep(id, others)``."""

    def __init__(
        self,
        store: Store,
        thumbnails: ThumbnailStore,
        assets: AssetService,
        albums: AlbumService,
        tags: TagService,
        edits: EditService,
    ) -> None:
        self._store, self._thumbnails = store, thumbnails
        self._assets, self._albums, self._tags, self._edits = assets, albums, tags, edits

    def backfill(self) -> int:
        """Hash the assets imported before hashing existed (from their thumbnails)."""
        store = self._store
        with store.read() as s:
            todo = repo.unhashed(s, store.owner_id)
        done = 0
        for k in range(0, len(todo), CHUNK):
            pairs = []
            for asset_id, checksum in todo[k : k + CHUNK]:
                value = hash_file(self._thumbnails.thumb_path(checksum))
                if value is not None:
                    pairs.append((asset_id, value))
            with store.write() as s:
                repo.store(s, pairs)
            done += len(pairs)
        return done

    def groups(self, bits: int = DEFAULT_BITS) -> list[list[AssetId]]:
        if not 0 <= bits <= MAX_BITS:
            raise InvalidInput(f"a duplicate distance is 0 to {MAX_BITS} bits, not {bits}")
        store = self._store
        with store.read() as s:
            rows = repo.hashes(s, store.owner_id)
        if len(rows) < 2:
            return []
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        values = np.array([r[1] for r in rows], dtype=np.int64)
        found = group_pairs(len(rows), close_pairs(ids, values, bits))
        members = [int(ids[i]) for g in found for i in g]
        with store.read() as s:
            rank = repo.ranking(s, members)
        out = []
        for g in found:
            group = sorted(
                (int(ids[i]) for i in g),
                key=lambda a: (rank.get(a, (0, 0, 0, 0)), -a),
                reverse=True,
            )
            out.append([AssetId(a) for a in group])
        out.sort(key=lambda g: -int(g[0]))
        return out

    def keep(self, keeper: int, others: Sequence[int]) -> None:
        """Trash ``others``; their albums, tags, best rating, favourite, title and description
        move onto ``keeper`` first."""
        others = [int(o) for o in others if int(o) != int(keeper)]
        if not others:
            return
        kept = self._assets.get(keeper)
        records = [self._assets.get(o) for o in others]
        for album in sorted({a for r in records for a in r.albums} - set(kept.albums)):
            self._albums.add(album, [keeper])
        for tag in sorted({t for r in records for t in r.tags} - set(kept.tags)):
            self._tags.add([keeper], tag)
        rating = max([kept.rating, *(r.rating for r in records)])
        if rating != kept.rating:
            self._assets.set_rating([keeper], rating)
        if not kept.favorite and any(r.favorite for r in records):
            self._assets.set_favorite([keeper], True)
        if not kept.title and (title := next((r.title for r in records if r.title), None)):
            self._edits.set_title([keeper], title)
        texts = [kept.description, *(r.description for r in records)]
        merged = "\n\n".join(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
        if merged and merged != (kept.description or "").strip():
            self._edits.set_description([keeper], merged)
        self._assets.trash(others)
