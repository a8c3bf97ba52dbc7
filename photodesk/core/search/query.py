"""Search service: free text and filters over the catalog, sorted by date or relevance."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from photodesk.core.catalog.db import search as search_repo
from photodesk.core.catalog.db import text_index
from photodesk.core.catalog.errors import InvalidInput, NotFound
from photodesk.core.catalog.types import AssetId, AssetQuery

if TYPE_CHECKING:
    from photodesk.core.catalog.db.search import AssetFilter
    from photodesk.core.catalog.store import Session, Store

Sort = Literal["date", "relevance"]
KINDS = ("photo", "raw", "video")
FILE_ROLES = ("original", "duplicate")
# How much a match in each field counts towards relevance (a whole-field match counts 3x,
# a whole word 2x, a word prefix 1.5x, any other substring 1x).
WEIGHTS = {"title": 4.0, "tag": 4.0, "place": 3.0, "file": 2.0, "description": 1.0}
SEMANTIC_WEIGHT = 10.0  # a CLIP similarity (0-1) is worth this many lexical points
# Runs smart search alongside the text matching of the same query (short calls, not jobs).
_AHEAD = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photodesk-search")
_TOKENS = re.compile(r'"([^"]+)"|(\S+)')
_WORDS = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for; every field left at its default matches everything."""

    text: str = ""  # file name, title, description, tag paths, place names ("quoted phrase")
    person: str | None = None  # a person's name (exact, any case)
    place: str | None = None  # a city, region or country name, or an ISO country code
    camera: str | None = None  # part of the make, the model, or "make model"
    lens: str | None = None  # part of the lens name
    taken_from: datetime | None = None  # inclusive
    taken_to: datetime | None = None  # exclusive
    kind: str | None = None  # photo | raw | video
    album: str | None = None  # album name
    tag: str | None = None  # a tag path; matches the tag and everything below it
    favorite: bool | None = None
    min_rating: int | None = None
    archived: bool | None = False  # None: both
    sort: Sort = "date"  # "relevance" ranks text matches (by date without text)
    newest_first: bool = True
    semantic: bool = True  # also run CLIP smart search on ``text`` when it is available
    limit: int | None = None

    def is_empty(self) -> bool:
        """True when nothing narrows the search (it then lists the whole library)."""
        return self == SearchQuery(sort=self.sort, newest_first=self.newest_first)


@dataclass(frozen=True)
class SearchFacets:
    """Known values for each filter, for completion in the front ends."""

    people: tuple[str, ...]
    places: tuple[str, ...]
    cameras: tuple[str, ...]
    lenses: tuple[str, ...]
    albums: tuple[str, ...]
    tags: tuple[str, ...]


class SemanticSearch(Protocol):
    """Smart search (CLIP) provided by the ML layer; the core works without it."""

    def available(self) -> bool:
        """True when the text model and image embeddings are there to search."""
        ...

    def rank(self, text: str, *, candidates: Sequence[int]) -> list[tuple[int, float]]:
        """``(asset id, similarity 0-1)`` among ``candidates`` (the ids the structured filters
        let through), above the relevance floor, best first."""
        ...


@dataclass(frozen=True)
class Within:
    """The structured filters of a search, as two callables for the smart-search index."""

    keep: Callable[[Sequence[int]], set[int]]  # which of these ids pass
    all: Callable[[], list[int]]  # every id that passes (asked only when the filter is narrow)
    where: Any = None  # the same filters as a WHERE clause on assets (a catalog that searches)


@runtime_checkable
class ScalableSemanticSearch(Protocol):
    """The smart search the ML layer attaches (core/smart_search.py): searches its index and
    re-checks only its hits against the filters, so it scales past what ``rank`` can."""

    def available(self) -> bool: ...

    def search(self, text: str, *, within: Within | None = None) -> list[tuple[int, float]]: ...

    def similar(
        self, asset_id: int, limit: int = 50, *, within: Within | None = None
    ) -> list[tuple[int, float]]: ...

    def near_duplicates(
        self, max_distance: float = 0.01, *, within: Within | None = None
    ) -> list[list[int]]: ...


def tokens(text: str) -> list[str]:
    """``'paris "eiffel tower"'`` -> ``["paris", "eiffel tower"]`` (case-folded)."""
    return [(q or w).casefold().strip() for q, w in _TOKENS.findall(text) if (q or w).strip()]


def match_score(token: str, value: str | None, weight: float) -> float:
    """How well ``token`` matches ``value``: 0, or ``weight`` times 1 to 3."""
    if not value:
        return 0.0
    v = value.casefold()
    if token not in v:
        return 0.0
    if v == token:
        return weight * 3
    words = [w for w in _WORDS.split(v) if w]
    if token in words:
        return weight * 2
    if any(w.startswith(token) for w in words):
        return weight * 1.5
    return weight


def _file_score(token: str, path: str) -> float:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if stem.casefold() == token:
        return WEIGHTS["file"] * 3
    return match_score(token, name, WEIGHTS["file"])


class SearchService:
    """``search(SearchQuery) -> [AssetId]``, the call the desktop and ``photodesk search`` share."""

    def __init__(self, store: Store, semantic: SemanticSearch | None = None) -> None:
        self._store = store
        self.semantic = semantic

    def attach_semantic(self, semantic: SemanticSearch | None) -> None:
        """Plug in (or remove) CLIP smart search; issue 5's ML layer provides it."""
        self.semantic = semantic

    @property
    def semantic_available(self) -> bool:
        """Whether free text also runs smart search; front ends say so when it does not."""
        return self.semantic is not None and self.semantic.available()

    # ----- the search ------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> list[AssetId]:
        if query.kind and query.kind not in KINDS:
            raise InvalidInput(f"unknown media type {query.kind!r} (photo, raw or video)")
        if query.min_rating is not None and not 0 <= query.min_rating <= 5:
            raise InvalidInput("a rating is 0 to 5 stars")
        base = self._filtered(query)
        words = tokens(query.text)
        smart = bool(words) and query.semantic and self.semantic_available
        ahead: Future[list[tuple[int, float]]] | None = None
        if smart and isinstance(self.semantic, ScalableSemanticSearch):
            # Scales to a million photos: the index finds the matches, the filters re-check
            # only those (never a listing of the whole library). It runs while the text is
            # matched below: both wait on native code (the text model, SQLite) with the GIL
            # released, so the two cores overlap them.
            ahead = _AHEAD.submit(self.semantic.search, query.text, within=self._within(base))
        try:
            with self._store.read() as s:
                if not words:
                    return [AssetId(i) for i in search_repo.ids(s, base, query.limit or None)]
                scores = self._text_scores(s, words, base.whereclause)
                if smart and ahead is None:
                    # A plain port ranks among every id the filters let through.
                    ordered = search_repo.ids(s, base)
        finally:
            ranked = ahead.result() if ahead is not None else None
        if smart:
            assert self.semantic is not None
            if ranked is None:
                ranked = self.semantic.rank(query.text, candidates=ordered)
            for aid, similarity in ranked:
                scores[aid] = scores.get(aid, 0.0) + SEMANTIC_WEIGHT * similarity
        with self._store.read() as s:
            # The hits that pass the filters, in date order (by id lookups, not a scan).
            hits = search_repo.among(s, base, list(scores), query.newest_first) if scores else []
        if query.sort == "relevance":
            hits.sort(key=lambda i: -scores[i])  # stable: equal scores stay in date order
        return [AssetId(i) for i in hits[: query.limit or None]]

    def _within(self, base: AssetFilter) -> Within:
        def keep(ids: Sequence[int]) -> set[int]:
            with self._store.read() as s:
                return search_repo.passing(s, base, list(dict.fromkeys(ids)))

        def everything() -> list[int]:
            with self._store.read() as s:
                return search_repo.ids(s, base, ordered=False)

        return Within(keep, everything, base.whereclause)

    # ----- more like this, near duplicates ---------------------------------------------------
    def similar(self, asset_id: int, limit: int = 50) -> list[AssetId]:
        """Photos that look like ``asset_id`` (smart search), most similar first.

        Raises:
            NotFound: smart search is not set up, or this photo is not embedded yet.
        """
        smart = self.semantic
        if not isinstance(smart, ScalableSemanticSearch) or not smart.available():
            raise NotFound("smart search is not available (see `photodesk index --clip`)")
        base = self._filtered(SearchQuery(archived=None))
        pairs = smart.similar(asset_id, limit, within=self._within(base))
        return [AssetId(i) for i, _ in pairs]

    def near_duplicates(self, threshold: float = 0.01) -> list[list[AssetId]]:
        """Groups of photos within ``threshold`` cosine distance of each other (CLIP)."""
        if not 0.0 < threshold <= 0.5:
            raise InvalidInput("a near-duplicate threshold is a cosine distance in (0, 0.5]")
        smart = self.semantic
        if not isinstance(smart, ScalableSemanticSearch) or not smart.available():
            return []
        base = self._filtered(SearchQuery(archived=None))
        groups = smart.near_duplicates(threshold, within=self._within(base))
        return [[AssetId(i) for i in g] for g in groups]

    def _filtered(self, q: SearchQuery) -> AssetFilter:
        """The structured filters, in date order, as one SELECT of asset ids."""
        return search_repo.filtered(
            self._store.owner_id,
            AssetQuery(
                kind=q.kind,
                taken_from=q.taken_from,
                taken_to=q.taken_to,
                tag=q.tag or None,
                album=q.album or None,
                favorite=q.favorite,
                min_rating=q.min_rating or None,
                archived=q.archived,
                newest_first=q.newest_first,
            ),
            camera=(q.camera or "").strip() or None,
            lens=(q.lens or "").strip() or None,
            place=(q.place or "").strip() or None,
            person=(q.person or "").strip() or None,
        )

    def _text_scores(self, s: Session, words: list[str], where: Any) -> dict[int, float]:
        """Assets matching every word in some field, with their summed match quality; only
        those the filters (``where``, owner included) let through are scored, so the work
        follows the user's matches, not every user's."""
        total: dict[int, float] = {}
        for n, word in enumerate(words):
            found: dict[int, float] = defaultdict(float)
            for aid, path in text_index.file_matches(s, word, FILE_ROLES, where):
                found[aid] = max(found[aid], _file_score(word, path))
            for aid, title, description in text_index.text_matches(s, word, where):
                found[aid] += match_score(word, title, WEIGHTS["title"])
                found[aid] += match_score(word, description, WEIGHTS["description"])
            self._tag_scores(s, word, found, where)
            self._place_scores(s, word, found, where)
            matched = {aid: sc for aid, sc in found.items() if sc > 0}
            if n == 0:
                total = matched
            else:
                total = {aid: total[aid] + sc for aid, sc in matched.items() if aid in total}
            if not total:
                break
        return total

    def _tag_scores(self, s: Session, word: str, found: dict[int, float], where: Any) -> None:
        weight = WEIGHTS["tag"]
        tag_scores = {
            tid: max(match_score(word, path, weight), match_score(word, name, weight))
            for tid, path, name in search_repo.tags_containing(s, self._store.owner_id, word)
        }
        tag_scores = {tid: sc for tid, sc in tag_scores.items() if sc > 0}
        if not tag_scores:
            return
        best: dict[int, float] = defaultdict(float)
        for aid, tid in search_repo.tagged(s, list(tag_scores), where):
            best[aid] = max(best[aid], tag_scores[tid])
        for aid, sc in best.items():
            found[aid] += sc

    def _place_scores(self, s: Session, word: str, found: dict[int, float], where: Any) -> None:
        weight = WEIGHTS["place"]
        place_scores: dict[int, float] = {}
        for pid, city, admin1, country, code in search_repo.places_matching(s, word):
            sc = max(
                match_score(word, city, weight),
                match_score(word, admin1, weight),
                match_score(word, country, weight),
                weight * 3 if (code or "").casefold() == word else 0.0,
            )
            if sc > 0:
                place_scores[pid] = sc
        if not place_scores:
            return
        for aid, place_id in search_repo.placed(s, list(place_scores), where):
            found[aid] += place_scores[place_id]

    # ----- completion ------------------------------------------------------------------------
    def facets(self) -> SearchFacets:
        """People, places, cameras, lenses, albums and tags the owner's photos have."""
        with self._store.read() as s:
            raw = search_repo.facet_values(s, self._store.owner_id)
        places: set[str] = set()
        for row in raw["places"]:
            places.update(v for v in row if v)
        cameras = {_camera_label(make, model) for make, model in raw["cameras"] if make or model}
        return SearchFacets(
            people=tuple(p for p in raw["people"] if p),
            places=tuple(sorted(places, key=str.casefold)),
            cameras=tuple(sorted(cameras, key=str.casefold)),
            lenses=tuple(lens for lens in raw["lenses"] if lens),
            albums=tuple(raw["albums"]),
            tags=tuple(raw["tags"]),
        )


def _camera_label(make: str | None, model: str | None) -> str:
    """``("Canon", "Canon EOS 6D")`` -> ``"Canon EOS 6D"``; ``("SONY", "A7")`` -> ``"SONY A7"``."""
    make, model = (make or "").strip(), (model or "").strip()
    if not model:
        return make
    if not make or model.casefold().startswith(make.casefold().split()[0]):
        return model
    return f"{make} {model}"
