"""Near-duplicates without a model: perceptual hashes within a few bits of each other.

Lookup is multi-index hashing: with a distance of at most ``d`` bits, two 64-bit hashes are
close on at least one of a few slices (pigeonhole), so candidate pairs come from one numpy
sort per slice (each hash standing also for its one-bit flips when slices are wide) and are
then checked bit by bit with a vectorised popcount. ``keep()`` resolves a
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


def _plan(bits: int) -> tuple[int, int]:
    """(slices, flip radius): two hashes within ``bits`` have a slice within ``2 * radius``.

    Small distances split the hash into ``bits + 1`` slices compared exactly; larger ones into
    fewer, wider slices (so fewer chance collisions) where each hash also stands for its
    one-bit flips, which meet when two slices differ in at most two bits.
    """
    if bits <= 4:  # five 13-bit slices still sort faster than two 32-bit ones with flips
        return bits + 1, 0
    return bits // 3 + 1, 1


def _equal_key_pairs(keys: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Item pairs (a, b) whose rows of ``keys`` (items x variants) share a value."""
    n, variants = keys.shape
    items = np.repeat(np.arange(n, dtype=np.uint64), variants)
    flat = keys.reshape(-1)
    index_bits = max(1, (n - 1).bit_length())
    if width + index_bits <= 64:  # one sort of packed (key, item) words
        packed = np.sort((flat << np.uint64(index_bits)) | items)
        sorted_key = packed >> np.uint64(index_bits)
        sorted_item = packed & np.uint64((1 << index_bits) - 1)
    else:
        order = np.argsort(flat, kind="stable")
        sorted_key, sorted_item = flat[order], items[order]
    firsts, seconds = [], []
    k = 1
    while k < len(sorted_key):
        same = sorted_key[:-k] == sorted_key[k:]
        if not same.any():
            break
        firsts.append(sorted_item[:-k][same])
        seconds.append(sorted_item[k:][same])
        k += 1
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(firsts).astype(np.int64), np.concatenate(seconds).astype(np.int64)


def unique_close_pairs(values: np.ndarray, bits: int) -> np.ndarray:
    """Pairs (rows i < j) of distinct 64-bit ``values`` within ``bits`` bits of each other.

    Multi-index hashing: by pigeonhole two such hashes are close on one of the slices that
    ``_plan`` picks; candidates come from one sort per slice and are checked bit by bit.
    """
    n = len(values)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    words = values.astype(np.int64).view(np.uint64)
    slices, radius = _plan(bits)
    edges = np.linspace(0, 64, slices + 1).astype(int).tolist()
    codes = []
    for lo, hi in itertools.pairwise(edges):
        width = hi - lo
        mask = np.uint64((1 << width) - 1) if width < 64 else np.uint64(2**64 - 1)
        key = (words >> np.uint64(lo)) & mask
        flips = [0] + ([1 << b for b in range(width)] if radius else [])
        keys = key[:, None] ^ np.array(flips, dtype=np.uint64)[None, :]
        a, b = _equal_key_pairs(keys, width)
        if not len(a):
            continue
        lo_i, hi_i = np.minimum(a, b), np.maximum(a, b)
        near = _popcount(words[lo_i] ^ words[hi_i]) <= bits
        codes.append(np.unique(lo_i[near] * n + hi_i[near]))
    if not codes:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.unique(np.concatenate(codes))
    return np.stack([pairs // n, pairs % n], axis=1)


def near_groups(hashes: np.ndarray, bits: int) -> list[list[int]]:
    """Groups (two or more rows of ``hashes``) joined by hashes within ``bits`` bits; equal
    hashes are collapsed first, so a thousand identical frames cost one lookup."""
    if len(hashes) < 2:
        return []
    distinct, inverse = np.unique(hashes.astype(np.int64), return_inverse=True)
    pairs = unique_close_pairs(distinct, bits)
    same_hash = np.bincount(inverse.reshape(-1), minlength=len(distinct)) > 1
    if not len(pairs) and not same_hash.any():
        return []
    linked = group_pairs(len(distinct), map(tuple, pairs.tolist()))
    label = np.full(len(distinct), -1, dtype=np.int64)
    for g, members in enumerate(linked):
        label[members] = g
    alone = np.flatnonzero((label < 0) & same_hash)
    label[alone] = np.arange(len(linked), len(linked) + len(alone))
    rows = label[inverse.reshape(-1)]
    order = np.argsort(rows, kind="stable")
    order = order[rows[order] >= 0]
    starts = np.flatnonzero(np.diff(rows[order], prepend=-2))
    return [part.tolist() for part in np.split(order, starts[1:]) if len(part) > 1]


def close_pairs(ids: np.ndarray, hashes: np.ndarray, bits: int) -> set[tuple[int, int]]:
    """Index pairs (i < j) whose hashes differ in at most ``bits`` bits (every pair, equal
    hashes included: for tests and small sets; ``near_groups`` is what scales)."""
    if len(hashes) < 2:
        return set()
    distinct, inverse = np.unique(hashes.astype(np.int64), return_inverse=True)
    rows: dict[int, list[int]] = {}
    for i, u in enumerate(inverse.reshape(-1).tolist()):
        rows.setdefault(u, []).append(i)
    found: set[tuple[int, int]] = set()
    for members in rows.values():
        found.update(itertools.combinations(members, 2))
    for u, v in unique_close_pairs(distinct, bits).tolist():
        for i in rows[u]:
            for j in rows[v]:
                found.add((i, j) if i < j else (j, i))
    return found


def group_pairs(count: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected groups (of two or more) of the indices joined by ``pairs``."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in sorted(parent):
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
        found = near_groups(values, bits)
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
