"""A full-window slideshow of previews; each photo is decoded off the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from photodesk.core import Library
from photodesk.ui import ops, style

SECONDS = 4


def _load(library: Library, asset_id: int) -> QImage | None:
    path = library.assets.thumbnail_path(asset_id, preview=True) or library.assets.thumbnail_path(
        asset_id
    )
    image = QImage(str(path)) if path is not None else QImage()
    return None if image.isNull() else image


class Slideshow(QWidget):
    """Space pauses, arrows step, Esc closes; ``start(library, ids, parent)`` shows one."""

    def __init__(self, library: Library, ids: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Slideshow")
        self.library, self.ids, self.index = library, ids, 0
        self.image: QImage | None = None
        self.timer = QTimer(self, interval=SECONDS * 1000)
        self.timer.timeout.connect(lambda: self.step(1))
        self._gen = 0

    @classmethod
    def start(cls, library: Library, ids: list[int], parent: QWidget | None) -> Slideshow | None:
        if not ids:
            return None
        show = cls(library, ids, parent)
        show.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        show.showFullScreen()
        show.step(0)
        show.timer.start()
        return show

    def step(self, by: int) -> None:
        self.index = (self.index + by) % len(self.ids)
        self._gen += 1
        gen, asset_id = self._gen, self.ids[self.index]
        ops.query(self, lambda: _load(self.library, asset_id), lambda img: self._shown(gen, img))

    def _shown(self, gen: int, image: QImage | None) -> None:
        if gen == self._gen:
            self.image = image
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        theme = style.current()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.viewer))
        if self.image is not None:
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(self.rect().center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self.image)
        painter.setPen(QColor(theme.muted))
        painter.drawText(
            self.rect().adjusted(0, 0, -style.L, -style.M),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
            f"{self.index + 1} of {len(self.ids)}" + ("" if self.timer.isActive() else " · paused"),
        )
        painter.end()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.close()
        elif key == Qt.Key.Key_Space:
            self.timer.stop() if self.timer.isActive() else self.timer.start()
            self.update()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Left):
            self.step(1 if key == Qt.Key.Key_Right else -1)
            self.timer.start()  # a full interval on the photo stepped to
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: object) -> None:
        self.step(1)
