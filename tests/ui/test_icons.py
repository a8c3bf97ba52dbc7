"""Icons: drawn by qtawesome once, then shown from the cache on every later start (without
importing qtawesome, a quarter of a second of each start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("qtawesome")

SHOW = r"""
import json, sys
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication
app = QApplication([])
from photodesk.ui import icons
out = {}
for name, size in (("albums", 18), ("search", 36)):
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected):
        canvas = QPixmap(size, size)
        canvas.fill(0)
        painter = QPainter(canvas)
        icons.icon(name, "#202020", "#0a64d8").paint(painter, canvas.rect(), mode=mode)
        painter.end()
        image = canvas.toImage()
        out[f"{name}-{size}-{mode.name}"] = [
            [image.pixelColor(x, y).name(QColor.NameFormat.HexArgb) for x in range(size)]
            for y in range(size)
        ]
out["qtawesome imported"] = "qtawesome" in sys.modules
print(json.dumps(out))
"""


def show_icons(cache: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def inked(pixels: list[list[str]], colour: str) -> int:
    return sum(1 for row in pixels for p in row if p == f"#ff{colour}")


def test_a_later_start_shows_the_same_icons_without_qtawesome(tmp_path: Path) -> None:
    first = show_icons(tmp_path)
    assert first.pop("qtawesome imported") is True  # nothing cached yet: qtawesome drew them
    for key, pixels in first.items():
        assert isinstance(pixels, list)
        colour = "0a64d8" if key.endswith("Selected") else "202020"
        assert inked(pixels, colour) > 10, f"{key}: the glyph is not drawn in its colour"
    assert first["albums-18-Normal"] != first["albums-18-Selected"]
    assert list((tmp_path / "photodesk" / "icons").glob("*/*.png"))

    later = show_icons(tmp_path)
    assert later.pop("qtawesome imported") is False
    assert later == first  # pixel for pixel


def test_a_damaged_or_unwritable_cache_only_costs_speed(tmp_path: Path) -> None:
    first = show_icons(tmp_path)
    first.pop("qtawesome imported")
    files = list((tmp_path / "photodesk" / "icons").glob("*/*.png"))
    for file in files:
        file.write_bytes(b"\x89PNG broken")
    redrawn = show_icons(tmp_path)
    assert redrawn.pop("qtawesome imported") is True
    assert redrawn == first

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go")
    drawn = show_icons(blocked)
    drawn.pop("qtawesome imported")
    assert drawn == first
