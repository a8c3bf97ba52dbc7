"""resources/: the icon files made from the SVG, the .desktop file and the AppStream metainfo."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from photodesk import __version__
from photodesk.cli.main import main

REPO = Path(__file__).resolve().parents[1]
RESOURCES = REPO / "resources"
APP_ID = "org.photodesk.Photodesk"


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"photodesk {__version__}"


def test_png_sizes_ico_and_icns_are_made_from_the_svg():
    ET.parse(RESOURCES / "photodesk.svg")  # well-formed
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        for path in (
            RESOURCES / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png",
            REPO / "photodesk" / "ui" / "resources" / "icons" / f"photodesk-{size}.png",
        ):
            with Image.open(path) as img:
                assert img.format == "PNG"
                assert img.size == (size, size)
                assert img.mode == "RGBA"
                assert img.getchannel("A").getextrema() == (0, 255)  # rounded, transparent corners
    with Image.open(RESOURCES / "icons" / "photodesk.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(RESOURCES / "icons" / "photodesk.icns") as icns:
        assert (512, 512, 2) in icns.info["sizes"]
        assert (16, 16, 2) in icns.info["sizes"] or (16, 16, 1) in icns.info["sizes"]


def test_desktop_entry_names_the_command_and_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(RESOURCES / f"{APP_ID}.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] == "photodesk"
    assert desktop["Icon"] == APP_ID
    assert "Photography" in desktop["Categories"].split(";")


def test_metainfo_matches_the_desktop_file_and_the_version():
    root = ET.parse(RESOURCES / f"{APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    releases = [r.get("version") for r in root.iter("release")]
    assert __version__ in releases


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils absent")
def test_desktop_file_validates():
    proc = subprocess.run(
        ["desktop-file-validate", str(RESOURCES / f"{APP_ID}.desktop")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in (proc.stdout + proc.stderr).lower()


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream (appstreamcli) absent")
def test_metainfo_validates():
    proc = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(RESOURCES / f"{APP_ID}.metainfo.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
