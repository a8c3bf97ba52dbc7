"""AssetGridModel: the tiles of a query (or a list of ids), paged in off-thread, grouped by day."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from photodesk.core import (
    AssetQuery,
    Changes,
    Cursor,
    GridItem,
    Library,
    MonthBucket,
    TimelineService,
)
from photodesk.ui import ops
from photodesk.ui.models.grid_rows import (
    CHECKSUM,
    ID,
    Batch,
    DayGroup,
    Row,
    SortKey,
    as_row,
    group_days,
    indexed,
    make_batch,
    months_of,
    sort_key,
    with_inserted,
    without,
)
from photodesk.ui.thumbs import ThumbnailCache

FIRST_PAGE = 400  # the first screen (and then some) of a large window
PAGE = 4000
FIRST_SCREEN_MS = 150  # the rest waits this long after the first page: its thumbnails go first
RELOAD_ABOVE = 20_000  # changed ids past which a reload is cheaper than a refresh
ItemRole = Qt.ItemDataRole.UserRole + 1  # the GridItem
IdRole = Qt.ItemDataRole.UserRole + 2
ThumbnailRole = Qt.ItemDataRole.UserRole + 3  # QPixmap, or None then dataChanged once loaded
AnyIndex = QModelIndex | QPersistentModelIndex


def timeline_of(library: Library) -> TimelineService:
    """``library.timeline``: the grid's reads."""
    return library.timeline


class AssetGridModel(QAbstractListModel):
    """One row per tile. The first page comes at once, the rest follows in background pages.

    Call ``on_changed(changes)`` with the bridge's ``Changes``: only the overlapping assets are
    read again; rows move, appear or go without a reset, so selection and scroll stay put.
    """

    groups_changed = Signal()  # rows were added, moved or removed: lay the grid out again
    months_changed = Signal()
    loading_finished = Signal()

    def __init__(
        self,
        library: Library,
        parent: QObject | None = None,
        *,
        query: AssetQuery | None = None,
        thumbs: ThumbnailCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.timeline = timeline_of(library)
        self.thumbs = thumbs
        self.thumb_px = 256  # device pixels of a tile, set by the view
        self.grouped = True
        self._source: AssetQuery | list[int] = query or AssetQuery()
        self._items: list[Row] = []
        self._keys: list[SortKey] = []
        self._days: list[int] = []
        # asset id -> sort key (date-sorted rows, found by bisection) or row (lists in given order)
        self._index: dict[int, Any] = {}
        self._groups: list[DayGroup] = []
        self._months: list[MonthBucket] = []
        self._gen = 0  # bumped by reload(): answers to older requests are dropped
        self._version = 0  # bumped by every change of rows: merges made on older rows redo
        self._complete = False
        self._pending: set[int] = set()
        self._debounce = QTimer(self, singleShot=True, interval=60)
        self._debounce.timeout.connect(self._on_debounce)
        if thumbs is not None:
            thumbs.ready.connect(self._on_thumb_ready)

    # ----- source -------------------------------------------------------------------------------
    @property
    def query(self) -> AssetQuery | None:
        return self._source if isinstance(self._source, AssetQuery) else None

    @property
    def newest_first(self) -> bool:
        return self._source.newest_first if isinstance(self._source, AssetQuery) else True

    def set_query(self, query: AssetQuery) -> None:
        self._set_grouped(True)
        self._source = query
        self.reload()

    def set_ids(self, ids: Iterable[int], *, by_date: bool = True) -> None:
        """Show these assets (a map selection, search hits): by date, or in the order given."""
        self._set_grouped(by_date)
        self._source = [int(i) for i in ids]
        self.reload()

    def _set_grouped(self, grouped: bool) -> None:
        """Grouped rows are indexed by sort key, a plain list by row: a change of mode forgets
        the index until the reload brings the new rows (a refresh in between finds nothing)."""
        if grouped != self.grouped:
            self._index = {}
        self.grouped = grouped

    def reload(self) -> None:
        self._gen += 1
        gen, tl, source = self._gen, self.timeline, self._source
        self._complete = False
        if isinstance(source, AssetQuery):
            ops.query(
                self,
                lambda: self._fetch(source, None, FIRST_PAGE),
                lambda b: self._on_first(gen, b),
            )
        else:
            by_date = self.grouped
            newest = True

            def fetch() -> Batch:
                items = [i for i in tl.items(source) if not i.trashed]
                if by_date:
                    items.sort(key=lambda i: sort_key(i, newest))
                return indexed(make_batch(items, newest), by_date, newest, months=True)

            ops.query(self, fetch, lambda b: self._on_batch(gen, b, reset=True))

    def _on_first(self, gen: int, batch: Batch) -> None:
        """The first screen first; month counts (for the scrubber) only then, not competing."""
        if batch.next is None:  # it was all there is: count its months here
            batch.months = months_of(batch.days, self.newest_first)
        self._on_batch(gen, batch, reset=True)
        source, tl = self._source, self.timeline
        if batch.next is None:
            return

        def months() -> None:
            if gen == self._gen and isinstance(source, AssetQuery):
                ops.query(self, lambda: tl.months(source), lambda m: self._on_months(gen, m))

        QTimer.singleShot(FIRST_SCREEN_MS, months)

    def _fetch(self, query: AssetQuery, after: Cursor | None, limit: int) -> Batch:
        page = self.timeline.page(query, after, limit)
        batch = make_batch(page.items, query.newest_first, page.next)
        return indexed(batch, True, query.newest_first) if after is None else batch

    # ----- reading ------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not 0 <= row < len(self._items):
            return None
        if role == ThumbnailRole:
            return self.thumbnail(row)
        if role == ItemRole:
            return self.item(row)
        if role == IdRole:
            return self._items[row][ID]
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return describe(self.item(row))
        return None

    def item(self, row: int) -> GridItem:
        return GridItem(*self._items[row])

    def ids(self) -> list[int]:
        return [t[ID] for t in self._items]

    def row_of(self, asset_id: int) -> int | None:
        ref = self._index.get(asset_id)
        if ref is None or not self.grouped:
            return ref
        row = bisect.bisect_left(self._keys, ref)
        return row if row < len(self._items) and self._items[row][ID] == asset_id else None

    def groups(self) -> list[DayGroup]:
        return self._groups

    def months(self) -> list[MonthBucket]:
        return self._months

    def is_complete(self) -> bool:
        """True once every page is in."""
        return self._complete

    # ----- loading ------------------------------------------------------------------------------
    def _on_batch(self, gen: int, batch: Batch, *, reset: bool = False) -> None:
        if gen != self._gen:
            return
        self._version += 1
        if reset:
            self.beginResetModel()
            self._items, self._keys, self._days = batch.items, batch.keys, batch.days
            self._index, self._groups = batch.index or {}, batch.groups or []
            self.endResetModel()
        else:
            fresh = [k for k, t in enumerate(batch.items) if t[ID] not in self._index]
            if fresh:
                start = len(self._items)
                self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
                self._items += [batch.items[k] for k in fresh]
                self._keys += [batch.keys[k] for k in fresh]
                self._days += [batch.days[k] for k in fresh]
                for r in range(start, len(self._items)):
                    self._index[self._items[r][ID]] = self._keys[r] if self.grouped else r
                self.endInsertRows()
                self._extend_groups(start)
        source = self._source
        limit = source.limit if isinstance(source, AssetQuery) else None
        if limit and len(self._items) >= limit:
            self._drop_rows(range(limit, len(self._items)))
        elif batch.next is not None and isinstance(source, AssetQuery):
            nxt = batch.next

            def more() -> None:
                if gen == self._gen:
                    fetch = partial(self._fetch, source, nxt, PAGE)
                    ops.query(self, fetch, lambda b: self._on_batch(gen, b))

            # After the first page, give its thumbnails a head start (a launch is judged by
            # its first screen); later pages follow each other at once.
            QTimer.singleShot(FIRST_SCREEN_MS if reset else 0, more)
            self.groups_changed.emit()
            return
        self._complete = True
        if batch.months is not None:
            self._months = batch.months
            self.months_changed.emit()
        self.groups_changed.emit()
        self.loading_finished.emit()

    def _on_months(self, gen: int, months: list[MonthBucket]) -> None:
        if gen == self._gen:
            self._months = months
            self.months_changed.emit()

    def _extend_groups(self, start: int) -> None:
        """Group the rows appended from ``start`` on (O(new rows))."""
        if not self.grouped:
            self._groups = group_days(self._days, False)
            return
        groups = self._groups
        if groups and self._days[groups[-1].first] == self._days[start]:
            groups[-1].count += 1
            start += 1
        groups += group_days(self._days, True, start)

    # ----- changes ------------------------------------------------------------------------------
    def on_changed(self, changes: Changes) -> None:
        """Refresh what overlaps a write: the assets it names, or everything when it is vague."""
        q = self.query
        if not changes.assets:
            vague = changes.assets_added or changes.assets_removed
            if q is not None and (
                vague or (changes.tags and q.tag) or (changes.albums and q.album)
            ):
                self.reload()
            return
        if self.thumbs is not None:
            rows = [self.row_of(i) for i in changes.assets]
            stale = {self._items[r][CHECKSUM] for r in rows if r is not None}
            self.thumbs.forget({c for c in stale if self.thumbs.is_missing(c)})
        self._pending |= set(changes.assets)
        self._debounce.start()

    def _on_debounce(self) -> None:
        ids, self._pending = self._pending, set()
        if len(ids) > RELOAD_ABOVE:
            self.reload()
            return
        gen, tl, source = self._gen, self.timeline, self._source
        if isinstance(source, AssetQuery):

            def fetch() -> tuple[list[GridItem], frozenset[int]]:
                refresh = tl.refresh(source, ids)
                return list(refresh.items), frozenset(refresh.considered)
        else:
            mine = [i for i in source if i in ids]

            def fetch() -> tuple[list[GridItem], frozenset[int]]:
                return [i for i in tl.items(mine) if not i.trashed], frozenset(mine)

        ops.query(self, fetch, lambda r: self._on_refresh(gen, *r))

    def _on_refresh(self, gen: int, items: list[GridItem], considered: frozenset[int]) -> None:
        if gen != self._gen:
            return
        newest, ordered = self.newest_first, self.grouped
        gone = {i for i in considered if i in self._index} - {int(it.id) for it in items}
        new: list[tuple[SortKey, GridItem]] = []
        for it in items:
            row = self.row_of(it.id)
            key = sort_key(it, newest)
            if row is not None and (not ordered or key == self._keys[row]):
                self._items[row] = as_row(it)
                self._version += 1  # a merge in flight must not bring the old item back
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [ItemRole, Qt.ItemDataRole.ToolTipRole])
                continue
            if row is not None:
                gone.add(int(it.id))
            if ordered and (self._complete or (self._keys and key < self._keys[-1])):
                new.append((key, it))  # past the pages loaded so far: a later page brings it
        if gone or new:
            self._merge(gen, gone, new)

    def _merge(self, gen: int, gone: set[int], new: list[tuple[SortKey, GridItem]]) -> None:
        """Remove and insert rows: the O(rows) work runs off the GUI thread on a snapshot."""
        version, newest, grouped = self._version, self.newest_first, self.grouped
        items, keys, days = list(self._items), list(self._keys), list(self._days)
        cut = sorted(r for i in gone if (r := self.row_of(i)) is not None)
        months = self._complete

        def merge() -> Batch:
            merged = Batch(without(items, cut), without(keys, cut), without(days, cut))
            if new:
                new.sort(key=lambda kv: kv[0])
                at = [bisect.bisect_left(merged.keys, k) for k, _ in new]
                fresh = make_batch([it for _, it in new], newest)
                merged.items = with_inserted(merged.items, at, fresh.items)
                merged.keys = with_inserted(merged.keys, at, fresh.keys)
                merged.days = with_inserted(merged.days, at, fresh.days)
            if grouped:  # the index maps ids to keys: only the changed ones change (in _swap)
                merged.groups = group_days(merged.days, True)
                merged.months = months_of(merged.days, newest) if months else None
                return merged
            return indexed(merged, grouped, newest, months=months)

        def done(merged: Batch) -> None:
            if gen != self._gen:
                return
            if version != self._version:  # rows changed meanwhile: merge into the new ones
                self._on_refresh(gen, [it for _, it in new], frozenset(gone))
                return
            self._swap(merged, gone, new)

        ops.query(self, merge, done)

    def _swap(self, merged: Batch, gone: set[int], new: list[tuple[SortKey, GridItem]]) -> None:
        """Install merged rows in one layout change; selections follow their assets."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        before = [self._items[p.row()][ID] if p.isValid() else None for p in persistent]
        self._version += 1
        self._items, self._keys, self._days = merged.items, merged.keys, merged.days
        self._groups = merged.groups or []
        if merged.index is not None:
            self._index = merged.index
        else:
            for i in gone:
                del self._index[i]
            self._index.update((int(it.id), key) for key, it in new)
        rows = [self.row_of(i) if i is not None else None for i in before]
        after = [self.index(r) if r is not None else QModelIndex() for r in rows]
        self.changePersistentIndexList(persistent, after)
        self.layoutChanged.emit()  # the grid lays itself out again on groups_changed
        self.groups_changed.emit()
        if merged.months is not None and self.query is not None:
            self._months = merged.months
            self.months_changed.emit()

    def _drop_rows(self, rows: range) -> None:
        if len(rows):
            self._version += 1
            self.beginRemoveRows(QModelIndex(), rows.start, rows.stop - 1)
            for r in rows:
                self._index.pop(self._items[r][ID], None)
            del self._items[rows.start :], self._keys[rows.start :], self._days[rows.start :]
            self.endRemoveRows()
            self._groups = group_days(self._days, self.grouped)

    def thumbnail(self, row: int) -> Any:
        """The tile's pixmap, or None (then it loads, and dataChanged follows)."""
        t = self._items[row]
        return self.thumbs.get(t[ID], t[CHECKSUM], self.thumb_px) if self.thumbs else None

    def _on_thumb_ready(self, asset_ids: list[int]) -> None:
        for asset_id in asset_ids:
            row = self.row_of(asset_id)
            if row is not None:
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [ThumbnailRole])


def describe(item: GridItem) -> str:
    """A tile's tooltip: when, what, rating."""
    t = item.taken_at
    parts = [f"{t:%a} {t.day} {t:%b %Y, %H:%M}" if t else "No date"]
    kind = {"raw": "RAW", "video": "Video"}.get(item.kind)
    if kind:
        parts.append(kind)
    if item.stack_size > 1:
        parts.append(f"stack of {item.stack_size}")
    if item.rating:
        parts.append("★" * item.rating)
    if item.favorite:
        parts.append("favourite")
    if item.on_server:
        parts.append("original on the server")
    elif item.offline:
        parts.append("offline")
    return " · ".join(parts)
