"""In-memory exact inner-product search over normalised embeddings: numpy small, faiss fp16 large.

Measured on the 2-core reference machine (research/performance-measurements.md section 4):
numpy fp32 ``X @ q`` ranks 1M 512-d vectors in ~98 ms, faiss ``IndexScalarQuantizer(fp16)``
in ~45 ms at recall 1.0 and half the memory (1 GB at 1M). Small libraries stay on numpy
(no faiss needed); from ``FAISS_FROM`` vectors on, faiss takes over when it is installed.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

FAISS_FROM = 20_000


def _faiss() -> Any | None:
    try:
        import faiss
    except ImportError:
        return None
    faiss.omp_set_num_threads(1)  # one query at a time: 2 OpenMP threads are 2-6x slower here
    return faiss


class VectorIndex:
    """Vectors keyed by asset id; re-adding an id replaces its vector. Thread-safe."""

    def __init__(self, dim: int, *, faiss_from: int | None = None) -> None:
        self.dim = dim
        self._faiss_from = FAISS_FROM if faiss_from is None else faiss_from
        self._lock = threading.RLock()
        self._ids = np.empty(0, dtype=np.int64)  # position -> asset id
        self._alive = np.empty(0, dtype=bool)
        self._pos = np.full(0, -1, dtype=np.int64)  # asset id -> position (-1: none)
        self._n = 0
        self._dead = 0
        self._mat: NDArray[np.float32] | None = np.empty((0, dim), dtype=np.float32)
        self._faiss_index: Any = None

    # ----- state ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n - self._dead

    @property
    def backend(self) -> str:
        return "faiss-sq-fp16" if self._faiss_index is not None else "numpy-fp32"

    def memory_bytes(self) -> int:
        """Bytes held by the vectors and the id maps."""
        vec = self._n * self.dim * (2 if self._faiss_index is not None else 4)
        return vec + self._ids.nbytes + self._alive.nbytes + self._pos.nbytes

    def __contains__(self, asset_id: int) -> bool:
        return 0 <= asset_id < len(self._pos) and self._pos[asset_id] >= 0

    def ids(self) -> NDArray[np.int64]:
        with self._lock:
            return self._ids[: self._n][self._alive[: self._n]].copy()

    # ----- changes -------------------------------------------------------------------------
    def add(self, asset_ids: NDArray[np.int64] | list[int], vectors: NDArray[np.float32]) -> None:
        """Add (or replace) vectors; later duplicates in one call win."""
        ids = np.asarray(asset_ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(ids) != len(vecs):
            raise ValueError("one vector per id")
        if not len(ids):
            return
        with self._lock:
            self._forget(ids)
            # of repeated ids in this call only the last stays alive
            _, last = np.unique(ids[::-1], return_index=True)
            keep = np.zeros(len(ids), dtype=bool)
            keep[len(ids) - 1 - last] = True
            start = self._n
            self._grow(start + len(ids), int(ids.max()))
            self._ids[start : start + len(ids)] = ids
            self._alive[start : start + len(ids)] = keep
            self._dead += int((~keep).sum())
            self._pos[ids[keep]] = np.arange(start, start + len(ids))[keep]
            self._n = start + len(ids)
            self._store(vecs)

    def remove(self, asset_ids: list[int] | NDArray[np.int64]) -> None:
        with self._lock:
            self._forget(np.asarray(asset_ids, dtype=np.int64))

    def _forget(self, ids: NDArray[np.int64]) -> None:
        ids = ids[(ids >= 0) & (ids < len(self._pos))]
        pos = self._pos[ids]
        pos = np.unique(pos[pos >= 0])
        if len(pos):
            self._alive[pos] = False
            self._dead += len(pos)
            self._pos[self._ids[pos]] = -1

    def _grow(self, n: int, max_id: int) -> None:
        if n > len(self._ids):
            cap = max(n, 2 * len(self._ids), 1024)
            self._ids = np.resize(self._ids, cap)
            self._alive = np.resize(self._alive, cap)
        if max_id >= len(self._pos):
            old = len(self._pos)
            self._pos = np.resize(self._pos, max(max_id + 1, 2 * old, 1024))
            self._pos[old:] = -1

    def _store(self, vecs: NDArray[np.float32]) -> None:
        if self._faiss_index is not None:
            self._faiss_index.add(vecs)
            return
        assert self._mat is not None
        used = self._n - len(vecs)
        if self._n >= self._faiss_from and (faiss := _faiss()) is not None:
            index = faiss.IndexScalarQuantizer(
                self.dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
            )
            if used:
                index.add(self._mat[:used])
            for start in range(0, len(vecs), 65536):
                index.add(vecs[start : start + 65536])
            self._faiss_index, self._mat = index, None
            log.info("vector index moved to faiss fp16 at %d vectors", self._n)
            return
        if self._n > len(self._mat):
            grown = np.empty((max(self._n, 2 * len(self._mat), 1024), self.dim), np.float32)
            grown[:used] = self._mat[:used]
            self._mat = grown
        self._mat[used : self._n] = vecs

    # ----- snapshots -----------------------------------------------------------------------
    def save(self, path: Path) -> bool:
        """Write a snapshot (faiss backend only: small indexes load from the catalog in well
        under a second). Atomic: ``path``.faiss and ``path``.npz appear together or not at all.
        """
        faiss = _faiss()
        if self._faiss_index is None or faiss is None:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_index, tmp_ids = path.with_suffix(".faiss.tmp"), path.with_suffix(".npz.tmp")
        with self._lock:
            faiss.write_index(self._faiss_index, str(tmp_index))
            with tmp_ids.open("wb") as fh:
                np.savez(fh, ids=self._ids[: self._n], alive=self._alive[: self._n])
        os.replace(tmp_ids, path.with_suffix(".npz"))
        os.replace(tmp_index, path.with_suffix(".faiss"))
        return True

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex | None:
        """A snapshot written by ``save``, or None when there is none (or it does not fit)."""
        faiss = _faiss()
        index_file, ids_file = path.with_suffix(".faiss"), path.with_suffix(".npz")
        if faiss is None or not index_file.is_file() or not ids_file.is_file():
            return None
        try:
            with np.load(ids_file) as data:
                ids, alive = data["ids"].astype(np.int64), data["alive"].astype(bool)
            stored = faiss.read_index(str(index_file))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("ignoring the vector snapshot %s: %s", path, exc)
            return None
        if stored.d != dim or stored.ntotal != len(ids) or len(alive) != len(ids):
            return None
        out = cls(dim)
        out._faiss_index, out._mat = stored, None
        out._n = len(ids)
        out._grow(len(ids), int(ids.max()) if len(ids) else 0)
        out._ids[: len(ids)] = ids
        out._alive[: len(ids)] = alive
        out._dead = int((~alive).sum())
        out._pos[ids[alive]] = np.flatnonzero(alive)
        return out

    # ----- queries -------------------------------------------------------------------------
    def positions(self, asset_ids: NDArray[np.int64] | list[int]) -> NDArray[np.int64]:
        ids = np.asarray(asset_ids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < len(self._pos))]
        pos = self._pos[ids]
        return pos[pos >= 0]

    def search(
        self,
        query: NDArray[np.float32],
        k: int,
        *,
        among: NDArray[np.int64] | list[int] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` best ``(asset ids, inner products)``, best first; ``among`` restricts the
        search to those asset ids (a filtered search, exact)."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            n = self._n
            if n == 0 or k <= 0:
                return np.empty(0, np.int64), np.empty(0, np.float32)
            pos = None if among is None else self.positions(among)
            if pos is not None and not len(pos):
                return np.empty(0, np.int64), np.empty(0, np.float32)
            if self._faiss_index is not None:
                got_pos, sims = self._search_faiss(q, k, pos)
            else:
                got_pos, sims = self._search_numpy(q, k, pos)
            keep = self._alive[got_pos]
            return self._ids[got_pos[keep]].copy(), sims[keep]

    def _search_numpy(
        self, q: NDArray[np.float32], k: int, pos: NDArray[np.int64] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        assert self._mat is not None
        if pos is None:
            sims = self._mat[: self._n] @ q[0]
            cand = np.arange(self._n)
            dead = ~self._alive[: self._n]
            if dead.any():
                sims[dead] = -np.inf
        else:
            sims = self._mat[pos] @ q[0]
            cand = pos
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        top = top[np.isfinite(sims[top])]
        return cand[top].astype(np.int64), sims[top].astype(np.float32)

    def _search_faiss(
        self, q: NDArray[np.float32], k: int, pos: NDArray[np.int64] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        faiss = _faiss()
        assert faiss is not None
        params = None
        if pos is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(pos))
            k = min(k, len(pos))
        else:
            k = min(k + self._dead, self._n)
        sims, found = self._faiss_index.search(q, k, params=params)
        ok = found[0] >= 0
        return found[0][ok].astype(np.int64), sims[0][ok]

    def search_many(
        self, queries: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Batched ``search``: ``(ids, sims)`` of shape (len(queries), k'); -1 pads missing."""
        qs = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            n = self._n
            kk = min(k + self._dead, n)
            if not n or not len(qs):
                return np.full((len(qs), 0), -1, np.int64), np.empty((len(qs), 0), np.float32)
            if self._faiss_index is not None:
                sims, pos = self._faiss_index.search(qs, kk)
            else:
                assert self._mat is not None
                full = qs @ self._mat[:n].T
                full[:, ~self._alive[:n]] = -np.inf
                pos = (
                    np.argpartition(-full, kk - 1, axis=1)[:, :kk]
                    if kk < n
                    else (np.tile(np.arange(n), (len(qs), 1)))
                )
                sims = np.take_along_axis(full, pos, axis=1)
            order = np.argsort(-sims, axis=1, kind="stable")
            pos, sims = np.take_along_axis(pos, order, 1), np.take_along_axis(sims, order, 1)
            ok = (pos >= 0) & self._alive[np.maximum(pos, 0)] & np.isfinite(sims)
            ids = np.where(ok, self._ids[np.maximum(pos, 0)], -1)
            return ids, np.where(ok, sims, -np.inf).astype(np.float32)

    def vectors(self, asset_ids: list[int] | NDArray[np.int64]) -> dict[int, NDArray[np.float32]]:
        """The stored vectors (fp16-rounded once faiss holds them)."""
        with self._lock:
            pos = self.positions(asset_ids)
            if not len(pos):
                return {}
            if self._faiss_index is not None:
                vecs = self._faiss_index.reconstruct_batch(pos)
            else:
                assert self._mat is not None
                vecs = self._mat[pos]
            return {int(self._ids[p]): v for p, v in zip(pos, vecs, strict=True)}
