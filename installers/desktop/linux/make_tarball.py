"""Pack the Linux bundle with its desktop integration: ``dist/photodesk-VERSION-linux-ARCH.tar.gz``.

    python installers/desktop/linux/make_tarball.py dist/photodesk

The tarball holds ``photodesk/`` (the PyInstaller folder), ``share/`` (the .desktop file, the
AppStream metainfo and the hicolor icons from resources/) and ``install.sh``, which installs it for
the user (``~/.local``) or, with ``--system``, in /opt. An AppImage needs appimagetool, which is
not a package here; this tarball is the Linux download instead.
"""

from __future__ import annotations

import platform
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
RESOURCES = REPO / "resources"
APP_ID = "org.photodesk.Photodesk"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "photodesk").is_file():
        print("usage: make_tarball.py DIST/photodesk (the folder `make bundle` built)")
        return 2
    bundle = Path(argv[0]).resolve()
    sys.path.insert(0, str(REPO))
    from photodesk import __version__

    name = f"photodesk-{__version__}-linux-{platform.machine()}"
    out = bundle.parent / f"{name}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=f"{name}/photodesk")
        tar.add(HERE / "install.sh", arcname=f"{name}/install.sh")
        tar.add(
            RESOURCES / f"{APP_ID}.desktop", arcname=f"{name}/share/applications/{APP_ID}.desktop"
        )
        tar.add(
            RESOURCES / f"{APP_ID}.metainfo.xml",
            arcname=f"{name}/share/metainfo/{APP_ID}.metainfo.xml",
        )
        tar.add(RESOURCES / "icons" / "hicolor", arcname=f"{name}/share/icons/hicolor")
    print(f"make_tarball: {out} ({out.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
