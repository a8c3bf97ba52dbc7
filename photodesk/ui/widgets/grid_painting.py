"""Painting the asset grid's day headers, the pinned date and the rubber band (AssetGrid's own
paint pass lays these around the tiles its delegate paints)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QRect
from PySide6.QtGui import QColor, QPainter, QPalette, QRegion

from photodesk.ui.widgets.thumb_delegate import HEADER, PAD, GridLayout, paint_header


def day_title(group_day: object) -> str:
    if group_day is None:
        return "No date"
    return f"{group_day:%a} {group_day.day} {group_day:%b %Y}"  # type: ignore[attr-defined]


def range_selected(sel: QItemSelectionModel | None, model: Any, first: int, count: int) -> bool:
    """Whether every row of ``first .. first + count - 1`` is selected."""
    if sel is None or not sel.isSelected(model.index(first + count - 1, 0)):
        return False
    return all(sel.isSelected(model.index(r, 0)) for r in range(first, first + count))


def paint_headers(
    painter: QPainter,
    lay: GridLayout,
    region: QRegion,
    y0: int,
    y1: int,
    *,
    palette: QPalette,
    title: Callable[[int], str],
    hover_header: int | None,
    all_selected: Callable[[int, int], bool],
) -> None:
    """The day headers (with a month or event title over the first day of one) in ``y0 .. y1``."""
    gi = lay.group_at(y0) or 0
    while gi < len(lay.groups) and lay.tops[gi] <= y1:
        g = lay.groups[gi]
        rect = lay.header_rect(gi)
        if region.intersects(rect):
            paint_header(
                painter,
                rect,
                month=title(gi) if lay.month_starts[gi] else None,
                day=day_title(g.day),
                count=g.count,
                palette=palette,
                hover=hover_header == gi,
                all_selected=all_selected(g.first, g.count),
            )
        gi += 1


def paint_sticky(
    painter: QPainter, lay: GridLayout, offset: int, width: int, palette: QPalette
) -> None:
    """Once a day's own header scrolls away, its date stays pinned at the top."""
    gi = lay.group_at(offset)
    if gi is None or offset <= lay.bodies[gi] - HEADER:  # its own day line is in full view
        return
    g = lay.groups[gi]
    bar = QRect(0, offset, width, HEADER)
    fill = QColor(palette.color(QPalette.ColorRole.Base))
    fill.setAlpha(232)
    painter.fillRect(bar, fill)
    title = day_title(g.day) if g.day else "No date"
    paint_header(
        painter,
        bar.adjusted(PAD, 0, -PAD, 0),
        month=None,
        day=title,
        count=g.count,
        palette=palette,
    )


def paint_band(painter: QPainter, band: QRect, palette: QPalette) -> None:
    """The rubber band of a drag selection, in the painter's coordinates."""
    color = palette.color(QPalette.ColorRole.Highlight)
    painter.setPen(color)
    fill = QColor(color)
    fill.setAlpha(50)
    painter.setBrush(fill)
    painter.drawRect(band)
