"""CLIP smart search: text queries, "more like this" and near-duplicate groups over the catalog.

Relevance floor. CLIP cosine similarities between a text and images sit in a narrow band
(ViT-B/32: about 0.12-0.22 for unrelated photos, 0.25-0.35 for good matches), and a nonsense
query still has a "best" photo. So a hit must pass two tests:

* an absolute floor per model (``Relevance.floor``): below it nothing is a match;
* a margin relative to the best hit that passed the filters (``Relevance.margin``): a query
  with a few strong matches does not drag in the long tail of weak ones.

The text embedder may carry its own calibrated ``relevance_floor`` / ``relevance_margin``;
else ``RELEVANCE`` below (by model name) or ``DEFAULT_RELEVANCE`` applies. Both can be changed
per library with the ``search.smart_floor`` / ``search.smart_margin`` settings.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from photodesk.core.catalog.db import settings, vector_search, vectors
from photodesk.core.catalog.errors import NotFound
from photodesk.core.inference.models import MLModels
from photodesk.core.search.query import Within
from photodesk.core.search.vector_index import VectorIndex

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

log = logging.getLogger(__name__)

MAX_HITS = 1000  # smart search returns at most this many photos (best first before sorting)
QUERY_CACHE = 128  # text embeddings kept (the desktop searches as the user types)
DUPLICATE_DISTANCE = 0.01  # cosine distance, Immich's default for near duplicates
SNAPSHOT_AFTER = 50_000  # rows read from the catalog that make saving a snapshot worth it
FIRST_HITS = 100  # a catalog search asks for this many first, and for all only when all count


@dataclass(frozen=True)
class Relevance:
    floor: float  # minimum cosine similarity between the text and a photo
    margin: float  # at most this far below the best hit


DEFAULT_RELEVANCE = Relevance(floor=0.20, margin=0.08)
RELEVANCE: dict[str, Relevance] = {
    "ViT-B-32__openai": Relevance(0.20, 0.08),
    "ViT-B-16__openai": Relevance(0.20, 0.08),
    "ViT-L-14__openai": Relevance(0.18, 0.08),
    # multilingual and SigLIP packs score on other scales
    "XLM-Roberta-Large-Vit-B-16Plus": Relevance(0.15, 0.08),
    "ViT-B-16-SigLIP__webli": Relevance(0.05, 0.06),
}


class _Loaded:
    def __init__(self, index: VectorIndex) -> None:
        self.index = index
        self.after = 0  # rowid of the last catalog row read


class SmartSearch:
    """Smart search over ``lib.ml`` and the catalog's embeddings (``lib.smart``)."""

    def __init__(self, store: Store, models: MLModels) -> None:
        self._store = store
        self._models = models
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()
        self._queries: OrderedDict[tuple[str, str], NDArray[np.float32]] = OrderedDict()
        self._in_catalog: bool | None = None

    def in_catalog(self) -> bool:
        """The catalog searches its own vector index (PostgreSQL with pgvector), not memory."""
        if self._in_catalog is None:
            with self._store.read() as s:
                self._in_catalog = vector_search.native(s)
        return self._in_catalog

    # ----- availability --------------------------------------------------------------------
    def model_name(self) -> str | None:
        text = self._models.text() if self._models.attached else None
        return text.model_name if text is not None else None

    def available(self) -> bool:
        """A text model is attached and some photos are embedded with it."""
        model = self.model_name()
        if model is None:
            return False
        if model in self._loaded and len(self._loaded[model].index):
            return True
        with self._store.read() as s:
            return vectors.any_of(s, model)

    # ----- the in-memory index -------------------------------------------------------------
    def index(self, model: str | None = None) -> VectorIndex | None:
        """The model's index, loaded on first use and brought up to date with the catalog."""
        model = model or self.model_name()
        if model is None:
            return None
        with self._lock:
            loaded = self._loaded.get(model)
            with self._store.read() as s:
                head = vectors.head(s)
                if loaded is not None and loaded.after == head:
                    return loaded.index
                if loaded is None:
                    dim = vectors.dim_of(s, model)
                    if dim is None:
                        return None
                    loaded = self._loaded[model] = self._from_snapshot(model, dim, head)
                added = 0
                for last, ids, vecs in vectors.read_since(s, model, loaded.after, loaded.index.dim):
                    loaded.index.add(ids, vecs)
                    loaded.after = last
                    added += len(ids)
                loaded.after = max(loaded.after, head)
            if added >= SNAPSHOT_AFTER and loaded.index.save(self._snapshot(model)):
                self._save_meta(model, loaded.after)
            return loaded.index

    def _snapshot(self, model: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
        return self._store.root / "cache" / f"clip-{safe}"

    def _save_meta(self, model: str, after: int) -> None:
        with self._store.write() as s:
            settings.put(s, f"search.snapshot.{model}", after)

    def _from_snapshot(self, model: str, dim: int, head: int) -> _Loaded:
        """The saved index when it is there and older than the catalog, else an empty one."""
        after = self._setting(f"search.snapshot.{model}")
        if isinstance(after, int) and after <= head:
            index = VectorIndex.load(self._snapshot(model), dim)
            if index is not None:
                loaded = _Loaded(index)
                loaded.after = after
                return loaded
        return _Loaded(VectorIndex(dim))

    def warm(self) -> None:
        """Load the index now (the desktop calls it off the GUI thread after start); nothing to
        load when the catalog searches (near duplicates load it when asked)."""
        if not self.in_catalog():
            self.index()

    def forget(self, asset_ids: Sequence[int]) -> None:
        """Drop deleted assets from the loaded indexes (results are re-checked anyway)."""
        with self._lock:
            for loaded in self._loaded.values():
                loaded.index.remove(list(asset_ids))

    # ----- relevance -----------------------------------------------------------------------
    def relevance(self) -> Relevance:
        text = self._models.text()
        name = text.model_name if text is not None else ""
        base = RELEVANCE.get(name, DEFAULT_RELEVANCE)
        floor = getattr(text, "relevance_floor", None)
        margin = getattr(text, "relevance_margin", None)
        f, m = self._setting("search.smart_floor"), self._setting("search.smart_margin")
        pick = lambda row, own, dflt: (  # noqa: E731
            float(row)
            if isinstance(row, int | float)
            else float(own)
            if isinstance(own, int | float)
            else dflt
        )
        return Relevance(pick(f, floor, base.floor), pick(m, margin, base.margin))

    def _setting(self, key: str) -> object:
        with self._store.read() as s:
            value: object = settings.get(s, key)
            return value

    def embed_text(self, text: str) -> NDArray[np.float32] | None:
        embedder = self._models.text()
        if embedder is None:
            return None
        key = (embedder.model_name, " ".join(text.split()).casefold())
        with self._lock:
            if key in self._queries:
                self._queries.move_to_end(key)
                return self._queries[key]
        vec = np.asarray(embedder.embed_text([text]), dtype=np.float32)[0]
        vec = vec / max(float(np.linalg.norm(vec)), 1e-12)
        with self._lock:
            self._queries[key] = vec
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vec

    # ----- searching -----------------------------------------------------------------------
    def nearest(
        self,
        query: NDArray[np.float32],
        k: int,
        *,
        within: Within | None = None,
        exclude: Sequence[int] = (),
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]] | None:
        """``(asset ids, cosine similarities)`` of the ``k`` embeddings nearest ``query`` that
        pass ``within``, best first, from the catalog's own index; None when the catalog has
        none (SQLite, PostgreSQL without pgvector) or the filters are not SQL."""
        model = self.model_name()
        if model is None or not self.in_catalog() or (within is not None and within.where is None):
            return None
        where = within.where if within is not None else None
        with self._store.read() as s:
            rows = vector_search.nearest(s, model, query, k, where=where, exclude=exclude)
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        # exact float32 scores of the candidates, as the in-memory index gives
        ids = np.fromiter((a for a, _ in rows), dtype=np.int64, count=len(rows))
        sims = np.stack([v for _, v in rows]) @ np.asarray(query, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")
        return ids[order], sims[order].astype(np.float32)

    def search(
        self, text: str, *, within: Within | None = None, limit: int = MAX_HITS
    ) -> list[tuple[int, float]]:
        """``(asset id, cosine similarity)`` of the photos matching ``text``, best first.

        In memory, exact: the unfiltered top ``limit`` is re-checked against the filters; when
        the filters drop so much that more matches may lie beyond it, the search runs again
        among only the ids the filters let through. In the catalog (pgvector) alike: the
        unfiltered top ``FIRST_HITS`` first; only when all of them pass the floor, a filtered
        index scan; ``limit`` rows only when all of those pass the floor and the margin.
        """
        q = self.embed_text(text)
        if q is None:
            return []
        rel = self.relevance()
        first = min(limit, FIRST_HITS)
        sql = within is None or within.where is not None
        found = self.nearest(q, first) if sql else None
        if found is not None:
            ids, sims = found  # unfiltered: the cheapest index scan
            above = sims >= rel.floor
            if within is not None and (not above.all() or len(ids) < first):
                # every match above the floor is in hand: keep those the filters let through
                # (a filtered scan would go on visiting rows until ``first`` of them passed)
                passed = within.keep([int(i) for i in ids[above]])
                above &= np.fromiter((int(i) in passed for i in ids), dtype=bool, count=len(ids))
            elif within is not None:
                ids, sims = self.nearest(q, first, within=within) or found
                above = sims >= rel.floor
            more = limit > first and len(ids) >= first and bool(above.all())
            if more and sims[-1] >= sims[0] - rel.margin:  # past the best ``first`` all count
                ids, sims = self.nearest(q, limit, within=within) or found
                above = sims >= rel.floor
            ids, sims = ids[above], sims[above]
        else:
            index = self.index()
            if index is None or not len(index):
                return []
            ids, sims = index.search(q, limit)
            above = sims >= rel.floor
            everything_seen = not above.all() or len(ids) < limit
            ids, sims = ids[above], sims[above]
            if within is not None and len(ids):
                passed = within.keep([int(i) for i in ids])
                ok = np.fromiter((int(i) in passed for i in ids), dtype=bool, count=len(ids))
                if ok.sum() < min(limit, len(ids)) and not everything_seen:
                    ids, sims = index.search(q, limit, among=within.all())
                    ok = sims >= rel.floor
                ids, sims = ids[ok], sims[ok]
        if not len(ids):
            return []
        keep = sims >= sims[0] - rel.margin
        return [(int(i), float(v)) for i, v in zip(ids[keep], sims[keep], strict=True)]

    def rank(self, text: str, *, candidates: Sequence[int]) -> list[tuple[int, float]]:
        """The SemanticSearch port's call: ``search`` among explicit candidates."""
        allowed = set(candidates)
        return self.search(
            text, within=Within(lambda ids: allowed.intersection(ids), lambda: list(allowed))
        )

    def similar(
        self, asset_id: int, limit: int = 50, *, within: Within | None = None
    ) -> list[tuple[int, float]]:
        """Photos that look like ``asset_id`` (not itself), most similar first."""
        model = self.model_name()
        if model is not None and self.in_catalog():
            with self._store.read() as s:
                vec = vectors.vectors_of(s, model, [asset_id]).get(int(asset_id))
            found = (
                None if vec is None else self.nearest(vec, limit, within=within, exclude=[asset_id])
            )
            if found is not None:
                return [(int(i), float(v)) for i, v in zip(*found, strict=True)]
            if vec is None:
                raise NotFound(f"asset {asset_id} has no smart-search embedding yet")
        index = self.index()
        vec = index.vectors([asset_id]).get(int(asset_id)) if index is not None else None
        if index is None or vec is None:
            raise NotFound(f"asset {asset_id} has no smart-search embedding yet")
        ids, sims = index.search(vec, limit + 1)
        pairs = [(int(i), float(v)) for i, v in zip(ids, sims, strict=True) if i != asset_id]
        if within is not None:
            passed = within.keep([i for i, _ in pairs])
            if len(passed) < min(limit, len(pairs)) and len(ids) > limit:
                # the filters dropped some: the next best lie beyond, among the ids that pass
                ids, sims = index.search(vec, limit + 1, among=within.all())
                pairs = [(int(i), float(v)) for i, v in zip(ids, sims, strict=True)]
                passed = {i for i, _ in pairs if i != asset_id}
            pairs = [p for p in pairs if p[0] in passed]
        return pairs[:limit]

    def near_duplicates(
        self, max_distance: float = DUPLICATE_DISTANCE, *, within: Within | None = None
    ) -> list[list[int]]:
        """Groups of photos whose embeddings are within ``max_distance`` (cosine), biggest first."""
        index = self.index()
        if index is None:
            return []
        ids = index.ids()
        if within is not None:
            passed = within.keep([int(i) for i in ids])
            ids = np.array(sorted(passed), dtype=np.int64)
        parent = {int(i): int(i) for i in ids}

        def root(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for start in range(0, len(ids), 512):
            chunk = ids[start : start + 512]
            vecs = index.vectors(chunk)
            order = list(vecs)
            near, sims = index.search_many(np.stack([vecs[a] for a in order]), 16)
            for row, aid in enumerate(order):
                for other, sim in zip(near[row], sims[row], strict=True):
                    other = int(other)
                    if other != aid and other in parent and 1.0 - sim <= max_distance:
                        a, b = root(aid), root(other)
                        if a != b:
                            parent[max(a, b)] = min(a, b)
        groups: dict[int, list[int]] = {}
        for aid in parent:
            groups.setdefault(root(aid), []).append(aid)
        found = [sorted(g) for g in groups.values() if len(g) > 1]
        return sorted(found, key=lambda g: (-len(g), g[0]))

    # ----- writing (the clip job) ----------------------------------------------------------
    def store(self, model: str, rows: Sequence[tuple[int, NDArray[np.float32]]]) -> None:
        """Save embeddings to the catalog; the loaded index picks them up on its next use."""
        with self._store.write() as s:
            vectors.save(s, model, rows)
