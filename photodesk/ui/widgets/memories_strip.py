"""The Memories strip over the timeline: a card per memory of today; a click plays it."""

from __future__ import annotations

import os
from datetime import date

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from photodesk.core import Library
from photodesk.ui import ops, style
from photodesk.ui.thumbs import cover_of

CARDS = 6
CARD_PX = 112
START_DELAY_MS = 1500  # after the first timeline screen: never competes with it


def today() -> date:
    """Today, or the day ``PHOTODESK_TODAY`` (YYYY-MM-DD) names: demos and screenshots."""
    try:
        return date.fromisoformat(os.environ.get("PHOTODESK_TODAY", ""))
    except ValueError:
        return date.today()


def read_cards(library: Library) -> list[tuple[str, list[int], QImage]]:
    """(title, ids, cover) of today's first memories: off the GUI thread."""
    out = []
    for m in library.memories.memories(today())[:CARDS]:
        ids = [int(i) for i in m.asset_ids]
        out.append((m.title, ids, cover_of(library, ids)))
    return out


class MemoriesStrip(QWidget):
    """Hidden until today has memories; ``open_assets(ids, 0)`` when a card is clicked."""

    open_assets = Signal(list, int)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.setObjectName("memoriesStrip")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(style.M, style.S, style.M, style.XS)
        self.row.setSpacing(style.S)
        self.heading = QLabel("Memories")
        self.heading.setObjectName("sectionTitle")
        self.row.addWidget(self.heading, 0, Qt.AlignmentFlag.AlignTop)
        self.row.addStretch(1)
        self.cards: list[QToolButton] = []
        self.hide()
        self._loaded = False

    def load_soon(self) -> None:
        if not self._loaded:
            self._loaded = True
            QTimer.singleShot(START_DELAY_MS, self.reload)

    def reload(self) -> None:
        library = self.library
        ops.query(
            self, lambda: read_cards(library), self._on_cards, lambda _exc: None, latest="cards"
        )

    def _on_cards(self, cards: list[tuple[str, list[int], QImage]]) -> None:
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        for title, ids, cover in cards:
            card = QToolButton()
            card.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            card.setIcon(QIcon(QPixmap.fromImage(cover)))
            card.setIconSize(QSize(CARD_PX, CARD_PX))
            card.setText(title)
            card.setToolTip(f"{title}: {len(ids)} photos")
            card.setAutoRaise(True)
            card.clicked.connect(lambda _=False, ids=ids: self.open_assets.emit(ids, 0))
            self.row.insertWidget(self.row.count() - 1, card)
            self.cards.append(card)
        self.setVisible(bool(cards))
