"""How the map looks: basemap colours, tiles, photo and cluster markers, notes (QPainter)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPixmap

from photodesk.core import TILE_SIZE, Cluster
from photodesk.ui.widgets.map_basemap import Basemap, Layer
from photodesk.ui.widgets.map_tiles import TileLayer

THUMB = 46  # px, a single photo's marker
LIGHT = {"sea": "#aad3df", "land": "#f2efe9", "coast": "#8fb8c8", "border": "#a597b5"}
DARK = {"sea": "#17263a", "land": "#2f3438", "coast": "#3c5a73", "border": "#707486"}
ACCENT = QColor("#e8590c")


def colours(dark: bool) -> dict[str, QColor]:
    return {k: QColor(v) for k, v in (DARK if dark else LIGHT).items()}


def world_copies(origin: QPointF, width: float, world: float) -> list[float]:
    """x offsets of the copies of the world that the view shows (the map wraps east-west)."""
    first, last = math.floor(origin.x() / world), math.floor((origin.x() + width) / world)
    return [k * world for k in range(first, last + 1)]


def paint_basemap(
    painter: QPainter,
    basemap: Basemap,
    zoom: int,
    origin: QPointF,
    size: QSizeF,
    col: dict[str, QColor],
) -> None:
    """Land, lakes and borders; ``origin`` is the view's top-left corner in world pixels."""
    coast = QPen(col["coast"], 0.8)
    coast.setCosmetic(True)
    border = QPen(col["border"], 1.0 if zoom < 4 else 1.4)
    border.setCosmetic(True)
    border.setStyle(Qt.PenStyle.DashLine if zoom >= 5 else Qt.PenStyle.SolidLine)
    layers: list[tuple[Layer, QPen, QColor | None]] = [
        (basemap.land(zoom), coast, col["land"]),
        (basemap.lakes, coast, col["sea"]),
        (basemap.borders, border, None),
    ]
    world = float(TILE_SIZE * 2**zoom)
    for shift in world_copies(origin, size.width(), world):
        view = QRectF(
            (origin.x() - shift) / world,
            origin.y() / world,
            size.width() / world,
            size.height() / world,
        )
        painter.save()
        painter.translate(shift - origin.x(), -origin.y())
        painter.scale(world, world)  # paths are in world units; cosmetic pens keep their width
        for layer, pen, brush in layers:
            painter.setPen(pen)
            painter.setBrush(brush if brush is not None else Qt.BrushStyle.NoBrush)
            for rect, path in layer.cells:
                if rect.intersects(view):
                    painter.drawPath(path)
        painter.restore()


def paint_tiles(
    painter: QPainter, tiles: TileLayer, zoom: int, origin: QPointF, size: QSizeF
) -> None:
    """The online layer's tiles that are in memory; the others are asked for."""
    n = 2**zoom
    tx0 = math.floor(origin.x() / TILE_SIZE)
    tx1 = math.floor((origin.x() + size.width()) / TILE_SIZE)
    ty0 = max(0, math.floor(origin.y() / TILE_SIZE))
    ty1 = min(n - 1, math.floor((origin.y() + size.height()) / TILE_SIZE))
    for ty in range(ty0, ty1 + 1):
        for tx in range(tx0, tx1 + 1):
            image = tiles.tile(zoom, tx % n, ty)
            if image is not None:
                x, y = tx * TILE_SIZE - origin.x(), ty * TILE_SIZE - origin.y()
                painter.drawImage(QRectF(x, y, TILE_SIZE, TILE_SIZE), image)


def radius(count: int) -> float:
    return 13.0 + 4.5 * math.log10(max(count, 1))


def count_text(count: int) -> str:
    if count < 1000:
        return str(count)
    return f"{count / 1000:.1f}k" if count < 10_000 else f"{count // 1000}k"


def thumb_rect(p: QPointF) -> QRectF:
    """A single photo's thumbnail sits above its point, on a short tail."""
    return QRectF(p.x() - THUMB / 2, p.y() - THUMB - 9, THUMB, THUMB)


def hits(p: QPointF, cluster: Cluster, pos: QPointF, thumb: bool) -> bool:
    if thumb and thumb_rect(p).adjusted(-3, -3, 3, 9).contains(pos):
        return True
    d = pos - p
    return math.hypot(d.x(), d.y()) <= (radius(cluster.count) if cluster.count > 1 else 9.0)


def paint_marker(
    painter: QPainter,
    p: QPointF,
    cluster: Cluster,
    selected: bool,
    pixmap: QPixmap | None,
    highlight: QColor,
) -> None:
    """A thumbnail for one photo (a dot until it loads), a circle with the count for a cluster."""
    ring = highlight if selected else QColor("white")
    if pixmap is not None:
        rect = thumb_rect(p)
        tail = QPainterPath()
        tail.moveTo(p)
        tail.lineTo(p.x() - 7, rect.bottom())
        tail.lineTo(p.x() + 7, rect.bottom())
        tail.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 60))
        painter.drawRoundedRect(rect.translated(1.5, 2), 7, 7)
        painter.setBrush(ring)
        painter.drawPath(tail)
        painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), 8, 8)
        painter.drawPixmap(rect.toRect(), pixmap)
        return
    r = radius(cluster.count) if cluster.count > 1 else 7.0
    painter.setPen(QPen(ring, 3 if selected else 2))
    painter.setBrush(ACCENT)
    painter.drawEllipse(p, r, r)
    if cluster.count > 1:
        painter.setPen(QColor("white"))
        box = QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, count_text(cluster.count))


def bold(font: QFont) -> QFont:
    out = QFont(font)
    out.setBold(True)
    return out


def paint_note(painter: QPainter, size: QSizeF, text: str, dark: bool) -> None:
    """The attribution, bottom right."""
    box = QRectF(painter.fontMetrics().boundingRect(text)).adjusted(-6, -2, 6, 2)
    box.moveBottomRight(QPointF(size.width() - 2, size.height() - 2))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 150) if dark else QColor(255, 255, 255, 170))
    painter.drawRect(box)
    painter.setPen(QColor("#ddd" if dark else "#333"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def paint_message(painter: QPainter, size: QSizeF, text: str) -> None:
    """A short message in the middle of the map (an empty library...)."""
    box = QRectF(painter.fontMetrics().boundingRect(text)).adjusted(-14, -8, 14, 8)
    box.moveCenter(QPointF(size.width() / 2, size.height() / 2))
    painter.setBrush(QColor(255, 255, 255, 215))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(box, 8, 8)
    painter.setPen(QColor("#333"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
