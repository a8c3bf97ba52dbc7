"""Shared fixtures: the read-only corpus, a fresh library, and camera-like generated photos."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

# GUI tests render offscreen: there is no display in CI (and none is needed anywhere).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
# Small permissively licensed photos kept in the repository (tests/data/README.md: their origin).
DATA = ROOT / "tests" / "data"


def corpus_path() -> Path:
    """The shared real-photo corpus: ``$PHOTODESK_TEST_CORPUS``, else ``../shared/corpus``."""
    configured = os.environ.get("PHOTODESK_TEST_CORPUS")
    if configured:
        return Path(configured).resolve()
    return (ROOT / ".." / "shared" / "corpus").resolve()


CORPUS = corpus_path()


def require_corpus() -> Path:
    """The corpus, or skip with one clear reason (a fresh clone passes with and without it)."""
    if not (CORPUS / "exiftool.json").is_file():
        reason = (
            f"the shared photo corpus is not at {CORPUS} "
            "(set PHOTODESK_TEST_CORPUS or put it at ../shared/corpus)"
        )
        pytest.skip(reason)
    return CORPUS


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-photo corpus (read-only); absent, its tests skip with one reason."""
    return require_corpus()


@pytest.fixture(scope="session", params=["data", "corpus"])
def photo_set(request: pytest.FixtureRequest) -> Path:
    """A folder of photos with ExifTool's ground truth beside them (exiftool.json, MANIFEST.tsv):
    tests/data always, then the shared corpus when it is there."""
    return DATA if request.param == "data" else require_corpus()


@pytest.fixture(scope="session")
def data() -> Path:
    """The small photo set in tests/data: always there, so format, metadata and face tests run."""
    return DATA


@pytest.fixture
def library(tmp_path: Path) -> Iterator[object]:
    from photodesk.core import Library

    lib = Library.open(tmp_path / "lib")
    try:
        yield lib
    finally:
        lib.close()


def _rational(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1_000_000)


def make_jpeg(
    path: Path,
    *,
    size: tuple[int, int] = (120, 80),
    when: str | None = "2023:07:04 10:15:00",
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
    make: str | None = "Canon",
    model: str | None = "Canon EOS 6D",
    orientation: int | None = None,
    seed: int = 0,
    quality: int = 90,
) -> Path:
    """A small JPEG with camera-like EXIF; ``seed`` changes the pixels (and so the checksum)."""
    img = Image.new("RGB", size, (40 + seed * 37 % 200, 90, 160))
    draw = ImageDraw.Draw(img)
    # The square moves with the seed: photos of different seeds do not look alike (a burst of
    # look-alikes taken in the same second would be stacked at import).
    rnd = random.Random(seed)
    for _ in range(3):
        x, y = rnd.randrange(size[0] * 3 // 4), rnd.randrange(size[1] * 3 // 4)
        draw.rectangle((x, y, x + size[0] // 4, y + size[1] // 4), fill=(230, 200, 40))
    draw.text((2, 2), str(seed), fill=(255, 255, 255))
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if orientation:
        exif[0x0112] = orientation
    ifd = exif.get_ifd(0x8769)
    if when:
        ifd[0x9003] = when  # DateTimeOriginal
        ifd[0x9004] = when  # CreateDate
    if offset:
        ifd[0x9011] = offset  # OffsetTimeOriginal
    if gps:
        lat, lon = gps
        g = exif.get_ifd(0x8825)
        g[1] = "N" if lat >= 0 else "S"
        g[2] = tuple(_rational(x) for x in _dms(abs(lat)))
        g[3] = "E" if lon >= 0 else "W"
        g[4] = tuple(_rational(x) for x in _dms(abs(lon)))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=quality, exif=exif.tobytes())
    return path


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return float(d), float(m), round(s, 4)


def make_video(
    path: Path,
    *,
    seconds: float = 1.0,
    size: tuple[int, int] = (160, 120),
    creation_time: str | None = "2022-08-01T17:30:00.000000Z",
    fmt: str | None = None,
) -> Path:
    """A small real video (MPEG-4 part 2) written with PyAV, with a QuickTime creation time."""
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    fps = 10
    with av.open(str(path), "w", format=fmt) as container:
        if creation_time:
            container.metadata["creation_time"] = creation_time
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(max(1, int(seconds * fps))):
            arr = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            arr[:, : (i * 7) % size[0]] = (200, 80, 40)
            arr[size[1] // 2 :, :] += 40
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A PostgreSQL server of this test session (tests/pg_server.py), with a migrated template
    database: ``postgres.create_database(postgres.template)`` is a fresh catalog in milliseconds.
    Skips when no server binaries are installed."""
    from tests.pg_server import MISSING, PgServer, find_bin

    bindir = find_bin()
    if bindir is None:
        pytest.skip(MISSING)
    server = PgServer(bindir).start()
    try:
        server.template = _migrated_template(server)  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


def _migrated_template(server: object) -> str:
    import tempfile

    from photodesk.core import Library

    url = server.create_database()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as folder, Library.open(Path(folder), database=url):
        pass
    return url.rsplit("/", 1)[1]
