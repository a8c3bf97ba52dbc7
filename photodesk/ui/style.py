"""The look of the desktop app in one place: palette, spacing, type scale, light and dark.

Widgets never name a colour: they read ``current()`` (a ``Theme``) or the application palette,
which ``apply()`` sets from the theme. The theme follows the system's colour scheme
(``QStyleHints.colorScheme()``, Qt 6.5+) unless the "appearance/theme" setting says light or dark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

MODES = ("system", "light", "dark")
SETTING = "appearance/theme"

# Spacing scale (px): every margin and gap is one of these.
XS, S, M, L, XL = 4, 8, 12, 16, 24
RADIUS = 6  # buttons, fields, sidebar rows
SIDEBAR_WIDTH = 216

# Type scale (px).
CAPTION, BODY, SUBTITLE, TITLE, HEADLINE = 11, 13, 15, 20, 26


@dataclass(frozen=True)
class Theme:
    """Named colours (``#rrggbb`` or ``#aarrggbb``) of one appearance."""

    name: str
    window: str  # the main surface: grids, lists
    chrome: str  # sidebar, toolbar, status bar
    raised: str  # fields, buttons, menus
    text: str
    muted: str  # secondary text: counts, captions
    faint: str  # section labels, placeholders' glyphs
    border: str
    accent: str
    on_accent: str
    hover: str  # a row or button under the pointer
    selected: str  # a selected sidebar row / list row (a tint of the accent)
    placeholder: str  # a tile with no thumbnail (never black, never white)
    danger: str
    star: str
    heart: str
    viewer: str  # the viewer's stage
    viewer_bar: str
    viewer_text: str

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def color(self, role: str) -> QColor:
        return QColor(getattr(self, role))


LIGHT = Theme(
    name="light",
    window="#ffffff",
    chrome="#f4f4f6",
    raised="#ffffff",
    text="#1d1d1f",
    muted="#6e6e73",
    faint="#a1a1a6",
    border="#dcdce0",
    accent="#0a6cf0",
    on_accent="#ffffff",
    hover="#e8e8ed",
    selected="#d9e7fd",
    placeholder="#e6e6ea",
    danger="#c62828",
    star="#e0a800",
    heart="#e0245e",
    viewer="#f2f2f4",
    viewer_bar="#ffffff",
    viewer_text="#1d1d1f",
)

DARK = Theme(
    name="dark",
    window="#1c1c1e",
    chrome="#252528",
    raised="#2e2e32",
    text="#f2f2f7",
    muted="#a0a0a8",
    faint="#6c6c72",
    border="#3a3a3f",
    accent="#3d8bfd",
    on_accent="#ffffff",
    hover="#323236",
    selected="#1f3a5f",
    placeholder="#303034",
    danger="#ff6b6b",
    star="#ffc83d",
    heart="#ff4d7a",
    viewer="#111113",
    viewer_bar="#1c1c1e",
    viewer_text="#e8e8ea",
)

_current: Theme = LIGHT
_listeners: list[Callable[[Theme], None]] = []


def current() -> Theme:
    """The theme in force (light until ``apply`` runs)."""
    return _current


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def resolve(mode: str) -> Theme:
    """``"light"``, ``"dark"`` or ``"system"`` (the desktop's colour scheme) to a theme."""
    if mode == "dark":
        return DARK
    if mode == "light":
        return LIGHT
    return DARK if system_is_dark() else LIGHT


def saved_mode() -> str:
    mode = str(QSettings("photodesk", "photodesk").value(SETTING, "system"))
    return mode if mode in MODES else "system"


def save_mode(mode: str) -> None:
    QSettings("photodesk", "photodesk").setValue(SETTING, mode if mode in MODES else "system")


def palette(theme: Theme) -> QPalette:
    R = QPalette.ColorRole
    p = QPalette()
    roles = {
        R.Window: theme.chrome,
        R.WindowText: theme.text,
        R.Base: theme.window,
        R.AlternateBase: theme.chrome,
        R.ToolTipBase: theme.raised,
        R.ToolTipText: theme.text,
        R.PlaceholderText: theme.faint,
        R.Text: theme.text,
        R.Button: theme.raised,
        R.ButtonText: theme.text,
        R.BrightText: theme.danger,
        R.Highlight: theme.accent,
        R.HighlightedText: theme.on_accent,
        R.Link: theme.accent,
        R.Mid: theme.muted,
        R.Midlight: theme.hover,
        R.Dark: theme.border,
        R.Light: theme.raised,
        R.Shadow: "#000000",
    }
    for role, value in roles.items():
        p.setColor(role, QColor(value))
    for role in (R.Text, R.WindowText, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.faint))
    return p


def stylesheet(t: Theme) -> str:
    """The few rules a palette cannot say: shapes, hover, focus rings, the sidebar and toolbar."""
    return f"""
QMainWindow, QStatusBar {{ background: {t.chrome}; }}
QToolTip {{
    background: {t.raised}; color: {t.text}; border: 1px solid {t.border}; padding: {XS}px;
}}
QToolBar#mainToolbar {{
    background: {t.chrome}; border: none; border-bottom: 1px solid {t.border};
    padding: {XS}px {S}px; spacing: {S}px;
}}
QToolBar#mainToolbar QToolButton {{
    background: transparent; border: 1px solid transparent; border-radius: {RADIUS}px;
    padding: {XS}px {S}px; color: {t.text};
}}
QToolBar#mainToolbar QToolButton:hover {{ background: {t.hover}; }}
QToolBar#mainToolbar QToolButton:focus {{ border-color: {t.accent}; }}
QLineEdit#searchField {{
    background: {t.raised}; border: 1px solid {t.border}; border-radius: {RADIUS + 2}px;
    padding: {XS}px {S}px; min-height: 22px; font-size: {BODY}px;
}}
QLineEdit#searchField:focus {{ border: 2px solid {t.accent}; padding: 3px 7px; }}
QListWidget#sidebar {{
    background: {t.chrome}; border: none; border-right: 1px solid {t.border};
    padding: {S}px {XS}px; outline: none; font-size: {BODY}px;
}}
QListWidget#sidebar::item {{
    padding: 0 {S}px; border-radius: {RADIUS}px; margin: 1px {XS}px; color: {t.text};
}}
QListWidget#sidebar::item:hover {{ background: {t.hover}; }}
QListWidget#sidebar::item:selected {{ background: {t.selected}; color: {t.text}; }}
QListWidget#sidebar:focus {{ border: none; border-right: 1px solid {t.border}; }}
QListWidget#sidebar::item:focus {{ border: 1px solid {t.accent}; }}
QPushButton {{
    background: {t.raised}; color: {t.text}; border: 1px solid {t.border};
    border-radius: {RADIUS}px; padding: {XS}px {L}px;
}}
QPushButton:hover {{ background: {t.hover}; }}
QPushButton:focus {{ border: 1px solid {t.accent}; }}
QPushButton:default {{ background: {t.accent}; color: {t.on_accent}; border-color: {t.accent}; }}
QPushButton:disabled {{ color: {t.faint}; }}
QTreeView, QListView {{ background: {t.window}; border: none; outline: none; }}
QTreeView::item {{ padding: 2px 0; }}
QTreeView::item:hover, QListView::item:hover {{ background: {t.hover}; }}
QTreeView::item:selected, QListView::item:selected {{ background: {t.selected}; color: {t.text}; }}
QHeaderView::section {{
    background: {t.window}; color: {t.muted}; border: none; border-bottom: 1px solid {t.border};
    padding: {XS}px {S}px; font-size: {CAPTION}px;
}}
QSplitter::handle {{ background: {t.border}; width: 1px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
QScrollBar::handle:vertical {{
    background: {t.border}; border-radius: 4px; min-height: 32px; margin: 2px;
}}
QScrollBar::handle:vertical:hover {{ background: {t.faint}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QLabel#notice {{ color: {t.danger}; }}
QLabel#hint, QLabel#muted {{ color: {t.muted}; }}
QLabel#sectionTitle {{ font-size: {TITLE}px; font-weight: 600; }}
"""


def apply(app: QApplication, mode: str | None = None) -> Theme:
    """Set the app's style, palette and stylesheet for ``mode`` (default: the saved setting)."""
    global _current
    theme = resolve(mode or saved_mode())
    _current = theme
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")  # the one style that draws from the palette on every platform
    app.setPalette(palette(theme))
    app.setStyleSheet(stylesheet(theme))
    for listener in list(_listeners):
        listener(theme)
    return theme


def on_change(listener: Callable[[Theme], None]) -> Callable[[], None]:
    """Call ``listener(theme)`` after every ``apply``; returns the unsubscribe function."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


class FollowSystem(QObject):
    """Re-applies the theme when the desktop switches light/dark and the setting is "system"."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        hints = QGuiApplication.styleHints()
        signal = getattr(hints, "colorSchemeChanged", None)
        if signal is not None:
            signal.connect(self._on_scheme)

    def _on_scheme(self, *_: object) -> None:
        if saved_mode() == "system":
            apply(self.app)
