"""Render every icon file from ``resources/photodesk.svg``: ``python resources/make_icons.py``.

Writes, next to this script, ``icons/hicolor/<N>x<N>/apps/<APP_ID>.png`` for the freedesktop icon
theme, ``icons/photodesk.ico`` (Windows: 16-256 px in one file) and ``icons/photodesk.icns``
(macOS); and copies the SVG and the PNG sizes into ``photodesk/ui/resources/icons/``, the package
data the installed app loads its window and about-box icon from. Rasterised with Qt's
QSvgRenderer (PySide6, already a dependency), packed with Pillow. Run it after editing the SVG and
commit the results.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVG = HERE / "photodesk.svg"
APP_ID = "org.photodesk.Photodesk"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
PACKAGE_ICONS = HERE.parent / "photodesk" / "ui" / "resources" / "icons"


def render(svg: bytes, size: int) -> bytes:
    """The SVG drawn at ``size`` x ``size`` pixels, as PNG bytes (antialiased, transparent)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["make_icons", "-platform", "offscreen"])
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {SVG} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def main() -> int:
    from PIL import Image

    svg = SVG.read_bytes()
    pngs = {size: render(svg, size) for size in SIZES}
    out = HERE / "icons"
    PACKAGE_ICONS.mkdir(parents=True, exist_ok=True)
    for size, data in pngs.items():
        theme = out / "hicolor" / f"{size}x{size}" / "apps"
        theme.mkdir(parents=True, exist_ok=True)
        (theme / f"{APP_ID}.png").write_bytes(data)
        (PACKAGE_ICONS / f"photodesk-{size}.png").write_bytes(data)
    scalable = out / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, scalable / f"{APP_ID}.svg")
    shutil.copyfile(SVG, PACKAGE_ICONS / "photodesk.svg")

    images = {size: Image.open(io.BytesIO(data)).convert("RGBA") for size, data in pngs.items()}
    # Each .ico entry from its own rendering (Pillow would otherwise downscale the largest).
    largest = images[max(ICO_SIZES)]
    largest.save(
        out / "photodesk.ico",
        format="ICO",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[images[s] for s in ICO_SIZES if s != max(ICO_SIZES)],
    )
    images[512].save(
        out / "photodesk.icns",
        format="ICNS",
        append_images=[images[s] for s in (16, 32, 64, 128, 256)],
    )
    print(f"make_icons: {len(SIZES)} PNG sizes, photodesk.ico, photodesk.icns in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
